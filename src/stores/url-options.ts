import { invalidArgument } from "../core/errors.js";

/**
 * A store URL's query parameters, read by the same rules in every store:
 * the same names for the same things (`table_prefix`, `auto_migrate`, `max`,
 * `idle_timeout`, `max_lifetime`), booleans as `true`/`false`/`1`/`0`, and
 * errors that name the option. Unknown options are an error unless the store
 * hands them on to its driver (`passUnknown`).
 */
export class StoreUrlOptions {
  private readonly params: URLSearchParams;

  constructor(
    query: string | URLSearchParams,
    private readonly known: readonly string[],
    options: { passUnknown?: boolean } = {},
  ) {
    this.params = new URLSearchParams(query);
    if (options.passUnknown) return;
    for (const name of this.params.keys()) {
      if (!known.includes(name)) throw invalidArgument(`store: ${name}`, `unknown option ${JSON.stringify(name)}; known: ${known.join(", ")}`);
    }
  }

  /** The raw value, or undefined when absent. */
  string(name: string): string | undefined {
    return this.params.get(name) ?? undefined;
  }

  /** `true`/`1` or `false`/`0`; undefined when absent. */
  boolean(name: string): boolean | undefined {
    const value = this.string(name);
    if (value === undefined) return undefined;
    if (value === "true" || value === "1") return true;
    if (value === "false" || value === "0") return false;
    throw this.bad(name, "must be true, false, 1 or 0", value);
  }

  /** An integer within [min, max]; undefined when absent. */
  integer(name: string, min: number, max = Number.MAX_SAFE_INTEGER): number | undefined {
    const value = this.string(name);
    if (value === undefined) return undefined;
    const n = Number(value);
    if (value.trim() === "" || !Number.isSafeInteger(n) || n < min || n > max) {
      throw this.bad(name, max === Number.MAX_SAFE_INTEGER ? `must be an integer of at least ${min}` : `must be an integer from ${min} to ${max}`, value);
    }
    return n;
  }

  /** One of `choices`; undefined when absent. */
  choice<T extends string>(name: string, choices: readonly T[]): T | undefined {
    const value = this.string(name);
    if (value === undefined) return undefined;
    if (!(choices as readonly string[]).includes(value)) throw this.bad(name, `must be ${choices.join(", ")}`, value);
    return value as T;
  }

  /** The parameters this store does not know, for its driver. */
  unknown(): URLSearchParams {
    const rest = new URLSearchParams(this.params);
    for (const name of this.known) rest.delete(name);
    return rest;
  }

  private bad(name: string, rule: string, value: string) {
    return invalidArgument(`store: ${name}`, `${rule}, not ${JSON.stringify(value)}`);
  }
}
