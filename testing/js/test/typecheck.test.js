// examples/convex type-checks as `npx convex deploy` checks it: `tsc` with the folder's own
// tsconfig.json, `convex` resolved from a node_modules beside the folder.

import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { EXAMPLES } from "./support.js";

const packageDir = path.join(path.dirname(fileURLToPath(import.meta.url)), "..");

test("examples/convex passes tsc --noEmit with its tsconfig.json", async () => {
  const project = mkdtempSync(path.join(tmpdir(), "convex-typecheck-"));
  try {
    // The usual layout: a project folder holding convex/ and node_modules/.
    symlinkSync(EXAMPLES, path.join(project, "convex"), "dir");
    symlinkSync(path.join(packageDir, "node_modules"), path.join(project, "node_modules"), "dir");
    const tsc = path.join(packageDir, "node_modules", "typescript", "bin", "tsc");
    const result = await promisify(execFile)(process.execPath, [
      tsc,
      "--noEmit",
      "-p",
      path.join(project, "convex", "tsconfig.json"),
    ]).catch((error) => error);
    assert.equal(result.code ?? 0, 0, `${result.stdout}${result.stderr}`);
  } finally {
    rmSync(project, { recursive: true, force: true });
  }
});
