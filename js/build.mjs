// Bundles js/src into the package: mio_nb/static/widget.js (one self-contained ESM file, because
// anywidget loads it from a Blob URL where relative imports cannot resolve) and widget.css.
// `node build.mjs --check` builds into a temporary folder and fails when the committed files differ.
import { build } from "esbuild";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const committed = join(here, "..", "mio_nb", "static");
const check = process.argv.includes("--check");
const outdir = check ? mkdtempSync(join(tmpdir(), "mio-nb-widget-")) : committed;

const common = { bundle: true, minify: true, logLevel: "warning", legalComments: "none", charset: "utf8" };
await build({
  ...common,
  entryPoints: [join(here, "src", "widget.js")],
  outfile: join(outdir, "widget.js"),
  format: "esm",
  target: "es2020",
});
await build({ ...common, entryPoints: [join(here, "src", "widget.css")], outfile: join(outdir, "widget.css") });

if (check) {
  const stale = ["widget.js", "widget.css"].filter((name) => {
    let old;
    try {
      old = readFileSync(join(committed, name));
    } catch {
      return true;
    }
    return !old.equals(readFileSync(join(outdir, name)));
  });
  rmSync(outdir, { recursive: true, force: true });
  if (stale.length) {
    console.error(`mio_nb/static/${stale.join(", ")} out of date: run \`npm run build\` in js/ and commit.`);
    process.exit(1);
  }
  console.log("mio_nb/static is up to date");
}
