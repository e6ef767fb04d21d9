import type { AgentInputItem } from "@openai/agents-core";
import type { Random } from "../faults/support/random.js";

const TEXTS = ["hi", "What is the weather in Paris?", "Ünïcödé ✓ 🌍", "", "line\nbreak", "quote \" and \\ backslash", "x".repeat(300)];

/** A random conversation item of one of the kinds a run stores (messages, tool calls and results, reasoning). */
export function randomItem(random: Random, n: number): AgentInputItem {
  const text = `${random.pick(TEXTS)} #${n}`;
  switch (random.int(6)) {
    case 0:
      return { role: "user", content: text };
    case 1:
      return { role: "system", content: text };
    case 2:
      return { type: "message", role: "assistant", status: "completed", id: `msg_${n}`, content: [{ type: "output_text", text }] };
    case 3:
      return { type: "function_call", callId: `call_${n}`, name: "lookup", arguments: JSON.stringify({ q: text, n }), status: "completed" };
    case 4:
      return { type: "function_call_result", callId: `call_${n}`, name: "lookup", status: "completed", output: { type: "text", text } };
    default:
      return { type: "reasoning", id: `rs_${n}`, content: [{ type: "input_text", text }], providerData: { depth: n % 7, nested: { list: [1, 2.5, true, null] } } };
  }
}
