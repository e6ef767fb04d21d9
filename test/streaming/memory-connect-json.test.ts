import { streamingSuite } from "./suite.js";

// Responses in JSON take the generic message path, binary ones the direct event encoder.
streamingSuite("memory", { shared: false, protocol: "connect-json" });
