// Function failures as a deployment words them: `[Request ID: <16 hex>] Server Error`, then (unless
// the server redacts, as production deployments do) the error and its stack, each line ending in a
// newline. A thrown `ConvexError` also sends its data, redacted or not.

import { randomBytes } from "node:crypto";
import path from "node:path";
import { fileURLToPath } from "node:url";

/** A fresh request id: 16 lowercase hex digits. */
export function requestId() {
  return randomBytes(8).toString("hex");
}

/** The `errorMessage` of a function failure whose detail is `lines` (without final newlines). */
export function serverErrorMessage(id, lines, redact) {
  const prefix = `[Request ID: ${id}] Server Error`;
  if (redact) {
    return prefix;
  }
  return `${prefix}\n${lines.map((line) => `${line}\n`).join("")}`;
}

function isConvexError(error) {
  return typeof error === "object" && error !== null && Symbol.for("ConvexError") in error;
}

/**
 * The stack frames of `error` that lie in the functions folder, as the backend prints them:
 * `    at handler (../convex/tasks.ts:31:13)`. Frames of Node, `convex` and `convex-test` are left out.
 */
export function userFrames(error, dir) {
  const stack = typeof error?.stack === "string" ? error.stack : "";
  const folder = path.basename(dir);
  const frames = [];
  for (const line of stack.split("\n")) {
    const match = /^\s+at (?:(.*) \()?(.+?):(\d+):(\d+)\)?$/.exec(line);
    if (match === null) continue;
    const [, name, location, row, column] = match;
    let file = location;
    if (file.startsWith("file://")) {
      try {
        file = fileURLToPath(file.split("?")[0]);
      } catch {
        continue;
      }
    }
    const rel = path.relative(dir, file);
    if (
      rel.startsWith("..") ||
      path.isAbsolute(rel) ||
      rel.split(path.sep).includes("node_modules")
    ) {
      continue;
    }
    const where = `../${folder}/${rel.split(path.sep).join("/")}:${row}:${column}`;
    frames.push(name === undefined ? `    at ${where}` : `    at ${name} (${where})`);
  }
  return frames;
}

/**
 * What a function threw, as a failure answer's parts: `{ lines, data }`. `lines` start with
 * `Uncaught <Name>: <message>` and go on with the user's stack frames; `data` is a `ConvexError`'s
 * data (a Convex value), or `undefined`.
 */
export function describeThrown(thrown, dir) {
  if (thrown instanceof Error || isConvexError(thrown)) {
    const name = isConvexError(thrown) ? "ConvexError" : thrown.name || "Error";
    const first = `Uncaught ${name}: ${thrown.message}`;
    const data = isConvexError(thrown)
      ? thrown.data === undefined
        ? null
        : thrown.data
      : undefined;
    return { lines: [first, ...userFrames(thrown, dir)], data };
  }
  return { lines: [`Uncaught ${JSON.stringify(thrown) ?? String(thrown)}`], data: undefined };
}
