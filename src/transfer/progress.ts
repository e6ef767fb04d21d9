/** Where a long-running copy reports how far it got. */
export interface Progress {
  /** Called once the number of sessions to go through is known. */
  start(totalSessions: number, doneSessions: number): void;
  /** Called after each finished session with running totals. */
  update(doneSessions: number, copiedEvents: number): void;
  /** Called once at the end, also after an interruption. */
  finish(doneSessions: number, copiedEvents: number): void;
}

/** Reports nothing. */
export const silentProgress: Progress = { start() {}, update() {}, finish() {} };

/** The writable side of a terminal or pipe. */
export interface OutputStream {
  write(chunk: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

/**
 * A bar redrawn in place on a terminal; plain lines elsewhere (logs, pipes),
 * one per twentieth of the work and one at the end, so a log stays short.
 */
export function progressFor(stream: OutputStream, label: string): Progress {
  return stream.isTTY ? barProgress(stream, label) : lineProgress(stream, label);
}

function lineProgress(stream: OutputStream, label: string): Progress {
  let total = 0;
  let step = 1;
  let nextAt = 0;
  return {
    start(totalSessions, doneSessions) {
      total = totalSessions;
      step = Math.max(1, Math.ceil(totalSessions / 20));
      nextAt = doneSessions + step;
      stream.write(`${label}: ${totalSessions} sessions${doneSessions > 0 ? `, resuming after ${doneSessions}` : ""}\n`);
    },
    update(done, events) {
      if (done < nextAt) return;
      nextAt = done + step;
      stream.write(`${label}: ${done}/${total} sessions, ${events} events\n`);
    },
    finish(done, events) {
      stream.write(`${label}: done, ${done}/${total} sessions, ${events} events\n`);
    },
  };
}

function barProgress(stream: OutputStream, label: string): Progress {
  let total = 0;
  let last = 0;
  const draw = (done: number, events: number) => {
    const width = Math.max(10, Math.min(40, (stream.columns ?? 80) - 60));
    const filled = total === 0 ? width : Math.round((done / total) * width);
    stream.write(`\r${label} [${"#".repeat(filled)}${"-".repeat(width - filled)}] ${done}/${total} sessions, ${events} events`);
  };
  return {
    start(totalSessions, doneSessions) {
      total = totalSessions;
      draw(doneSessions, 0);
    },
    update(done, events) {
      const now = Date.now();
      if (now - last < 100 && done < total) return;
      last = now;
      draw(done, events);
    },
    finish(done, events) {
      draw(done, events);
      stream.write("\n");
    },
  };
}
