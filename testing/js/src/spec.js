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
 * identifier (`posts.js:list`), then the HTTP routes sorted by path and method.
 */
export function functionSpec(loaded, url) {
  const functions = [...loaded.functions.values()]
    .map((fn) => {
      const identifier = `${fn.module}.js:${fn.exportName}`;
      return {
        args: parseExport(fn.func, "args", identifier),
        functionType: fn.kind,
        identifier,
        returns: parseExport(fn.func, "returns", identifier),
        visibility: { kind: fn.visibility },
      };
    })
    .sort((a, b) => (a.identifier < b.identifier ? -1 : a.identifier > b.identifier ? 1 : 0));
  const routes = (loaded.router?.getRoutes() ?? [])
    .map(([path, method]) => ({ functionType: "HttpAction", method, path }))
    .sort((a, b) =>
      a.path === b.path ? (a.method < b.method ? -1 : 1) : a.path < b.path ? -1 : 1,
    );
  return sortKeys({ url, functions: [...functions, ...routes] });
}

/** The spec as the CLI prints it: two-space indented JSON and a final newline. */
export function formatSpec(spec) {
  return `${JSON.stringify(spec, null, 2)}\n`;
}
