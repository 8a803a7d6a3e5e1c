// Bundles the presence harness (harness.ts, which imports labextension/src/presence.ts) into one ES module with
// the labextension's own esbuild, yjs and y-websocket. Usage: node build.mjs OUTFILE [ENTRY.ts, default harness.ts]
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const modules = join(here, "..", "..", "..", "labextension", "node_modules");
const { build } = createRequire(join(modules, "index.js"))("esbuild");

await build({
  entryPoints: [join(here, process.argv[3] || "harness.ts")],
  outfile: process.argv[2],
  nodePaths: [modules],
  bundle: true,
  format: "esm",
  target: "es2022",
  logLevel: "warning",
});
