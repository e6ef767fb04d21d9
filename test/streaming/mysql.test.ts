import { streamingSuite } from "./suite.js";

streamingSuite("mysql", { shared: true });
