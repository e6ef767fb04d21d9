import { streamingSuite } from "./suite.js";

streamingSuite("redis-cluster", { shared: true });
