import { isIP } from "node:net";

/** True for addresses only this machine can reach: localhost, 127.0.0.0/8, ::1. */
export function isLoopback(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, "").toLowerCase();
  if (h === "localhost" || h === "::1" || h === "0:0:0:0:0:0:0:1") return true;
  if (isIP(h) === 4) return h.startsWith("127.");
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(h);
  return mapped ? mapped[1]!.startsWith("127.") : false;
}

/**
 * Refuses to serve without authentication on an address other machines can
 * reach, unless the operator says so explicitly with `insecure`.
 */
export function checkBindPolicy(options: { host: string; keyCount: number; insecure: boolean }): void {
  if (options.keyCount > 0 || options.insecure || isLoopback(options.host)) return;
  throw new Error(
    `refusing to serve on ${options.host} without authentication: configure API keys ` +
      `(--auth-keys FILE, SESSIOND_AUTH_KEYS_FILE or SESSIOND_API_KEYS), bind to 127.0.0.1, ` +
      `or pass --insecure to serve without keys anyway`,
  );
}
