import { MemoryStore } from "../../src/stores/memory.js";
import { conformance } from "./suite.js";

conformance("memory", { open: async () => new MemoryStore() });
