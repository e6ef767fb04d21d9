import { storeSpec } from "./spec/suite.js";

storeSpec("sqlite");
