import { createHash, timingSafeEqual } from "node:crypto";
import { readFile } from "node:fs/promises";

/** What a key may do: read ⊂ write ⊂ admin. */
export type Role = "read" | "write" | "admin";

const ROLES: readonly Role[] = ["read", "write", "admin"];

/** The holder of an API key, as the server sees it after authentication. */
export interface Principal {
  /** A label for logs; never the key itself. */
  readonly name: string;
  readonly role: Role;
  /** App names the key may touch; "*" for any. */
  readonly apps: ReadonlySet<string> | "*";
}

/** One key of a keys file or of SESSIOND_API_KEYS. */
export interface ApiKeyEntry {
  name?: string;
  /** The key in plain text, or `sha256:<64 hex digits>` of it. */
  key: string;
  apps: string[];
  role: Role;
}

interface StoredKey extends Principal {
  readonly digest: Buffer;
}

/** True when `role` includes what `needed` allows. */
export function roleAllows(role: Role, needed: Role): boolean {
  return ROLES.indexOf(role) >= ROLES.indexOf(needed);
}

/** True when the principal may touch `appName`. */
export function appAllowed(principal: Principal, appName: string): boolean {
  return principal.apps === "*" || principal.apps.has(appName);
}

/**
 * The configured API keys. Only SHA-256 digests are kept in memory; a
 * presented key is hashed and compared with every digest in constant time,
 * so neither the key's length nor how much of it matched shows in timing.
 */
export class ApiKeyRing {
  private constructor(private readonly keys: readonly StoredKey[]) {
    const seen = new Map<string, string>();
    for (const key of keys) {
      const hex = key.digest.toString("hex");
      const other = seen.get(hex);
      if (other !== undefined) throw new Error(`${key.name}: the same key is already configured as ${other}`);
      seen.set(hex, key.name);
    }
  }

  /** Validates entries; `source` names where they came from in error messages. */
  static from(entries: ApiKeyEntry[], source: string): ApiKeyRing {
    return new ApiKeyRing(entries.map((entry, i) => storedKey(entry, `${source}[${i}]`)));
  }

  /** Both rings' keys. */
  concat(other: ApiKeyRing): ApiKeyRing {
    return new ApiKeyRing([...this.keys, ...other.keys]);
  }

  /** Number of keys. */
  get size(): number {
    return this.keys.length;
  }

  /** The principal a presented key belongs to, or undefined for an unknown key. */
  authenticate(presented: string): Principal | undefined {
    const digest = sha256(presented);
    let found: StoredKey | undefined;
    for (const key of this.keys) {
      // No early exit: every digest is compared whatever matched before.
      if (timingSafeEqual(digest, key.digest) && !found) found = key;
    }
    return found && { name: found.name, role: found.role, apps: found.apps };
  }
}

/**
 * Parses a keys file: `{"keys": [{"name": "ingest", "key": "…", "apps": ["a"], "role": "write"}]}`
 * (a bare array of entries is accepted too).
 */
export function parseKeysFile(text: string, source: string): ApiKeyRing {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new Error(`${source}: not valid JSON (${error instanceof Error ? error.message : String(error)})`);
  }
  const list = Array.isArray(json) ? json : (json as { keys?: unknown } | null)?.keys;
  if (!Array.isArray(list)) throw new Error(`${source}: expected {"keys": [...]} or an array of keys`);
  return ApiKeyRing.from(list.map((item, i) => entryOf(item, `${source}: keys[${i}]`)), `${source}: keys`);
}

/**
 * Parses SESSIOND_API_KEYS: entries separated by `;`, each `KEY:APPS:ROLE`
 * with APPS a comma-separated list or `*`, e.g. `k1:app1,app2:write;k2:*:read`.
 * KEY may itself be `sha256:<hex>`; it must not contain `;`.
 */
export function parseKeysEnv(value: string, source = "SESSIOND_API_KEYS"): ApiKeyRing {
  const entries = value
    .split(";")
    .map((part) => part.trim())
    .filter(Boolean)
    .map((part, i) => {
      const fields = part.split(":");
      if (fields.length < 3) throw new Error(`${source}[${i}]: expected KEY:APPS:ROLE`);
      const role = fields.pop()!;
      const apps = fields.pop()!.split(",").map((a) => a.trim()).filter(Boolean);
      return entryOf({ name: `${source}[${i}]`, key: fields.join(":"), apps, role }, `${source}[${i}]`);
    });
  return ApiKeyRing.from(entries, source);
}

/** Reads the keys of a file and of an environment value; either may be absent. */
export async function loadApiKeys(options: { file?: string; env?: string }): Promise<ApiKeyRing> {
  let ring = ApiKeyRing.from([], "keys");
  if (options.file) ring = ring.concat(parseKeysFile(await readFile(options.file, "utf8"), options.file));
  if (options.env) ring = ring.concat(parseKeysEnv(options.env));
  return ring;
}

/** `sha256:<hex>` of a key, the form to put in a keys file instead of the key. */
export function hashApiKey(key: string): string {
  return `sha256:${sha256(key).toString("hex")}`;
}

function sha256(text: string): Buffer {
  return createHash("sha256").update(text, "utf8").digest();
}

function entryOf(item: unknown, at: string): ApiKeyEntry {
  if (typeof item !== "object" || item === null) throw new Error(`${at}: must be an object`);
  const { name, key, apps, role } = item as Record<string, unknown>;
  if (name !== undefined && typeof name !== "string") throw new Error(`${at}.name: must be a string`);
  if (typeof key !== "string" || key === "") throw new Error(`${at}.key: is required`);
  if (!Array.isArray(apps) || apps.length === 0 || !apps.every((a) => typeof a === "string" && a !== "")) {
    throw new Error(`${at}.apps: must list app names or "*"`);
  }
  if (!ROLES.includes(role as Role)) throw new Error(`${at}.role: must be read, write or admin`);
  return { name, key, apps, role: role as Role };
}

function storedKey(entry: ApiKeyEntry, at: string): StoredKey {
  let digest: Buffer;
  if (entry.key.startsWith("sha256:")) {
    const hex = entry.key.slice("sha256:".length);
    if (!/^[0-9a-f]{64}$/i.test(hex)) throw new Error(`${at}.key: sha256: must be followed by 64 hex digits`);
    digest = Buffer.from(hex, "hex");
  } else {
    digest = sha256(entry.key);
  }
  const apps = entry.apps.includes("*") ? "*" : new Set(entry.apps);
  return { name: entry.name ?? at, role: entry.role, apps, digest };
}
