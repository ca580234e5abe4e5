// Returns validators inferred from a `convex/` folder's TypeScript, for the functions that declare
// none: what a TypeScript caller sees as the function's (awaited) result type, written as the
// validator that describes the value on the wire. Nothing enforces an inferred validator, so the
// mapping is conservative: a type it cannot express exactly becomes `v.any()` with a note, never a
// guess.

import { existsSync, readdirSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import ts from "typescript";
import { v } from "convex/values";

/** How deep object and array types are followed; past it (recursive types), `any`. */
const MAX_DEPTH = 12;
const SOURCE = /\.(ts|tsx|js|jsx|mts|mjs)$/;
/** Object types that are not plain objects on the wire (or not Convex values at all). */
const NOT_PLAIN = new Set([
  "Date",
  "Map",
  "Set",
  "WeakMap",
  "WeakSet",
  "RegExp",
  "Promise",
  "Error",
  "Blob",
  "Response",
  "Request",
  "Uint8Array",
  "Int8Array",
  "Uint16Array",
  "Int16Array",
  "Uint32Array",
  "Int32Array",
  "Float32Array",
  "Float64Array",
  "BigInt64Array",
  "BigUint64Array",
  "DataView",
  "ReadableStream",
  "URL",
]);
const REGISTERED = new Set(["RegisteredQuery", "RegisteredMutation", "RegisteredAction"]);

/** This package's folder: `convex` resolves from here when the app has no `node_modules` of its own. */
const OWN_PACKAGES = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

/** The folder's source files (not `node_modules`, not dotfiles). */
function sourceFiles(dir) {
  const out = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.name.startsWith(".") || entry.name === "node_modules") continue;
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...sourceFiles(full));
    else if (SOURCE.test(entry.name) && !entry.name.endsWith(".d.ts")) out.push(full);
  }
  return out;
}

/** The folder's own `tsconfig.json` options, or Convex's defaults; null checks always on. */
function compilerOptions(dir, notes) {
  const defaults = {
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.ESNext,
    moduleResolution: ts.ModuleResolutionKind.Bundler,
    jsx: ts.JsxEmit.ReactJSX,
    strict: true,
    allowJs: true,
    skipLibCheck: true,
  };
  const configFile = path.join(dir, "tsconfig.json");
  let options = defaults;
  if (existsSync(configFile)) {
    const read = ts.readConfigFile(configFile, ts.sys.readFile);
    if (read.error) {
      notes.push(`tsconfig.json not read (${flatten(read.error)}); using defaults`);
    } else {
      options = ts.parseJsonConfigFileContent(read.config, ts.sys, dir).options;
    }
  }
  // Without null checks `T | null` reads as `T`: an inferred type would drop the null the wire carries.
  return { ...options, strictNullChecks: true, noEmit: true, skipLibCheck: true, allowJs: true };
}

function flatten(diagnostic) {
  return ts.flattenDiagnosticMessageText(diagnostic.messageText, "\n");
}

/**
 * A compiler host that resolves as the folder's own configuration does and, for a bare import that
 * finds nothing (the folder has no `node_modules`), from `base`: the packages the server runs with.
 */
function compilerHost(options, base) {
  const host = ts.createCompilerHost(options, true);
  const fallbackFile = path.join(base, "package.json");
  host.resolveModuleNames = (names, containingFile) =>
    names.map((name) => {
      const own = ts.resolveModuleName(name, containingFile, options, host).resolvedModule;
      if (own !== undefined || name.startsWith(".") || name.startsWith("/")) return own;
      return ts.resolveModuleName(name, fallbackFile, options, host).resolvedModule;
    });
  return host;
}

/** The export's declared result: `Returns` of `RegisteredQuery<Visibility, Args, Returns>`, or its handler's. */
function declaredResult(checker, type, symbol) {
  const alias = type.aliasSymbol?.escapedName;
  if (REGISTERED.has(alias) && type.aliasTypeArguments?.length === 3) {
    return type.aliasTypeArguments[2];
  }
  // A wrapper that lost the alias: the handler of `query({ handler })` or `query(handler)`.
  const decl = symbol.valueDeclaration;
  const init = decl && ts.isVariableDeclaration(decl) ? decl.initializer : undefined;
  if (init && ts.isCallExpression(init) && init.arguments.length > 0) {
    const arg = init.arguments[0];
    let handler = arg;
    if (ts.isObjectLiteralExpression(arg)) {
      const prop = arg.properties.find((p) => p.name && p.name.getText() === "handler");
      handler = prop && (ts.isPropertyAssignment(prop) ? prop.initializer : prop);
    }
    if (handler) {
      const signatures = checker.getTypeAtLocation(handler).getCallSignatures();
      if (signatures.length === 1) return signatures[0].getReturnType();
    }
  }
  return undefined;
}

/** Maps TypeScript types to Convex validators, collecting why a part became `any`. */
class Mapper {
  constructor(checker) {
    this.checker = checker;
    this.notes = [];
    /** The object types being mapped, outermost first. */
    this.open = new Set();
  }

  any(where, why) {
    this.notes.push(`${where || "the result"}: ${why}`);
    return v.any();
  }

  name(type) {
    return this.checker.typeToString(type);
  }

  /** The whole result: `undefined`/`void` arrive as null, so `T | undefined` is `T | null`. */
  result(type) {
    const { members, undefinedToo } = this.splitUndefined(type);
    if (members.length === 0) return v.null();
    const validator = this.union(members, "", 0);
    if (!undefinedToo) return validator;
    if (members.some((m) => m.flags & ts.TypeFlags.Null)) return validator;
    const alternatives = validator.kind === "union" ? validator.members : [validator];
    return v.union(...alternatives, v.null());
  }

  /** A union's members apart from `undefined` and `void`, and whether there were any of those. */
  splitUndefined(type) {
    const all = type.isUnion() ? type.types : [type];
    const members = all.filter((m) => !(m.flags & (ts.TypeFlags.Undefined | ts.TypeFlags.Void)));
    return { members, undefinedToo: members.length !== all.length };
  }

  /** A union of members; `true | false` is `boolean`. */
  union(members, where, depth) {
    const hasTrue = members.some((m) => m.flags & ts.TypeFlags.BooleanLiteral && this.name(m) === "true");
    const hasFalse = members.some((m) => m.flags & ts.TypeFlags.BooleanLiteral && this.name(m) === "false");
    const validators = [];
    let booleanDone = false;
    for (const member of members) {
      if (hasTrue && hasFalse && member.flags & ts.TypeFlags.BooleanLiteral) {
        if (!booleanDone) validators.push(v.boolean());
        booleanDone = true;
        continue;
      }
      const validator = this.map(member, where, depth);
      if (validator.kind === "any") return validator;
      validators.push(validator);
    }
    return validators.length === 1 ? validators[0] : v.union(...validators);
  }

  map(type, where, depth) {
    const f = type.flags;
    const T = ts.TypeFlags;
    if (f & T.Any) return this.any(where, "its type is `any`");
    if (f & T.Unknown) return this.any(where, "its type is `unknown`");
    if (f & T.Never) return this.any(where, "its type is `never`");
    if (f & (T.TypeParameter | T.IndexedAccess | T.Conditional | T.Substitution)) {
      return this.any(where, `\`${this.name(type)}\` is an unresolved generic`);
    }
    if (f & T.Null) return v.null();
    if (f & (T.Undefined | T.Void)) return v.null();
    if (f & T.StringLiteral) return v.literal(type.value);
    if (f & T.NumberLiteral) return v.literal(type.value);
    if (f & T.BigIntLiteral) {
      const { negative, base10Value } = type.value;
      return v.literal(BigInt(`${negative ? "-" : ""}${base10Value}`));
    }
    if (f & T.BooleanLiteral) return v.literal(this.name(type) === "true");
    if (f & (T.String | T.TemplateLiteral | T.StringMapping)) return v.string();
    if (f & T.Number) return v.number();
    if (f & T.Boolean) return v.boolean();
    if (f & T.BigInt) return v.int64();
    if (f & T.ESSymbolLike) return this.any(where, "a symbol is not a Convex value");
    if (type.isUnion()) {
      // `undefined` inside a value (not an object field) cannot be sent: the remaining members are what arrives.
      const { members } = this.splitUndefined(type);
      if (members.length === 0) return v.null();
      return this.union(members, where, depth);
    }
    if (depth >= MAX_DEPTH) {
      return this.any(where, `nested deeper than ${MAX_DEPTH} levels (a recursive type?)`);
    }
    if (type.isIntersection()) {
      const table = this.idTable(type);
      if (table !== undefined) return v.id(table);
      if (type.types.some((t) => t.flags & (T.Primitive | T.TemplateLiteral))) {
        return this.any(where, `\`${this.name(type)}\` is a branded primitive`);
      }
      return this.object(type, where, depth);
    }
    if (f & T.Object) return this.object(type, where, depth);
    return this.any(where, `\`${this.name(type)}\` has no Convex validator`);
  }

  /** `Id<"t">` (`string & { __tableName: "t" }`) → `"t"`. */
  idTable(type) {
    if (!type.types.some((t) => t.flags & T_STRING)) return undefined;
    const brand = type.getProperty("__tableName");
    if (brand === undefined) return undefined;
    const brandType = this.checker.getTypeOfSymbol(brand);
    return brandType.flags & ts.TypeFlags.StringLiteral ? brandType.value : undefined;
  }

  /** An object type, `any` where it contains itself (a recursive type has no finite validator). */
  object(type, where, depth) {
    if (this.open.has(type)) {
      return this.any(where, `\`${this.name(type)}\` is recursive`);
    }
    this.open.add(type);
    try {
      return this.objectOnce(type, where, depth);
    } finally {
      this.open.delete(type);
    }
  }

  objectOnce(type, where, depth) {
    const checker = this.checker;
    const symbolName = type.getSymbol()?.escapedName;
    if (symbolName === "ArrayBuffer") return v.bytes();
    if (NOT_PLAIN.has(symbolName)) {
      return this.any(where, `\`${symbolName}\` is not a plain object`);
    }
    if (checker.isArrayType(type)) {
      const [element] = checker.getTypeArguments(type);
      return v.array(this.map(element, `${where}[]`, depth + 1));
    }
    if (checker.isTupleType(type)) {
      const elements = checker.getTypeArguments(type);
      if (elements.length === 0) return this.any(where, "an empty tuple has no element type");
      return v.array(this.union(elements, `${where}[]`, depth + 1));
    }
    if (type.getCallSignatures().length > 0 || type.getConstructSignatures().length > 0) {
      return this.any(where, "a function is not a Convex value");
    }
    if (type.getSymbol()?.flags & ts.SymbolFlags.Class) {
      return this.any(where, `\`${symbolName}\` is a class instance`);
    }
    const properties = checker.getPropertiesOfType(type);
    const indexes = checker.getIndexInfosOfType(type);
    if (indexes.length > 0) {
      const index = indexes[0];
      if (properties.length > 0 || indexes.length > 1 || !(index.keyType.flags & ts.TypeFlags.String)) {
        return this.any(where, `\`${this.name(type)}\` mixes fields and an index signature`);
      }
      const { members } = this.splitUndefined(index.type);
      if (members.length === 0) return this.any(where, "a record of `undefined`");
      return v.record(v.string(), this.union(members, `${where}[key]`, depth + 1));
    }
    const fields = {};
    for (const property of properties) {
      const key = property.getName();
      const at = where ? `${where}.${key}` : key;
      const propertyType = checker.getTypeOfSymbol(property);
      const { members, undefinedToo } = this.splitUndefined(propertyType);
      const optional = undefinedToo || (property.flags & ts.SymbolFlags.Optional) !== 0;
      if (members.length === 0) {
        // Always undefined: the field never arrives.
        continue;
      }
      const validator = members.some((m) => m.getCallSignatures().length > 0)
        ? this.any(at, "a function is not a Convex value")
        : this.union(members, at, depth + 1);
      fields[key] = optional ? v.optional(validator) : validator;
    }
    return v.object(fields);
  }
}

const T_STRING = ts.TypeFlags.String;

/**
 * Infers the results of `targets` (`{ identifier, file, exportName }`, `file` relative to `dir`):
 * returns `{ inferred: Map<identifier, validator JSON>, notes: string[] }`. The program is checked
 * as a whole, but type errors do not stop it: each function gets what its type says, and a function
 * whose type cannot be read is left out with a note.
 */
export function inferReturns(dir, targets, { packages } = {}) {
  const absolute = path.resolve(dir);
  const notes = [];
  const options = compilerOptions(absolute, notes);
  const base = packages === undefined ? OWN_PACKAGES : path.resolve(packages);
  const host = compilerHost(options, base);
  const program = ts.createProgram(sourceFiles(absolute), options, host);
  const checker = program.getTypeChecker();
  const inferred = new Map();
  for (const target of targets) {
    const where = target.identifier;
    const sourceFile = program.getSourceFile(path.join(absolute, target.file));
    const moduleSymbol = sourceFile && checker.getSymbolAtLocation(sourceFile);
    if (moduleSymbol === undefined) {
      notes.push(`${where}: skipped, its file was not read as a module`);
      continue;
    }
    let symbol = checker.getExportsOfModule(moduleSymbol).find((s) => s.escapedName === target.exportName);
    if (symbol === undefined) {
      notes.push(`${where}: skipped, the export was not found by the type checker`);
      continue;
    }
    if (symbol.flags & ts.SymbolFlags.Alias) symbol = checker.getAliasedSymbol(symbol);
    const type = checker.getTypeOfSymbolAtLocation(symbol, sourceFile);
    const declared = declaredResult(checker, type, symbol);
    if (declared === undefined) {
      notes.push(`${where}: skipped, its type (${checker.typeToString(type)}) names no result`);
      continue;
    }
    const mapper = new Mapper(checker);
    const result = checker.getAwaitedType(declared) ?? declared;
    inferred.set(where, mapper.result(result).json);
    for (const note of mapper.notes) notes.push(`${where}: ${note}`);
  }
  return { inferred, notes };
}
