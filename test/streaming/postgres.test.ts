import { streamingSuite } from "./suite.js";

streamingSuite("postgres", { shared: true });
