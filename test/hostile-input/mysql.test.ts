import { hostileInput } from "./suite.js";

hostileInput("mysql");
