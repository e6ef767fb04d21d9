import type { ServerLogger } from "../server.js";

/** One JSON object per line on stdout: time, level, message and fields. */
export function jsonLogger(stream: NodeJS.WritableStream = process.stdout): ServerLogger {
  const write = (level: string, msg: string, fields?: Record<string, unknown>) =>
    stream.write(`${JSON.stringify({ time: new Date().toISOString(), level, msg, ...fields })}\n`);
  return {
    info: (msg, fields) => write("info", msg, fields),
    error: (msg, fields) => write("error", msg, fields),
  };
}
