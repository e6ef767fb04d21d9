import { storeSpec } from "./spec/suite.js";

storeSpec("redis-cluster");
