#!/usr/bin/env node
// Patches the `postgres` driver (postgres.js 3.4.9) against a defect that
// kills the process when a connection closes while a small write is queued:
// `TypeError: Cannot read properties of null (reading 'write') at
// Immediate.nextWrite` (porsager/postgres#1066, #1154, #1208; fixes proposed
// in #1168, #1176, #1209). It also clears the write buffer on teardown, so
// a pooled connection can flush again after a reconnect, and keeps a failed
// array-type lookup on a dying connection from becoming an unhandled
// rejection (which also exits Node).
//
// Run by the root `postinstall` and, when that was skipped (npm blocks a
// dependency's install scripts unless allowed), by the PostgreSQL store
// before it loads the driver. Idempotent; fails loudly when the driver's
// code no longer matches. Drop this file, the `postinstall` entry and the
// check in src/stores/private/postgres-driver-patch.ts once a postgres.js
// release fixes #1208 (guards `nextWrite` and resets `nextWriteTimer` on
// teardown), and unpin `postgres` in package.json.
import { readFileSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/** Marks a patched file; bump when the hunks change. */
export const MARKER = "/* sessiond-patch: postgres-close-safety v2 */";

const OLD_MARKER = "/* sessiond-patch: postgres-close-safety v";

/** Per file of the driver: the driver's text and what replaces it. */
const HUNKS = {
  "connection.js": [
    {
      name: "nextWrite guard",
      // Settle rather than drop: a dropped write leaves its query pending forever.
      from: "  function nextWrite(fn) {\n    const x = socket.write(chunk, fn)\n",
      to:
        "  function nextWrite(fn) {\n" +
        "    if (socket === null) { // sessiond-patch: the socket closed while a write was queued\n" +
        "      nextWriteTimer !== null && clearImmediate(nextWriteTimer)\n" +
        "      chunk = nextWriteTimer = null\n" +
        "      error(Errors.connection('CONNECTION_CLOSED', options))\n" +
        "      return false\n" +
        "    }\n" +
        "    const x = socket.write(chunk, fn)\n",
    },
    {
      name: "terminate resets the write buffer",
      from: "    clearImmediate(nextWriteTimer)\n    if (socket) {\n",
      to: "    clearImmediate(nextWriteTimer)\n    chunk = nextWriteTimer = null // sessiond-patch\n    if (socket) {\n",
    },
    {
      name: "closed resets the write buffer",
      from: "    incomings = null\n    clearImmediate(nextWriteTimer)\n",
      to: "    incomings = null\n    clearImmediate(nextWriteTimer)\n    chunk = nextWriteTimer = null // sessiond-patch\n",
    },
    {
      name: "closed settles every query",
      // After a socket error, queries sent between the error and the close
      // were never rejected: settle them too, and forget the dead query.
      from: "    !hadError && (query || sent.length) && error(Errors.connection('CONNECTION_CLOSED', options, socket))\n",
      to:
        "    if (query || sent.length) error(Errors.connection('CONNECTION_CLOSED', options, socket)) // sessiond-patch\n" +
        "    query = null // sessiond-patch\n",
    },
    {
      name: "array type lookup settles",
      // A failed lookup has already rejected the queries waiting on it; the
      // next connection looks the types up again.
      from: "        return fetchArrayTypes()\n",
      to: "        return fetchArrayTypes().catch(() => {}) // sessiond-patch\n",
    },
  ],
  "index.js": [
    {
      name: "a released reserved connection that closed stays closed",
      // Returning it to the open queue would hand its dead socket to the next query.
      from: "    sql.release = () => {\n      c.reserved = null\n      onopen(c)\n    }\n",
      to: "    sql.release = () => {\n      c.reserved = c.onclose = null // sessiond-patch\n      c.queue === closed || onopen(c) // sessiond-patch\n    }\n",
    },
    {
      name: "a failed reservation leaves the queue",
      // Left in it, a later connection would be handed to a settled promise and leak from the pool.
      from: "        const query = { reserve: resolve, reject }\n",
      to: "        const query = { reserve: resolve, reject: (e) => (queries.remove(query), reject(e)) } // sessiond-patch\n",
    },
    {
      name: "queries queued on a reserved connection settle when it closes",
      // Queued behind a statement being described, they would wait forever.
      from: "    move(c, reserved)\n    c.reserved = () => queue.length\n",
      to:
        "    move(c, reserved)\n" +
        "    c.onclose = (e) => { while (queue.length) queue.shift().reject(e) } // sessiond-patch\n" +
        "    c.reserved = () => queue.length\n",
    },
    {
      name: "a reservation waiting while a connection closes is kept",
      // A reservation is resolved from the queue once a connection opens (as
      // reserve() itself does); taken off the queue, it would wait forever.
      from: "    queries.length && connect(c, queries.shift())\n",
      to: "    queries.length && connect(c, (q => (q.reserve && queries.push(q), q))(queries.shift())) // sessiond-patch\n",
    },
  ],
};

/** The driver's builds (ESM, CommonJS, Cloudflare); each has both files. */
const BUILDS = ["src", "cjs/src", "cf/src"];

/** Every patched file, relative to the driver's folder. */
export const COPIES = BUILDS.flatMap((build) => Object.keys(HUNKS).map((name) => `${build}/${name}`));

function hunksOf(file) {
  const hunks = HUNKS[file.slice(file.lastIndexOf("/") + 1)];
  if (!hunks) throw new Error(`${file}: not a file this patch knows`);
  return hunks;
}

/** Applies the patch to one file's text; returns it unchanged when already patched. */
export function patchText(text, file) {
  const hunks = hunksOf(file);
  if (!text.startsWith(MARKER) && text.startsWith(OLD_MARKER)) throw new Error(`${file}: carries an older sessiond patch; reinstall the postgres package`);
  if (text.startsWith(MARKER)) {
    for (const hunk of hunks) {
      if (!text.includes(hunk.to)) throw new Error(`${file}: marked as patched but "${hunk.name}" is missing`);
    }
    return text;
  }
  let patched = text;
  for (const hunk of hunks) {
    const count = patched.split(hunk.from).length - 1;
    if (count !== 1) {
      throw new Error(
        `${file}: "${hunk.name}" expected the driver's code once, found it ${count} times. The postgres package changed: ` +
          "check whether it fixes porsager/postgres#1208 and then drop or update scripts/patch-postgres.mjs.",
      );
    }
    patched = patched.replace(hunk.from, hunk.to);
  }
  return `${MARKER}\n${patched}`;
}

/** The driver's original text of a patched file (for the test that shows the defect). */
export function revertText(text, file) {
  if (!text.startsWith(MARKER)) return text;
  let original = text.slice(MARKER.length + 1);
  for (const hunk of hunksOf(file)) original = original.replace(hunk.to, hunk.from);
  return original;
}

/** Whether a file's text carries the current patch. */
export function isPatched(text) {
  return text.startsWith(MARKER);
}

/** The driver's package folder as `from` resolves it. */
export function driverRoot(from = import.meta.url) {
  // The package's exports hide package.json; its CommonJS entry is cjs/src/index.js.
  const require = createRequire(from);
  return join(dirname(require.resolve("postgres")), "..", "..");
}

/** Patches every copy under `root`; returns the files it changed. */
export function patchDriver(root = driverRoot()) {
  const changed = [];
  for (const copy of COPIES) {
    const file = join(root, copy);
    let text;
    try {
      text = readFileSync(file, "utf8");
    } catch (error) {
      if (copy.startsWith("cf/") && error.code === "ENOENT") continue;
      throw error;
    }
    const patched = patchText(text, file);
    if (patched !== text) {
      writeFileSync(file, patched);
      changed.push(file);
    }
  }
  return changed;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  try {
    const changed = patchDriver();
    console.log(changed.length > 0 ? `patched postgres: ${changed.join(", ")}` : "postgres already patched");
  } catch (error) {
    console.error(`sessiond: cannot patch the postgres driver: ${error.message}`);
    process.exit(1);
  }
}
