// Reads Convex-encoded JSON values with the official Convex JS client (npm `convex`, pinned in
// package.json) and writes them back, to compare convex-fetch's `Value` with it (tests/tests/suite/values_js.rs).
//
//     node tests/js/values.mjs < values.jsonl
//
// Each input line is one value on the wire. Each output line is a JSON object: `{"json": "<the text of
// JSON.stringify(convexToJson(jsonToConvex(input)))>", "display": "<the value in the dashboard's notation>"}`, or
// `{"error": "<message>"}` when the client refuses the input. The exit code is 0 unless the input could
// not be read.

import { createInterface } from "node:readline";
import { convexToJson, jsonToConvex } from "convex/values";

// Words that the dashboard quotes when they are field names (it quotes what is not a valid identifier).
const RESERVED = new Set(
  (
    "await break case catch class const continue debugger default delete do else enum export extends false " +
    "finally for function if implements import in instanceof interface let new null package private " +
    "protected public return static super switch this throw true try typeof var void while with yield"
  ).split(" "),
);

function fieldName(name) {
  return /^[A-Za-z_$][A-Za-z0-9_$]*$/.test(name) && !RESERVED.has(name) ? name : JSON.stringify(name);
}

// The dashboard's one-line notation (`stringifyValue` in the dashboard), except that -0 is shown as `-0`,
// an empty object as `{}`, strings always in JSON quotes and fields in Convex's order (by name; a JS object
// lists integer-like names first).
function display(value) {
  if (value === null) return "null";
  if (typeof value === "bigint") return `${value}n`;
  if (typeof value === "number") return Object.is(value, -0) ? "-0" : String(value);
  if (typeof value === "boolean") return String(value);
  if (typeof value === "string") return JSON.stringify(value);
  if (value instanceof ArrayBuffer) return `Bytes("${Buffer.from(value).toString("base64")}")`;
  if (Array.isArray(value)) return `[${value.map(display).join(", ")}]`;
  const names = Object.keys(value).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  if (names.length === 0) return "{}";
  return `{ ${names.map((name) => `${fieldName(name)}: ${display(value[name])}`).join(", ")} }`;
}

const lines = createInterface({ input: process.stdin, crlfDelay: Infinity });
for await (const line of lines) {
  let answer;
  try {
    const value = jsonToConvex(JSON.parse(line));
    answer = { json: JSON.stringify(convexToJson(value)), display: display(value) };
  } catch (e) {
    answer = { error: String(e?.message ?? e) };
  }
  process.stdout.write(JSON.stringify(answer) + "\n");
}
