import { conformance } from "./suite.js";

conformance("postgres");
