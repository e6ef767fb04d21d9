// Runs the sessiond command line from source, for tests that spawn it.
import { main } from "../../src/cli.js";

await main(process.argv.slice(2));
