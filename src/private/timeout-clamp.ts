/** Node's timers hold at most 2^31-1 ms (24.8 days); longer deadlines are clamped to it. */
export const MAX_TIMER_MS = 2 ** 31 - 1;

const GRPC_TIMEOUT_UNIT_MS: Record<string, number> = { H: 3_600_000, M: 60_000, S: 1000, m: 1, u: 0.001, n: 0.000001 };

/** A `grpc-timeout` value longer than a timer holds, as the longest one that fits; others unchanged. */
export function clampGrpcTimeout(value: string | null): string | null {
  const match = value === null ? null : /^(\d{1,8})([HMSmun])$/.exec(value);
  if (match && Number(match[1]) * GRPC_TIMEOUT_UNIT_MS[match[2]!]! > MAX_TIMER_MS) return `${Math.floor(MAX_TIMER_MS / 60_000)}M`;
  return value;
}

/** A `connect-timeout-ms` value longer than a timer holds, as the longest one that fits; others unchanged. */
export function clampConnectTimeout(value: string | null): string | null {
  if (value !== null && /^\d{1,10}$/.test(value) && Number(value) > MAX_TIMER_MS) return String(MAX_TIMER_MS);
  return value;
}
