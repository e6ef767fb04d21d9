import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Agent, type AgentInputItem, type Model, type ModelProvider, type ModelRequest, type ModelResponse, Runner, Usage } from "@openai/agents-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createSessiondClient } from "../../src/client/index.js";
import { SessiondSession } from "../../src/openai-agents/index.js";
import { type ServeProcess, spawnServe } from "../support/cli-process.js";

/**
 * An SDK Agent run by the SDK's Runner with a scripted model: three turns
 * of one conversation, with the server restarted on the same SQLite file
 * between them. The model sees the whole history each turn, so the history
 * came back from the file; an item popped (a rewind) stays popped after
 * another restart.
 */

/** A model that answers "reply N to <last user text>" and records what it was sent. */
class EchoModel implements Model {
  readonly inputs: AgentInputItem[][] = [];

  async getResponse(request: ModelRequest): Promise<ModelResponse> {
    const input = typeof request.input === "string" ? [{ role: "user" as const, content: request.input }] : structuredClone(request.input);
    this.inputs.push(input);
    const lastUser = input.filter((i) => "role" in i && i.role === "user").at(-1);
    const text = lastUser && "content" in lastUser && typeof lastUser.content === "string" ? lastUser.content : "?";
    const n = this.inputs.length;
    return {
      usage: new Usage(),
      responseId: `resp_${n}`,
      output: [{ type: "message", id: `msg_${n}`, role: "assistant", status: "completed", content: [{ type: "output_text", text: `reply ${n} to ${text}` }] }],
    };
  }

  // eslint-disable-next-line require-yield
  async *getStreamedResponse(): AsyncIterable<never> {
    throw new Error("not streamed in this test");
  }
}

describe("an SDK Agent whose session is in sessiond", () => {
  let dir: string;
  let storeUrl: string;
  let server: ServeProcess | undefined;
  const sessions: SessiondSession[] = [];
  const model = new EchoModel();
  const provider: ModelProvider = { getModel: () => model };
  const agent = new Agent({ name: "assistant", instructions: "Answer briefly.", model: "echo" });

  /** A fresh server process on the same store file, and a session object for the conversation. */
  async function restart(): Promise<SessiondSession> {
    await server?.stop();
    server = await spawnServe(["--store", storeUrl, "--no-ui"]);
    const session = new SessiondSession(server.url, { sessionId: "conversation-1", appName: "agents" });
    sessions.push(session);
    return session;
  }

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "sessiond-openai-agents-"));
    storeUrl = `sqlite:${join(dir, "sessions.db")}`;
  });
  afterAll(async () => {
    for (const session of sessions) await session.close();
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it("gets the conversation back after each of two restarts", async () => {
    const runner = new Runner({ modelProvider: provider, tracingDisabled: true });
    const texts = (items: AgentInputItem[]) =>
      items.map((i) => ("content" in i ? (typeof i.content === "string" ? i.content : (i.content as { text?: string }[])[0]?.text) : undefined));

    let session = await restart();
    const first = await runner.run(agent, "My name is Ada.", { session });
    expect(first.finalOutput).toBe("reply 1 to My name is Ada.");

    session = await restart();
    const second = await runner.run(agent, "What is my name?", { session });
    expect(second.finalOutput).toBe("reply 2 to What is my name?");
    expect(texts(model.inputs[1]!)).toEqual(["My name is Ada.", "reply 1 to My name is Ada.", "What is my name?"]);

    session = await restart();
    const third = await runner.run(agent, "Thanks.", { session });
    expect(third.finalOutput).toBe("reply 3 to Thanks.");
    expect(texts(model.inputs[2]!)).toEqual(["My name is Ada.", "reply 1 to My name is Ada.", "What is my name?", "reply 2 to What is my name?", "Thanks."]);
    const history = await session.getItems();
    expect(texts(history)).toEqual([...texts(model.inputs[2]!), "reply 3 to Thanks."]);
    expect(history.map((i) => ("role" in i ? i.role : i.type))).toEqual(["user", "assistant", "user", "assistant", "user", "assistant"]);

    // popItem rewinds: the reply leaves the history, for good, and stays in the raw log.
    const popped = await session.popItem();
    expect(texts([popped!])).toEqual(["reply 3 to Thanks."]);
    session = await restart();
    expect(texts(await session.getItems())).toEqual(texts(history.slice(0, 5)));
    const client = createSessiondClient({ baseUrl: server!.url });
    const raw = [];
    for await (const event of client.events({ appName: "agents", userId: "default", sessionId: "conversation-1" })) raw.push(event);
    expect(raw.map((e) => e.author)).toEqual(["user", "assistant", "user", "assistant", "user", "assistant", "popItem"]);
    expect(raw.at(-1)?.actions?.rewind?.targetSequence).toBe(5n);
  });
});
