import { streamingSuite } from "./suite.js";

streamingSuite("redis", { shared: true });
