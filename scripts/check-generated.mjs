// Fails when gen/ differs from what `buf generate` makes of proto/.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";

const out = mkdtempSync(join(tmpdir(), "sessiond-gen-"));
try {
  execFileSync("buf", ["generate", "--output", out], { stdio: "inherit" });
  const fresh = listFiles(join(out, "gen"));
  const committed = listFiles("gen");
  const stale = [...new Set([...fresh.keys(), ...committed.keys()])].filter((f) => fresh.get(f) !== committed.get(f));
  if (stale.length > 0) {
    console.error(`gen/ is stale; run "npm run generate". Differs: ${stale.join(", ")}`);
    process.exit(1);
  }
  console.log(`gen/ is up to date (${committed.size} files)`);
} finally {
  rmSync(out, { recursive: true, force: true });
}

function listFiles(root) {
  const files = new Map();
  const walk = (dir) => {
    for (const name of readdirSync(dir)) {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) walk(path);
      else files.set(relative(root, path), readFileSync(path, "utf8"));
    }
  };
  walk(root);
  return files;
}
