// Bundles the pages (src/pages/*.js -> dist/<name>.js) and the library for the browser, and the
// library for Node (dist/elicense.node.mjs, what tests/client runs). Everything comes from node_modules.
//   node frontend/build.mjs

import { existsSync, readdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

import * as esbuild from "esbuild";

const root = dirname(fileURLToPath(import.meta.url));
const dist = join(root, "dist");
const library = join(root, "src", "lib", "elicense.js");
const pagesDir = join(root, "src", "pages");
// common.js is shared by the pages, not a page of its own
const pageFiles = existsSync(pagesDir) ? readdirSync(pagesDir).filter((f) => f.endsWith(".js") && f !== "common.js") : [];
const pageEntries = Object.fromEntries(pageFiles.map((f) => [f.slice(0, -".js".length), join(pagesDir, f)]));

const browser = {
  bundle: true, format: "esm", platform: "browser", target: "chrome110", minify: true, sourcemap: true,
  legalComments: "eof", logLevel: "warning",
};

try {
  await Promise.all([
    // the library alone too: it proves the browser build of every module even before the pages exist
    esbuild.build({ ...browser, entryPoints: { elicense: library, ...pageEntries }, outdir: dist }),
    esbuild.build({
      entryPoints: [library], outfile: join(dist, "elicense.node.mjs"), bundle: true, format: "esm", platform: "node",
      target: "node20", logLevel: "warning",
      // bundled CommonJS (qrcode's PNG writer) still require()s Node built-ins at run time
      banner: {
        js: "import { createRequire as elicenseRequire } from 'node:module';\n"
          + "const require = elicenseRequire(import.meta.url);",
      },
    }),
  ]);
} catch {
  process.exit(1); // esbuild has already printed what went wrong
}
