import { conformance } from "./suite.js";

conformance("mysql");
