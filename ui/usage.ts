import type { JsonObject } from "@bufbuild/protobuf";
import type { Event } from "../src/client/web.js";
import { formatCount } from "./format.js";

/** Tokens an event reports having used. */
export interface Usage {
  input: number;
  output: number;
}

/** Zero usage, the start of a sum. */
export const NO_USAGE: Usage = { input: 0, output: 0 };

const num = (v: unknown) => (typeof v === "number" && Number.isFinite(v) ? v : 0);
const obj = (v: unknown): JsonObject | undefined => (v && typeof v === "object" && !Array.isArray(v) ? (v as JsonObject) : undefined);

/**
 * The usage an event's metadata carries: ADK's `usageMetadata`
 * (promptTokenCount, candidatesTokenCount, thoughtsTokenCount) or an
 * OpenAI-style `usage` (input_tokens / output_tokens, or prompt_tokens /
 * completion_tokens). Undefined when it carries none.
 */
export function eventUsage(event: Event): Usage | undefined {
  const meta = event.metadata;
  const adk = obj(meta?.usageMetadata);
  if (adk) {
    return { input: num(adk.promptTokenCount), output: num(adk.candidatesTokenCount) + num(adk.thoughtsTokenCount) };
  }
  const usage = obj(meta?.usage);
  if (usage) {
    return {
      input: num(usage.input_tokens ?? usage.inputTokens ?? usage.prompt_tokens),
      output: num(usage.output_tokens ?? usage.outputTokens ?? usage.completion_tokens),
    };
  }
  return undefined;
}

/** The sum of two usages. */
export function addUsage(a: Usage, b: Usage | undefined): Usage {
  return b ? { input: a.input + b.input, output: a.output + b.output } : a;
}

/** "in 1,200 · out 340". */
export function formatUsage(u: Usage): string {
  return `in ${formatCount(u.input)} · out ${formatCount(u.output)}`;
}
