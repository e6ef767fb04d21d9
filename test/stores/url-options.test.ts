import { describe, expect, it } from "vitest";
import { SessiondError } from "../../src/core/errors.js";
import { parseMysqlUrl } from "../../src/stores/private/mysql-options.js";
import { parsePostgresUrl } from "../../src/stores/private/postgres-options.js";
import { parseRedisUrl } from "../../src/stores/private/redis-connect.js";
import { StoreUrlOptions } from "../../src/stores/url-options.js";
import { openStore } from "../../src/stores/open.js";

function failure(call: () => unknown): SessiondError {
  try {
    call();
  } catch (error) {
    expect(error).toBeInstanceOf(SessiondError);
    return error as SessiondError;
  }
  throw new Error("expected an error");
}

describe("StoreUrlOptions", () => {
  it("reads booleans as true/false/1/0 and nothing else, naming the option", () => {
    const options = new StoreUrlOptions("a=true&b=1&c=false&d=0&e=yes", ["a", "b", "c", "d", "e"]);
    expect([options.boolean("a"), options.boolean("b"), options.boolean("c"), options.boolean("d"), options.boolean("x")]).toEqual([
      true,
      true,
      false,
      false,
      undefined,
    ]);
    const error = failure(() => options.boolean("e"));
    expect(error.kind).toBe("invalid_argument");
    expect(error.message).toBe('store: e: must be true, false, 1 or 0, not "yes"');
  });

  it("reads bounded integers and choices", () => {
    const options = new StoreUrlOptions("n=5&m=1.5&k=two&c=full", ["n", "m", "k", "c"]);
    expect(options.integer("n", 1, 10)).toBe(5);
    expect(failure(() => options.integer("n", 6, 10)).message).toBe('store: n: must be an integer from 6 to 10, not "5"');
    expect(failure(() => options.integer("m", 0)).message).toContain("store: m:");
    expect(failure(() => options.integer("k", 0)).message).toContain("store: k:");
    expect(options.choice("c", ["full", "normal"])).toBe("full");
    expect(failure(() => new StoreUrlOptions("c=x", ["c"]).choice("c", ["full", "normal"])).message).toBe('store: c: must be full, normal, not "x"');
  });

  it("rejects unknown options unless they are the driver's", () => {
    expect(failure(() => new StoreUrlOptions("colour=red", ["a"])).message).toContain('"colour"');
    const passing = new StoreUrlOptions("a=1&application_name=x", ["a"], { passUnknown: true });
    expect(passing.unknown().toString()).toBe("application_name=x");
  });
});

describe("every store reads the shared options the same way", () => {
  it("takes auto_migrate as true/false/1/0 everywhere", () => {
    for (const value of ["true", "1"]) {
      expect(parsePostgresUrl(`postgres://db/app?auto_migrate=${value}`).autoMigrate).toBe(true);
      expect(parseMysqlUrl(`mysql://h/db?auto_migrate=${value}`).autoMigrate).toBe(true);
    }
    for (const value of ["false", "0"]) {
      expect(parsePostgresUrl(`postgres://db/app?auto_migrate=${value}`).autoMigrate).toBe(false);
      expect(parseMysqlUrl(`mysql://h/db?auto_migrate=${value}`).autoMigrate).toBe(false);
    }
    expect(failure(() => parsePostgresUrl("postgres://db/app?auto_migrate=no")).message).toContain("store: auto_migrate:");
    expect(failure(() => parseMysqlUrl("mysql://h/db?auto_migrate=no")).message).toContain("store: auto_migrate:");
  });

  it("names the same options alike in errors", () => {
    expect(failure(() => parsePostgresUrl("postgres://db/app?max=0")).message).toContain("store: max:");
    expect(failure(() => parseMysqlUrl("mysql://h/db?max=0")).message).toContain("store: max:");
    expect(failure(() => parseMysqlUrl("mysql://h/db?colour=red")).message).toContain('"colour"');
    expect(failure(() => parseRedisUrl("redis://h?colour=red")).message).toContain('"colour"');
  });

  it("rejects bad SQLite options before touching the file", async () => {
    await expect(openStore("sqlite:/nonexistent-dir/x.db?auto_migrate=no")).rejects.toMatchObject({
      kind: "invalid_argument",
      message: expect.stringContaining("store: auto_migrate:"),
    });
    await expect(openStore("sqlite:/nonexistent-dir/x.db?colour=red")).rejects.toMatchObject({ message: expect.stringContaining('"colour"') });
    await expect(openStore("sqlite:/nonexistent-dir/x.db?synchronous=off")).rejects.toMatchObject({ message: expect.stringContaining("store: synchronous:") });
  });
});
