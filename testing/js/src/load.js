// Loading a `convex/` folder as `npx convex deploy` would bundle it: the same files are entry points,
// each is imported (TypeScript through tsx), and its exported functions and HTTP routes are listed.

import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { register } from "node:module";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { register as registerTsx } from "tsx/esm/api";

/** The folder or one of its modules failed to load: names the file (if any) and keeps the cause. */
export class LoadError extends Error {
  constructor(file, cause) {
    super(file === undefined ? describe(cause) : `${file}: ${describe(cause)}`, { cause });
    this.name = "LoadError";
    this.file = file;
  }
}

function describe(error) {
  if (error instanceof Error) {
    return error.stack ?? `${error.name}: ${error.message}`;
  }
  return String(error);
}

const ENTRY_POINT_EXTENSIONS = [".js", ".mjs", ".cjs", ".ts", ".tsx", ".mts", ".cts", ".jsx"];

let tsxRegistered = false;
const foldersRegistered = new Set();

/**
 * TypeScript through tsx; the folder's files as ES modules, importing this package's `convex` and
 * `convex-test`, or those of the project folder `packages` when given.
 */
function registerLoaders(dir, packages) {
  if (!tsxRegistered) {
    registerTsx();
    tsxRegistered = true;
  }
  // Registered after tsx so that it runs first (hooks run last registered first).
  const folder = pathToFileURL(dir).href;
  if (!foldersRegistered.has(folder)) {
    register("./convex-resolve-hooks.js", import.meta.url, {
      data: {
        // Resolving from a file of the folder finds its `node_modules`; the file need not exist.
        base: packages === undefined ? import.meta.url : pathToFileURL(path.join(path.resolve(packages), "index.js")).href,
        folder,
      },
    });
    foldersRegistered.add(folder);
  }
}

/**
 * The files of `dir` that Convex treats as modules, relative to `dir` with `/` separators, sorted.
 * The rules are the CLI's: generated code, dotfiles, `schema.ts`, names with several dots (`*.test.ts`,
 * `auth.config.ts`), paths with spaces and TypeScript files without imports or exports are not modules;
 * a folder holding `convex.config.ts` is a component and skipped.
 */
export function entryPoints(dir) {
  const found = [];
  const walk = (relDir) => {
    const entries = readdirSync(path.join(dir, relDir), { withFileTypes: true }).sort((a, b) =>
      a.name < b.name ? -1 : a.name > b.name ? 1 : 0,
    );
    for (const entry of entries) {
      const rel = relDir === "" ? entry.name : `${relDir}/${entry.name}`;
      if (entry.isDirectory()) {
        if (entry.name === "node_modules" || existsSync(path.join(dir, rel, "convex.config.ts"))) {
          continue;
        }
        walk(rel);
      } else if (entry.isFile() && isEntryPoint(dir, rel)) {
        found.push(rel);
      }
    }
  };
  walk("");
  return found;
}

function isEntryPoint(dir, rel) {
  const base = path.posix.basename(rel);
  if (rel.startsWith("_deps/")) {
    throw new LoadError(rel, "the `_deps` folder is reserved for dependencies; move this file");
  }
  if (!ENTRY_POINT_EXTENSIONS.some((ext) => rel.endsWith(ext))) return false;
  if (rel.startsWith("_generated/")) return false;
  if (base.startsWith(".") || base.startsWith("#")) return false;
  if (base === "schema.ts" || base === "schema.js") return false;
  if ((base.match(/\./g) ?? []).length > 1) return false;
  if (rel.includes(" ")) return false;
  if (rel.endsWith(".ts") || rel.endsWith(".tsx")) {
    const source = readFileSync(path.join(dir, rel), "utf8");
    return /^\s{0,100}(import|export)/m.test(source);
  }
  return true;
}

/** `posts.ts` → `posts`, `admin/users.js` → `admin/users`. */
function modulePath(rel) {
  return rel.replace(/\.[^./]+$/, "");
}

async function importFile(dir, rel) {
  try {
    return await import(pathToFileURL(path.join(dir, rel)).href);
  } catch (error) {
    throw new LoadError(rel, error);
  }
}

const KINDS = [
  ["isQuery", "Query"],
  ["isMutation", "Mutation"],
  ["isAction", "Action"],
];

/** The kind of a Convex function export, or `undefined` for anything else a module exports. */
function kindOf(value) {
  if (typeof value !== "function") return undefined;
  return KINDS.find(([flag]) => value[flag] === true)?.[1];
}

/**
 * Imports every module of `dir` and its schema. Resolves to
 * `{ dir, schema, modules, files, functions, router }`: `modules` maps a module path to its namespace,
 * `files` a module path to its file, `functions` a canonical path (`posts:list`) to
 * `{ module, exportName, kind, visibility, func }`, and `router` is the default export of `http`, if any.
 * Rejects with a `LoadError` naming the file that failed.
 */
export async function loadFunctions(dir, { packages } = {}) {
  const absolute = path.resolve(dir);
  if (!existsSync(absolute)) {
    throw new LoadError(undefined, "no such folder");
  }
  if (!statSync(absolute).isDirectory()) {
    throw new LoadError(undefined, "not a folder");
  }
  registerLoaders(absolute, packages);
  let schema;
  for (const name of ["schema.ts", "schema.js"]) {
    if (existsSync(path.join(absolute, name))) {
      const namespace = await importFile(absolute, name);
      if (namespace.default === undefined) {
        throw new LoadError(
          name,
          "it has no default export (`export default defineSchema({ … })`)",
        );
      }
      schema = namespace.default;
      break;
    }
  }
  const modules = {};
  const files = {};
  const functions = new Map();
  let router;
  for (const rel of entryPoints(absolute)) {
    const module = modulePath(rel);
    const namespace = await importFile(absolute, rel);
    modules[module] = namespace;
    files[module] = rel;
    for (const [exportName, value] of Object.entries(namespace)) {
      const kind = kindOf(value);
      if (kind !== undefined) {
        functions.set(`${module}:${exportName}`, {
          module,
          exportName,
          kind,
          visibility: value.isInternal === true ? "internal" : "public",
          func: value,
        });
      }
    }
    if (module === "http" && namespace.default?.isRouter === true) {
      router = namespace.default;
    }
  }
  return { dir: absolute, schema, modules, files, functions, router };
}
