import { Code, ConnectError, type ServiceImpl } from "@connectrpc/connect";
import { Health, HealthCheckResponse_ServingStatus as ServingStatus } from "../../gen/grpc/health/v1/health_pb.js";
import type { Store } from "../stores/store.js";

/** How the store is probed. */
export interface HealthMonitorOptions {
  store: Store;
  /** Service names reported besides the overall status "". */
  services: string[];
  /**
   * Time between background probes; default 500, so that health turns
   * NOT_SERVING within a second of an outage and SERVING within a second of
   * the store's return.
   */
  intervalMs?: number;
  /** A ping slower than this counts as a failure; default 750. */
  timeoutMs?: number;
  /** Told when the status flips, with the ping's error when it became unhealthy. */
  onChange?: (serving: boolean, error?: unknown) => void;
}

/**
 * Tracks whether the server can do its work, which is whether the store
 * answers `ping()`. Probes run in the background and on every Check; the
 * status of "" and of every listed service follows the same probe, because
 * every service depends on the one store.
 */
export class HealthMonitor {
  private serving = false;
  private stopped = false;
  private timer: NodeJS.Timeout | undefined;
  private inFlight: Promise<boolean> | undefined;
  private readonly listeners = new Set<() => void>();
  private readonly names: Set<string>;

  constructor(private readonly options: HealthMonitorOptions) {
    this.names = new Set(["", ...options.services]);
  }

  /** Runs the first probe and schedules the next ones. */
  async start(): Promise<void> {
    await this.probe();
    this.timer = setInterval(() => void this.probe(), this.options.intervalMs ?? 500);
    this.timer.unref();
  }

  /** Reports NOT_SERVING from now on (the server drains) and ends Watch streams. */
  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.stopped = true;
    this.set(false);
    this.notify();
  }

  /** Pings the store now (sharing a ping already under way); resolves to the new status. */
  probe(): Promise<boolean> {
    if (this.stopped) return Promise.resolve(false);
    this.inFlight ??= this.ping().finally(() => (this.inFlight = undefined));
    return this.inFlight;
  }

  /** Whether the last probe reached the store (false once stopped). */
  get isServing(): boolean {
    return this.serving;
  }

  /** The status of a service name, or undefined when the name is not served. */
  statusOf(service: string): ServingStatus | undefined {
    if (!this.names.has(service)) return undefined;
    return this.serving ? ServingStatus.SERVING : ServingStatus.NOT_SERVING;
  }

  /** Every reported name with its status. */
  statuses(): Map<string, ServingStatus> {
    return new Map([...this.names].map((name) => [name, this.statusOf(name)!]));
  }

  /** The current status, then each change, until `signal` aborts or the monitor stops. */
  async *watch(service: string, signal: AbortSignal): AsyncGenerator<ServingStatus> {
    let last: ServingStatus | undefined;
    while (!signal.aborted) {
      const current = this.statusOf(service) ?? ServingStatus.SERVICE_UNKNOWN;
      if (current !== last) yield (last = current);
      if (this.stopped) return;
      await this.nextChange(signal);
    }
  }

  private async ping(): Promise<boolean> {
    const { store, timeoutMs = 750 } = this.options;
    if (!store.ping) return this.set(true);
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`store did not answer within ${timeoutMs} ms`)), timeoutMs);
    });
    try {
      await Promise.race([store.ping(), timeout]);
      return this.set(true);
    } catch (error) {
      return this.set(false, error);
    } finally {
      clearTimeout(timer);
    }
  }

  private set(serving: boolean, error?: unknown): boolean {
    if (this.stopped) serving = false;
    if (serving !== this.serving) {
      this.serving = serving;
      this.options.onChange?.(serving, error);
      this.notify();
    }
    return serving;
  }

  private notify() {
    for (const listener of [...this.listeners]) listener();
  }

  private nextChange(signal: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        this.listeners.delete(done);
        signal.removeEventListener("abort", done);
        resolve();
      };
      this.listeners.add(done);
      signal.addEventListener("abort", done, { once: true });
    });
  }
}

/** The grpc.health.v1.Health service over a monitor. */
export function healthService(monitor: HealthMonitor): ServiceImpl<typeof Health> {
  return {
    async check(req) {
      await monitor.probe();
      const status = monitor.statusOf(req.service);
      if (status === undefined) throw new ConnectError(`service ${JSON.stringify(req.service)}: unknown`, Code.NotFound);
      return { status };
    },

    async list() {
      const statuses: Record<string, { status: ServingStatus }> = {};
      for (const [name, status] of monitor.statuses()) statuses[name] = { status };
      return { statuses };
    },

    async *watch(req, ctx) {
      for await (const status of monitor.watch(req.service, ctx.signal)) yield { status };
    },
  };
}

export { Health, ServingStatus };
