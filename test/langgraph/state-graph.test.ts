import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Annotation, END, START, StateGraph } from "@langchain/langgraph";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SessiondSaver } from "../../src/langgraph/index.js";
import { type ServeProcess, spawnServe } from "../support/cli-process.js";

/**
 * A three-node StateGraph checkpointed in sessiond: it stops before its
 * last node, the server restarts on the same SQLite file, and the graph
 * resumes where it stopped; then it goes back to an earlier checkpoint and
 * forks from there, while the first branch stays readable.
 */

const State = Annotation.Root({
  log: Annotation<string[]>({ reducer: (a, b) => a.concat(b), default: () => [] }),
});

function compile(saver: SessiondSaver) {
  return new StateGraph(State)
    .addNode("a", () => ({ log: ["a"] }))
    .addNode("b", () => ({ log: ["b"] }))
    .addNode("c", () => ({ log: ["c"] }))
    .addEdge(START, "a")
    .addEdge("a", "b")
    .addEdge("b", "c")
    .addEdge("c", END)
    .compile({ checkpointer: saver, interruptBefore: ["c"] });
}

describe("a StateGraph checkpointed in sessiond", () => {
  let dir: string;
  let storeUrl: string;
  let server: ServeProcess | undefined;
  const savers: SessiondSaver[] = [];
  const config = { configurable: { thread_id: "thread-1" } };

  /** A fresh server process on the same store file, and a graph that saves to it. */
  async function restart() {
    await server?.stop();
    server = await spawnServe(["--store", storeUrl, "--no-ui"]);
    const saver = new SessiondSaver(server.url, { appName: "graphs" });
    savers.push(saver);
    return compile(saver);
  }

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "sessiond-langgraph-"));
    storeUrl = `sqlite:${join(dir, "sessions.db")}`;
  });
  afterAll(async () => {
    for (const saver of savers) await saver.close();
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it("resumes after a server restart and forks from an earlier checkpoint", async () => {
    let graph = await restart();
    const first = await graph.invoke({ log: ["start"] }, config);
    expect(first.log).toEqual(["start", "a", "b"]);

    graph = await restart();
    const paused = await graph.getState(config);
    expect(paused.values.log).toEqual(["start", "a", "b"]);
    expect(paused.next).toEqual(["c"]);
    const resumed = await graph.invoke(null, config);
    expect(resumed.log).toEqual(["start", "a", "b", "c"]);
    const finished = await graph.getState(config);
    expect(finished.next).toEqual([]);

    graph = await restart();
    const history = [];
    for await (const snapshot of graph.getStateHistory(config)) history.push(snapshot);
    // input, after start, after a, after b, after c: newest first, each the parent of the one before.
    expect(history.map((s) => s.values.log)).toEqual([
      ["start", "a", "b", "c"],
      ["start", "a", "b"],
      ["start", "a"],
      ["start"],
      [],
    ]);
    for (let i = 0; i + 1 < history.length; i++) {
      expect(history[i]!.parentConfig?.configurable?.checkpoint_id).toBe(history[i + 1]!.config.configurable?.checkpoint_id);
    }
    const afterA = history.find((s) => s.next.length === 1 && s.next[0] === "b")!;
    expect(afterA.values.log).toEqual(["start", "a"]);

    const forkConfig = await graph.updateState(afterA.config, { log: ["x"] });
    const forkPaused = await graph.invoke(null, forkConfig);
    expect(forkPaused.log).toEqual(["start", "a", "x", "b"]);
    const fork = await graph.invoke(null, config);
    expect(fork.log).toEqual(["start", "a", "x", "b", "c"]);

    graph = await restart();
    expect((await graph.getState(config)).values.log).toEqual(["start", "a", "x", "b", "c"]);
    // The first branch is still there, by checkpoint id.
    expect((await graph.getState(finished.config)).values.log).toEqual(["start", "a", "b", "c"]);
    const forked = (await graph.getState(forkConfig)).parentConfig?.configurable?.checkpoint_id;
    expect(forked).toBe(afterA.config.configurable?.checkpoint_id);
  });
});
