import { hostileInput } from "./suite.js";

hostileInput("redis");
