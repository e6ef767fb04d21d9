import { pino, type DestinationStream } from "pino";

/** pino's level number of `error`: lines at or above it are written at once. */
const ERROR_LEVEL = 50;
/** Set on a destination, pino records each line's level in `lastLevel` before writing it. */
const WANTS_LEVEL: unique symbol = Symbol.for("pino.metadata") as never;

/** Destinations with lines waiting, written out when the process exits. */
const waiting = new Set<BatchedDestination>();
let exitHooked = false;

function flushAtExit(): void {
  if (exitHooked) return;
  exitHooked = true;
  process.once("exit", () => {
    for (const destination of waiting) destination.flush();
  });
}

/**
 * A pino destination that writes the lines logged during one turn of the
 * event loop with one synchronous write, after the turn's calls have sent
 * their responses: busy servers log a line per call, and a write per line
 * was a tenth of a call's CPU time. Errors and anything above go out at
 * once, with the lines before them; lines still waiting are written when
 * the process exits. A process killed outright loses at most the current
 * turn's lines, which a write per line would also lose if killed a moment
 * earlier.
 */
export class BatchedDestination implements DestinationStream {
  readonly [WANTS_LEVEL] = true;
  lastLevel = 0;
  private lines: string[] = [];
  private scheduled = false;

  constructor(private readonly sink: DestinationStream) {
    flushAtExit();
  }

  write(line: string): void {
    this.lines.push(line);
    if (this.lastLevel >= ERROR_LEVEL) {
      this.flush();
      return;
    }
    if (this.scheduled) return;
    this.scheduled = true;
    waiting.add(this);
    setImmediate(this.flush);
  }

  /** Writes the waiting lines now. */
  readonly flush = (): void => {
    this.scheduled = false;
    waiting.delete(this);
    if (this.lines.length === 0) return;
    const text = this.lines.length === 1 ? this.lines[0]! : this.lines.join("");
    this.lines = [];
    this.sink.write(text);
  };
}

/**
 * Batched, synchronous writes of log lines to a file descriptor or path
 * (stdout by default); see {@link BatchedDestination}.
 */
export function batchedDestination(dest: number | string = 1): BatchedDestination {
  return new BatchedDestination(pino.destination({ dest, sync: true }));
}
