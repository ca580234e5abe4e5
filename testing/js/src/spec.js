// The function spec that `npx convex function-spec` prints, built from the loaded modules instead of
// a deployment: each function's exported args and returns validators, its kind and visibility, and
// the HTTP routes of `http.ts`; object keys sorted as the backend sorts them.

/** A JSON value with every object's keys sorted. */
function sortKeys(value) {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value !== null && typeof value === "object") {
    return Object.fromEntries(
      Object.keys(value)
        .sort()
        .map((key) => [key, sortKeys(value[key])]),
    );
  }
  return value;
}

function parseExport(func, what, identifier) {
  const text = what === "args" ? func.exportArgs() : func.exportReturns();
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new Error(`${identifier}: its ${what} validator is not valid JSON: ${error.message}`);
  }
}

/**
 * The spec `{ url, functions }` of loaded functions: queries, mutations and actions sorted by
 * identifier (`posts.js:list`), then the HTTP routes sorted by path and method. `inferred` maps an
 * identifier to the returns validator inferred from its TypeScript (see infer.js): a function without
 * a declared one gets it as `inferredReturns`, its `returns` staying `null` as the CLI prints it.
 */
export function functionSpec(loaded, url, inferred = new Map()) {
  const functions = [...loaded.functions.values()]
    .map((fn) => {
      const identifier = `${fn.module}.js:${fn.exportName}`;
      const returns = parseExport(fn.func, "returns", identifier);
      const entry = {
        args: parseExport(fn.func, "args", identifier),
        functionType: fn.kind,
        identifier,
        returns,
        visibility: { kind: fn.visibility },
      };
      if (returns === null && inferred.has(identifier)) {
        entry.inferredReturns = inferred.get(identifier);
      }
      return entry;
    })
    .sort((a, b) => (a.identifier < b.identifier ? -1 : a.identifier > b.identifier ? 1 : 0));
  const routes = (loaded.router?.getRoutes() ?? [])
    .map(([path, method]) => ({ functionType: "HttpAction", method, path }))
    .sort((a, b) =>
      a.path === b.path ? (a.method < b.method ? -1 : 1) : a.path < b.path ? -1 : 1,
    );
  return sortKeys({ url, functions: [...functions, ...routes] });
}

/** The functions of `loaded` whose returns validator is absent, as `inferReturns` takes them. */
export function undeclaredResults(loaded) {
  return [...loaded.functions.values()]
    .filter((fn) => parseExport(fn.func, "returns", fn.module) === null)
    .map((fn) => ({
      identifier: `${fn.module}.js:${fn.exportName}`,
      file: loaded.files[fn.module],
      exportName: fn.exportName,
    }));
}

/** The spec as the CLI prints it: two-space indented JSON and a final newline. */
export function formatSpec(spec) {
  return `${JSON.stringify(spec, null, 2)}\n`;
}
