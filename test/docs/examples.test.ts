import { execFile } from "node:child_process";
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ServeProcess, spawnServe } from "../support/cli-process.js";

// Every command and program in README.md and docs/ is a fenced block whose
// info string says `run` (this test executes it against a real server) or
// `norun` (it needs what a test cannot have: Docker, a Go toolchain, a fixed
// port, files of the reader's own). Blocks of data (json, yaml, plain) are
// not marked. Examples address 127.0.0.1:50051; the test points them at its
// server instead.

const exec = promisify(execFile);
const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const CODE = new Set(["sh", "ts", "python", "go"]);
const scratch = join(ROOT, "test-results/doc-examples");

interface Block {
  file: string;
  line: number;
  lang: string;
  marker: string | undefined;
  body: string;
}

function blocks(file: string): Block[] {
  const found: Block[] = [];
  const lines = readFileSync(join(ROOT, file), "utf8").split("\n");
  for (let i = 0; i < lines.length; i++) {
    const open = /^```(\S*)\s*(.*)$/.exec(lines[i]!);
    if (!open) continue;
    const end = lines.findIndex((l, j) => j > i && l.startsWith("```"));
    found.push({ file, line: i + 1, lang: open[1]!, marker: open[2] || undefined, body: lines.slice(i + 1, end).join("\n") });
    i = end;
  }
  return found;
}

const files = ["README.md", ...readdirSync(join(ROOT, "docs")).filter((f) => f.endsWith(".md")).map((f) => `docs/${f}`)];
const all = files.flatMap(blocks);
const runnable = all.filter((b) => b.marker === "run");

let server: ServeProcess;
let address: string;

beforeAll(async () => {
  mkdirSync(scratch, { recursive: true });
  server = await spawnServe(["--store", "memory:", "--no-ui"]);
  address = new URL(server.url).host;
}, 60_000);

afterAll(async () => {
  await server?.stop();
});

describe("documentation examples", () => {
  it("mark every command or program block as run or norun", () => {
    const unmarked = all.filter((b) => CODE.has(b.lang) && b.marker !== "run" && b.marker !== "norun");
    expect(unmarked.map((b) => `${b.file}:${b.line}`)).toEqual([]);
    expect(runnable.length).toBeGreaterThanOrEqual(6);
  });

  it.each(runnable.map((b) => [`${b.file}:${b.line} (${b.lang})`, b] as const))("%s runs against a real server", async (_, block) => {
    const body = block.body.replaceAll("127.0.0.1:50051", address);
    const env = { ...process.env, PATH: `${join(ROOT, "node_modules/.bin")}:${process.env.PATH ?? ""}` };
    let output: string;
    if (block.lang === "sh") {
      ({ stdout: output } = await exec("bash", ["-euo", "pipefail", "-c", body], { cwd: ROOT, env, timeout: 60_000 }));
    } else if (block.lang === "ts") {
      // Inside the repository, so `sessiond/...` resolves to this package's build.
      const file = join(scratch, `${relative(ROOT, block.file).replace(/\W/g, "-")}-${block.line}.mts`);
      writeFileSync(file, body);
      ({ stdout: output } = await exec(process.execPath, [file], { cwd: ROOT, env, timeout: 60_000 }));
    } else {
      throw new Error(`${block.file}:${block.line}: no runner for ${block.lang}`);
    }
    // Connect's JSON errors carry a code; a successful example prints none.
    expect(output).not.toMatch(/"code":\s*"/);
    expect(output.trim().length).toBeGreaterThan(0);
  }, 90_000);
});
