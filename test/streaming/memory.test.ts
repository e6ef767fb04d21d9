import { streamingSuite } from "./suite.js";

streamingSuite("memory", { shared: false });
