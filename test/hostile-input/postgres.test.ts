import { hostileInput } from "./suite.js";

hostileInput("postgres");
