// Function paths as a deployment reads them: `dir/module:export`, `.js` optional, a module alone
// meaning its `default` export.

const MAX_SEGMENT_BYTES = 64;

/** A directory or file name of a module path: ASCII letters, digits, `_` and `.`, one letter or digit. */
function isModuleSegment(segment) {
  return (
    segment.length > 0 &&
    Buffer.byteLength(segment) <= MAX_SEGMENT_BYTES &&
    /^[A-Za-z0-9_.]+$/.test(segment) &&
    /[A-Za-z0-9]/.test(segment)
  );
}

/** An export name: letters, digits and `_`, not starting with a digit. */
function isIdentifier(name) {
  return name.length <= MAX_SEGMENT_BYTES && /^[A-Za-z_][A-Za-z0-9_]*$/.test(name);
}

/**
 * Parses a function path; `undefined` when a deployment would refuse it (`posts::list`, `:list`,
 * `posts:`, an empty string). Otherwise `{ module, exportName, canonical, withJs }`:
 * `posts.js:list` → module `posts`, export `list`, canonical `posts:list`, withJs `posts.js:list`.
 */
export function parseFunctionPath(path) {
  if (typeof path !== "string") return undefined;
  const colon = path.indexOf(":");
  let module = colon === -1 ? path : path.slice(0, colon);
  const exportName = colon === -1 ? "default" : path.slice(colon + 1);
  if (module.endsWith(".js")) {
    module = module.slice(0, -".js".length);
  }
  if (module === "" || !module.split("/").every(isModuleSegment) || !isIdentifier(exportName)) {
    return undefined;
  }
  return {
    module,
    exportName,
    canonical: `${module}:${exportName}`,
    withJs: `${module}.js:${exportName}`,
  };
}
