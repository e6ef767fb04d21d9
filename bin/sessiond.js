#!/usr/bin/env node
// Checked before anything is loaded: older Node versions lack node:sqlite
// (unflagged since 22.13) and would fail with an unrelated-looking error.
const [major, minor] = process.versions.node.split(".").map(Number);
if (major < 22 || (major === 22 && minor < 13)) {
  console.error(`sessiond needs Node.js 22.13 or newer (24 recommended); this is ${process.version}`);
  process.exit(1);
}
const { main } = await import("../dist/src/cli.js");
await main(process.argv.slice(2));
