import { defineConfig } from "vite";

// Bundles the session viewer into dist/ui, served by `sessiond serve` at /ui/.
export default defineConfig({
  root: import.meta.dirname,
  base: "/ui/",
  logLevel: "warn",
  build: {
    outDir: "../dist/ui",
    emptyOutDir: true,
    target: "es2022",
    sourcemap: true,
    // No inline polyfill script: the page's CSP allows only its own files.
    modulePreload: { polyfill: false },
  },
});
