import { streamingSuite } from "./suite.js";

streamingSuite("sqlite", { shared: true });
