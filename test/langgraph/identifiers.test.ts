import { emptyCheckpoint } from "@langchain/langgraph-checkpoint";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SessiondSaver } from "../../src/langgraph/index.js";
import { createSessiondClient, type SessiondClient } from "../../src/client/index.js";
import { type ServeProcess, spawnServe } from "../support/cli-process.js";

/**
 * Thread ids and namespaces that sessiond would refuse as identifiers
 * (too long, control characters) are stored under digests and still come
 * back as they were; the server sees one user per thread and one session
 * per namespace.
 */
describe("SessiondSaver with identifiers sessiond does not accept as they are", () => {
  let server: ServeProcess;
  let saver: SessiondSaver;
  let client: SessiondClient;

  beforeAll(async () => {
    server = await spawnServe(["--store", "memory:", "--no-ui"]);
    saver = new SessiondSaver(server.url, { appName: "ids" });
    client = createSessiondClient({ baseUrl: server.url });
  });
  afterAll(async () => {
    await saver?.close();
    await server?.stop();
  });

  it("puts, reads, lists and deletes them", async () => {
    const threadId = `thread-${"t".repeat(200)}`;
    const namespaces = ["", "tools:1\u0007bell", `deep:${"n".repeat(150)}`];
    const ids: string[] = [];
    for (const checkpoint_ns of namespaces) {
      const checkpoint = emptyCheckpoint();
      ids.push(checkpoint.id);
      const config = await saver.put({ configurable: { thread_id: threadId, checkpoint_ns } }, checkpoint, { source: "input", step: -1, parents: {} }, {});
      expect(config.configurable).toEqual({ thread_id: threadId, checkpoint_ns, checkpoint_id: checkpoint.id });
      await saver.putWrites(config, [["channel", { value: checkpoint_ns }]], "task-1");
      const tuple = await saver.getTuple({ configurable: { thread_id: threadId, checkpoint_ns } });
      expect(tuple?.checkpoint.id).toBe(checkpoint.id);
      expect(tuple?.pendingWrites).toEqual([["task-1", "channel", { value: checkpoint_ns }]]);
    }

    const listed = [];
    for await (const tuple of saver.list({ configurable: { thread_id: threadId } })) listed.push(tuple.config.configurable);
    expect(listed).toHaveLength(3);
    expect(new Set(listed.map((c) => c?.checkpoint_ns))).toEqual(new Set(namespaces));
    expect(listed.every((c) => c?.thread_id === threadId)).toBe(true);

    const sessions = [];
    for await (const page of client.listSessions({ appName: "ids" })) sessions.push(...page);
    expect(sessions).toHaveLength(3);
    expect(new Set(sessions.map((s) => s.userId)).size).toBe(1);
    expect(sessions.every((s) => s.userId.length <= 128 && s.id.length <= 128)).toBe(true);

    await saver.deleteThread(threadId);
    for (const checkpoint_ns of namespaces) {
      expect(await saver.getTuple({ configurable: { thread_id: threadId, checkpoint_ns } })).toBeUndefined();
    }
  });
});
