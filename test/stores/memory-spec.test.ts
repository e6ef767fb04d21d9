import { storeSpec } from "./spec/suite.js";

storeSpec("memory");
