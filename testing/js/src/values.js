// Convex values on the wire and in messages: the answer formats, and the backend's way of printing a
// value or a validator in an `ArgumentValidationError`.

import { convexToJson } from "convex/values";

/**
 * The value formats a request may name in `format`, by name; `undefined` for a name the backend does
 * not know. `export_json` is answered like clean `json`.
 */
export function parseFormat(name) {
  switch (name) {
    case "convex_encoded_json":
    case "convex_json":
      return "encoded";
    case "json":
    case "convex_clean_json":
    case "export_json":
      return "clean";
    default:
      return undefined;
  }
}

/** A Convex value as JSON in the format: the exact encoding, or clean JSON. */
export function exportValue(value, format) {
  return format === "encoded" ? convexToJson(value) : clean(value);
}

/** Clean JSON: int64 as a decimal string, bytes as base64, NaN and ±∞ as strings. */
function clean(value) {
  if (typeof value === "bigint") return value.toString();
  if (typeof value === "number") {
    if (Number.isNaN(value)) return "NaN";
    if (value === Infinity) return "Infinity";
    if (value === -Infinity) return "-Infinity";
    return value;
  }
  if (value instanceof ArrayBuffer) return Buffer.from(value).toString("base64");
  if (Array.isArray(value)) return value.map(clean);
  if (value !== null && typeof value === "object") {
    return Object.fromEntries(
      Object.entries(value)
        .filter(([, field]) => field !== undefined)
        .map(([key, field]) => [key, clean(field)]),
    );
  }
  return value;
}

/** Field names in the order the backend keeps them (a `BTreeMap`: by UTF-8 bytes). */
export function sortedKeys(object) {
  return Object.keys(object).sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
}

/** An `f64` as Rust's `{:?}` prints it: `5.0`, `0.1`, `1e16`, `-0.0`, `NaN`, `inf`. */
export function rustFloat(x) {
  if (Number.isNaN(x)) return "NaN";
  if (x === Infinity) return "inf";
  if (x === -Infinity) return "-inf";
  if (x === 0) return Object.is(x, -0) ? "-0.0" : "0.0";
  const abs = Math.abs(x);
  if (abs >= 1e16 || abs < 1e-4) {
    return x.toExponential().replace("e+", "e");
  }
  const text = String(x);
  return text.includes(".") ? text : `${text}.0`;
}

/** A string as Rust's `{:?}` prints it: double quotes, `\"`, `\\`, `\n`, `\u{1b}`. */
export function rustString(text) {
  let out = '"';
  for (const char of text) {
    const code = char.codePointAt(0);
    if (char === '"') out += '\\"';
    else if (char === "\\") out += "\\\\";
    else if (char === "\n") out += "\\n";
    else if (char === "\r") out += "\\r";
    else if (char === "\t") out += "\\t";
    else if (char === "\0") out += "\\0";
    else if (code < 0x20 || code === 0x7f) out += `\\u{${code.toString(16)}}`;
    else out += char;
  }
  return `${out}"`;
}

/** A Convex value as the backend prints it in messages: `{a: 1.0, b: "x"}`, `[1, 2]`, `b"AQI="`. */
export function displayValue(value) {
  if (value === null) return "null";
  if (typeof value === "bigint") return value.toString();
  if (typeof value === "number") return rustFloat(value);
  if (typeof value === "boolean") return String(value);
  if (typeof value === "string") return rustString(value);
  if (value instanceof ArrayBuffer) return `b${rustString(Buffer.from(value).toString("base64"))}`;
  if (Array.isArray(value)) return `[${value.map(displayValue).join(", ")}]`;
  if (typeof value === "object") {
    const fields = sortedKeys(value)
      .filter((key) => value[key] !== undefined)
      .map((key) => `${key}: ${displayValue(value[key])}`);
    return `{${fields.join(", ")}}`;
  }
  return String(value);
}

/** A literal validator's value as the backend prints it: JSON, `<bigint>`, `<number>` for NaN/±∞. */
function displayLiteral(json) {
  if (json !== null && typeof json === "object") {
    if ("$integer" in json) return "<bigint>";
    if ("$float" in json) return "<number>";
  }
  if (typeof json === "number") {
    return Number.isFinite(json) ? rustFloat(json) : "<number>";
  }
  return JSON.stringify(json);
}

/** A validator (its exported JSON) as the backend prints it: `v.object({a: v.optional(v.string())})`. */
export function displayValidator(validator) {
  switch (validator.type) {
    case "id":
      return `v.id(${JSON.stringify(validator.tableName)})`;
    case "null":
      return "v.null()";
    case "number":
      return "v.float64()";
    case "bigint":
    case "commitTs":
      return "v.int64()";
    case "boolean":
      return "v.boolean()";
    case "string":
      return "v.string()";
    case "bytes":
      return "v.bytes()";
    case "any":
      return "v.any()";
    case "literal":
      return `v.literal(${displayLiteral(validator.value)})`;
    case "array":
      return `v.array(${displayValidator(validator.value)})`;
    case "record":
      return `v.record(${displayValidator(validator.keys)}, ${displayField(validator.values)})`;
    case "object": {
      const fields = sortedKeys(validator.value).map(
        (name) => `${name}: ${displayField(validator.value[name])}`,
      );
      return `v.object({${fields.join(", ")}})`;
    }
    case "union":
      return `v.union(${validator.value.map(displayValidator).join(", ")})`;
    default:
      return `v.${validator.type}()`;
  }
}

function displayField(field) {
  const inner = displayValidator(field.fieldType);
  return field.optional ? `v.optional(${inner})` : inner;
}
