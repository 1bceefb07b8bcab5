// Compiles the server into one ES module, dist/server/index.js, for `npm start`:
// no TypeScript compiler or loader at run time. Packages stay in node_modules
// (imported as usual); only the repository's own code (server/, its generated
// Prisma client) is bundled.
//
// Modules that find files next to their source (`new URL("../prisma/migrations",
// import.meta.url)`) must find the same files when bundled, so each module's
// `import.meta.url` (and dirname, filename) is rewritten to its source file's own
// location, relative to the bundle. dist/ therefore stays inside the checkout.
import { readFile, rm } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const root = fileURLToPath(new URL("..", import.meta.url));
const outfile = path.join(root, "dist/server/index.js");

/** @type {import("esbuild").Plugin} */
const sourceLocations = {
  name: "source-locations",
  setup(builder) {
    builder.onLoad({ filter: /\.ts$/ }, async (args) => {
      const source = await readFile(args.path, "utf8");
      if (!source.includes("import.meta.")) return { contents: source, loader: "ts" };
      const relative = JSON.stringify(path.relative(path.dirname(outfile), args.path).split(path.sep).join("/"));
      const url = `new URL(${relative}, import.meta.url)`;
      const contents = source
        .replaceAll("import.meta.url", `${url}.href`)
        .replaceAll("import.meta.filename", `decodeURIComponent(${url}.pathname)`)
        .replaceAll("import.meta.dirname", `decodeURIComponent(new URL(".", ${url}).pathname).replace(/\\/$/, "")`);
      return { contents, loader: "ts" };
    });
  },
};

await rm(path.join(root, "dist/server"), { recursive: true, force: true });
await build({
  entryPoints: [path.join(root, "server/index.ts")],
  outfile,
  bundle: true,
  packages: "external",
  platform: "node",
  format: "esm",
  target: "node20",
  sourcemap: true,
  plugins: [sourceLocations],
  logLevel: "warning",
});
