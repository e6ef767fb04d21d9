import { conformance } from "./suite.js";

conformance("sqlite");
