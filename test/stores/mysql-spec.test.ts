import { storeSpec } from "./spec/suite.js";

storeSpec("mysql");
