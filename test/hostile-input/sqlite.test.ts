import { hostileInput } from "./suite.js";

hostileInput("sqlite");
