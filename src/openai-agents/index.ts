/**
 * OpenAI Agents SDK integration, a separate entry point
 * (`sessiond/openai-agents`) so that applications without
 * `@openai/agents-core` never load it.
 */
export { SessiondSession } from "./sessiond-session.js";
export type { SessiondSessionOptions } from "./sessiond-session.js";
