// Lets Node run the TypeScript sources directly (with --experimental-transform-types):
// relative ".js" imports resolve to the ".ts" file next to them when one exists.
import { existsSync } from "node:fs";
import { registerHooks } from "node:module";
import { fileURLToPath } from "node:url";

registerHooks({
  resolve(specifier, context, next) {
    const parent = context.parentURL;
    if (specifier.startsWith(".") && specifier.endsWith(".js") && parent?.startsWith("file:") && !parent.includes("/node_modules/")) {
      const ts = new URL(`${specifier.slice(0, -3)}.ts`, parent);
      if (existsSync(fileURLToPath(ts))) return next(ts.href, context);
    }
    return next(specifier, context);
  },
});
