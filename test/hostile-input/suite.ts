import { describe } from "vitest";
import { useStoreServer } from "../support/store-server.js";
import type { testStores } from "../support/stores.js";
import { importFileTests } from "./import-file.js";
import { jsonValueTests } from "./json-values.js";
import { prototypeKeyTests } from "./prototype-keys.js";
import { textTests } from "./text.js";
import { timestampTests } from "./timestamps.js";

/**
 * Hostile input through a real server on a real port: every value sessiond
 * accepts can be read back from every store over every protocol, and every
 * value it rejects is rejected with INVALID_ARGUMENT before anything is written.
 */
export function hostileInput(name: keyof typeof testStores): void {
  describe(`hostile input on the ${name} store`, () => {
    const ctx = useStoreServer(name, "grpc");
    timestampTests(ctx);
    jsonValueTests(ctx);
    textTests(ctx);
    prototypeKeyTests(ctx);
    importFileTests(ctx);
  });
}
