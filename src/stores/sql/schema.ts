import type { SqlDialect } from "./dialect.js";
import type { SqlDriver } from "./driver.js";

/**
 * Applies the migrations the database lacks, each once and in order, with
 * no other process migrating the same tables meanwhile (the driver's
 * exclusive section: a transaction, an advisory lock or a named lock).
 */
export async function migrateSchema(db: SqlDriver, d: SqlDialect): Promise<void> {
  const { schema, tables } = d;
  await db.exclusive(async (tx) => {
    await tx.run(schema.migrationsTable);
    const applied = new Set((await tx.run(`SELECT version FROM ${tables.migrations}`)).rows.map((r) => Number(r.version)));
    for (const migration of schema.migrations) {
      if (applied.has(migration.version)) continue;
      for (const statement of migration.statements) await tx.run(statement);
      await tx.run(`INSERT INTO ${tables.migrations} (version, name, applied_at) VALUES (?, ?, ?)`, [migration.version, migration.name, schema.appliedAt()]);
    }
  });
}

/** Throws when the schema is missing or older than this version needs; not_found when there is none and `mustExist`. */
export async function requireSchema(db: SqlDriver, d: SqlDialect, mustExist: boolean): Promise<void> {
  const latest = Math.max(...d.schema.migrations.map((m) => m.version));
  let current = 0;
  try {
    current = Number((await db.run(`SELECT MAX(version) AS v FROM ${d.tables.migrations}`)).rows[0]?.v ?? 0);
  } catch (error) {
    if (!d.schema.isMissingTable(error)) throw error;
  }
  if (current === 0 && mustExist) throw await d.schema.missing();
  if (current < latest) throw d.schema.outdated(current, latest);
}

/** Options every SQL store takes beside its URL. */
export interface SqlOpenOptions {
  /** Create or upgrade the schema on open; wins over the URL's `auto_migrate` (default true). */
  autoMigrate?: boolean;
  /** Fail (not_found) unless the tables exist; create and migrate nothing. */
  mustExist?: boolean;
}

/** Migrates (or, with auto-migration off or `mustExist`, checks) the schema of a store being opened; closes the driver on failure. */
export async function openSchema(db: SqlDriver, d: SqlDialect, options: SqlOpenOptions, urlAutoMigrate: boolean | undefined): Promise<void> {
  try {
    if (!options.mustExist && (options.autoMigrate ?? urlAutoMigrate ?? true)) await migrateSchema(db, d);
    else await requireSchema(db, d, options.mustExist ?? false);
  } catch (error) {
    await db.close().catch(() => {});
    throw error;
  }
}

/** Statements of a DDL script, split at semicolons (the scripts have none inside literals). */
export function ddl(script: string): string[] {
  return script
    .split(";")
    .map((s) => s.trim())
    .filter((s) => s !== "");
}
