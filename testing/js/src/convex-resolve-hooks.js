// Module resolution hooks (registered with `node:module`'s `register`, once per functions folder),
// so that Node loads a `convex/` folder the way Convex's bundler (esbuild) reads it:
//
// - every import of `convex`, `convex/...` or `convex-test` resolves to one copy, wherever the
//   importing file lives: this package's pinned one, or the app's own when the launcher chose it (`base`).
//   The folder usually has no `node_modules` of its own, and `convex-test` must run the functions
//   against the very copy of `convex` it uses itself;
// - a relative import without an extension (`./schema`) finds `schema.tsx`, `schema.ts`, `schema.jsx`,
//   `schema.js` or a folder's `index` file, in esbuild's order;
// - every file of the folder is an ES module, as Convex bundles it, whatever the nearest
//   `package.json` says (without a `"type": "module"` one, Node would load `.ts` files as CommonJS).
// - a folder without `_generated/` (a fresh app, a repository that does not commit it) is served anyway:
//   an import of its `_generated/server`, `_generated/api` or `_generated/dataModel` that finds no file
//   gets this package's stand-in (`generated-*.js`: the generic builders under the generated names,
//   `anyApi`, nothing), which is what codegen writes minus the types. A folder that has the file keeps it.

import { statSync } from "node:fs";
import { fileURLToPath } from "node:url";

const EXTENSIONS = [".tsx", ".ts", ".jsx", ".js"];
const SOURCE_FILE = /\.(m|c)?(j|t)sx?$/;

let base;
let folder;

/** `base`: the URL to resolve `convex` from (a file of this package); `folder`: the functions' URL. */
export function initialize(data) {
  base = data.base;
  folder = data.folder.endsWith("/") ? data.folder : `${data.folder}/`;
}

function isFile(url) {
  try {
    return statSync(fileURLToPath(url)).isFile();
  } catch {
    return false;
  }
}

function inFolder(url) {
  return (
    url !== undefined &&
    url.startsWith(folder) &&
    !url.slice(folder.length).split("/").includes("node_modules")
  );
}

/** `./schema` → `./schema.ts` when that is the file esbuild would pick; otherwise unchanged. */
function withExtension(specifier, parentURL) {
  if (!(specifier.startsWith("./") || specifier.startsWith("../")) || !inFolder(parentURL)) {
    return specifier;
  }
  if (isFile(new URL(specifier, parentURL))) {
    return specifier;
  }
  for (const suffix of [...EXTENSIONS, ...EXTENSIONS.map((ext) => `/index${ext}`)]) {
    if (isFile(new URL(specifier + suffix, parentURL))) {
      return specifier + suffix;
    }
  }
  return specifier;
}

/** The generated modules a folder may lack, by name, each with the stand-in that replaces it. */
const GENERATED = new Map(
  ["server", "api", "dataModel"].map((name) => [
    name,
    new URL(`./generated-${name}.js`, import.meta.url).href,
  ]),
);

/**
 * The stand-in for `./_generated/<name>` (or `../_generated/<name>.js`…, the folder's own `_generated`)
 * imported from a file of the folder, when the folder has no such file; otherwise `undefined`.
 */
function generatedStandIn(specifier, parentURL) {
  if (!(specifier.startsWith("./") || specifier.startsWith("../")) || !inFolder(parentURL)) {
    return undefined;
  }
  const target = new URL(specifier, parentURL).href;
  if (!target.startsWith(`${folder}_generated/`)) return undefined;
  const name = target.slice(`${folder}_generated/`.length).replace(/\.(m|c)?(j|t)sx?$/, "");
  const standIn = GENERATED.get(name);
  if (standIn === undefined) return undefined;
  const stem = `${folder}_generated/${name}`;
  const present = ["", ...EXTENSIONS, ".mjs"].some((ext) => isFile(new URL(stem + ext)));
  return present ? undefined : standIn;
}

export async function resolve(specifier, context, nextResolve) {
  if (specifier === "convex" || specifier.startsWith("convex/") || specifier === "convex-test") {
    return nextResolve(specifier, { ...context, parentURL: base });
  }
  const standIn = generatedStandIn(specifier, context.parentURL);
  if (standIn !== undefined) {
    return { url: standIn, format: "module", shortCircuit: true };
  }
  const resolved = await nextResolve(withExtension(specifier, context.parentURL), context);
  if (inFolder(resolved.url) && SOURCE_FILE.test(new URL(resolved.url).pathname)) {
    return { ...resolved, format: "module" };
  }
  return resolved;
}
