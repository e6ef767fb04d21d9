/**
 * LangGraph integration, a separate entry point (`sessiond/langgraph`) so
 * that applications without `@langchain/langgraph-checkpoint` never load it.
 */
export { SessiondSaver } from "./sessiond-saver.js";
export type { SessiondSaverOptions } from "./sessiond-saver.js";
