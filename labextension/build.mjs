// Bundles each widget's module (src/<name>.ts) into one ES module in imagestudio_nb/widgets/static/,
// the folder the Python widgets read their `_esm` from. Run with `npm run build`; never edit the output.
import { build } from "esbuild";
import { copyFile, mkdir } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const out = join(here, "..", "imagestudio_nb", "widgets", "static");
const widgets = ["canvas", "prompt_panel", "filter_panel", "gallery"];

await mkdir(out, { recursive: true });
await build({
  entryPoints: widgets.map((name) => join(here, "src", `${name}.ts`)),
  outdir: out,
  bundle: true,
  format: "esm",
  target: "es2022",
  minify: process.env.IMAGESTUDIO_DEV !== "1",
  sourcemap: false,
  legalComments: "none",
  logLevel: "warning",
});
await copyFile(join(here, "src", "studio.css"), join(out, "studio.css"));
console.log(`built ${widgets.length} widget bundles into ${out}`);
