import { invalidArgument } from "./errors.js";
import { limits } from "./limits.js";
import type { JsonValue } from "./types.js";

/**
 * What sessiond accepts as JSON, so that every value it stores can be
 * stored by every store and read back over every protocol:
 * - numbers are finite (JSON has no NaN or Infinity);
 * - objects and arrays nest at most {@link limits.maxJsonDepth} deep;
 * - strings and keys are well-formed Unicode (no lone surrogate, which
 *   UTF-8 cannot encode) and hold no U+0000, which PostgreSQL cannot store.
 * A value that breaks a rule is rejected with INVALID_ARGUMENT naming the
 * path to it, e.g. `events[0].content.parts[2].x`.
 */

// ES2024's String.prototype.isWellFormed, which Node.js 20+ has; the compiler's lib stops at ES2023.
const isWellFormed = (String.prototype as unknown as { isWellFormed(this: string): boolean }).isWellFormed;

/** Why a string cannot be stored, or undefined when it can. */
export function textProblem(value: string): string | undefined {
  if (!isWellFormed.call(value)) return "holds a lone UTF-16 surrogate, which is not Unicode text";
  if (value.includes("\u0000")) return "holds U+0000, which cannot be stored";
  return undefined;
}

/** Throws INVALID_ARGUMENT naming `field` when `value` is not a string sessiond can store. */
export function checkStorableText(field: string, value: string): string {
  const problem = textProblem(value);
  if (problem) throw invalidArgument(field, problem);
  return value;
}

/** Throws INVALID_ARGUMENT naming the offending path when `value` breaks a rule above. */
export function checkJson<T extends JsonValue | undefined>(field: string, value: T): T {
  if (value !== undefined) walk(field, value, []);
  return value;
}

// `trail` holds the keys and indices down to `value` (its length is the depth); the
// path is spelled out only for an error, so valid input, the common case on every
// append, costs no strings.
function walk(field: string, value: unknown, trail: (string | number)[]): void {
  switch (typeof value) {
    case "string": {
      const problem = textProblem(value);
      if (problem) throw invalidArgument(pathOf(field, trail), problem);
      return;
    }
    case "number":
      if (!Number.isFinite(value)) throw invalidArgument(pathOf(field, trail), `is ${String(value)}; JSON numbers must be finite`);
      return;
    case "boolean":
      return;
    case "object":
      if (value === null) return;
      if (trail.length + 1 > limits.maxJsonDepth) {
        throw invalidArgument(pathOf(field, trail), `nests objects and arrays more than ${limits.maxJsonDepth} deep`);
      }
      if (Array.isArray(value)) {
        for (let i = 0; i < value.length; i++) {
          trail.push(i);
          walk(field, value[i], trail);
          trail.pop();
        }
        return;
      }
      for (const key of Object.keys(value)) {
        trail.push(key);
        const problem = textProblem(key);
        if (problem) throw invalidArgument(pathOf(field, trail), `key ${problem}`);
        walk(field, (value as Record<string, unknown>)[key], trail);
        trail.pop();
      }
      return;
    default:
      throw invalidArgument(pathOf(field, trail), `is not a JSON value (${typeof value})`);
  }
}

function pathOf(field: string, trail: readonly (string | number)[]): string {
  let path = field;
  for (const step of trail) path = typeof step === "number" ? `${path}[${step}]` : keyPath(path, step);
  return path;
}

const PLAIN_KEY = /^[A-Za-z_$][\w$]*$/;
const MAX_KEY_SHOWN = 40;

/** The path to `key` inside `parent`; long keys are cut: the path locates a value, it does not echo content. */
export function keyPath(parent: string, key: string): string {
  if (PLAIN_KEY.test(key) && key.length <= MAX_KEY_SHOWN) return `${parent}.${key}`;
  const shown = key.length <= MAX_KEY_SHOWN ? key : `${key.slice(0, MAX_KEY_SHOWN)}…`;
  return `${parent}[${JSON.stringify(shown)}]`;
}
