import { hostileInput } from "./suite.js";

hostileInput("memory");
