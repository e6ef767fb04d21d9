import { conformance } from "./suite.js";

// Responses in JSON take the generic message path, binary ones the direct event encoder.
conformance("memory", "connect-json");
