import { conformance } from "./suite.js";

conformance("memory");
