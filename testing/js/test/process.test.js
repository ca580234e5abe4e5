// The command line's contract: the first stdout line, exiting when stdin closes, clear failures.

import assert from "node:assert/strict";
import { once } from "node:events";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { test } from "node:test";
import { FIXTURES, run, start } from "./support.js";

test("the first stdout line holds the URLs and admin key; closing stdin stops the server", async () => {
  const server = await start({ dir: path.join(FIXTURES, "app"), args: ["--admin-key", "k-1"] });
  assert.match(server.url, /^http:\/\/127\.0\.0\.1:\d+$/);
  assert.match(server.siteUrl, /^http:\/\/127\.0\.0\.1:\d+$/);
  assert.notEqual(server.url, server.siteUrl);
  assert.equal(server.adminKey, "k-1");
  const exit = once(server.child, "exit");
  server.child.stdin.end();
  const [code] = await exit;
  assert.equal(code, 0);
  await assert.rejects(fetch(`${server.url}/api/query_ts`, { method: "POST" }));
});

test("--admin-key-file reads the key from a file, so that it is not among the arguments", async () => {
  const dir = mkdtempSync(path.join(tmpdir(), "admin-key-"));
  const file = path.join(dir, "key");
  writeFileSync(file, "k-from-file\n", { mode: 0o600 });
  try {
    const server = await start({ dir: path.join(FIXTURES, "app"), args: ["--admin-key-file", file] });
    try {
      assert.equal(server.adminKey, "k-from-file");
      assert.ok(!server.child.spawnargs.join(" ").includes("k-from-file"));
    } finally {
      await server.stop();
    }
    const both = await run([path.join(FIXTURES, "app"), "--admin-key", "k", "--admin-key-file", file]);
    assert.equal(both.code, 2);
    assert.match(both.stderr, /--admin-key or --admin-key-file, not both/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("without --admin-key a random key is chosen and printed", async () => {
  const server = await start({ dir: path.join(FIXTURES, "app"), args: [] });
  try {
    assert.match(server.adminKey, /^[0-9a-f]{48}$/);
  } finally {
    await server.stop();
  }
});

test("a module that throws at import: exit 1, stderr names the file and the error", async () => {
  const { code, stdout, stderr } = await run([path.join(FIXTURES, "throws-at-import")]);
  assert.equal(code, 1);
  assert.equal(stdout, "");
  assert.match(
    stderr,
    /^error: could not load the Convex functions in .*throws-at-import: broken\.ts: /,
  );
  assert.match(stderr, /the module refuses to load/);
});

test("a TypeScript syntax error: exit 1, stderr names the file and the position", async () => {
  const { code, stdout, stderr } = await run([path.join(FIXTURES, "syntax-error"), "--spec"]);
  assert.equal(code, 1);
  assert.equal(stdout, "");
  assert.match(stderr, /^error: could not load the Convex functions in .*syntax-error: typo\.ts: /);
  assert.match(stderr, /typo\.ts:3:\d+/);
});

test("a missing folder, a failing --run and bad options", async () => {
  const missing = await run([path.join(FIXTURES, "nowhere")]);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /nowhere: no such folder/);
  const failing = await run([path.join(FIXTURES, "app"), "--run", "errors:boom"]);
  assert.equal(failing.code, 1);
  assert.match(failing.stderr, /--run errors:boom failed: .*Uncaught Error: boom/s);
  const usage = await run([path.join(FIXTURES, "app"), "--port", "http"]);
  assert.equal(usage.code, 2);
  assert.match(usage.stderr, /--port must be a port number/);
  const token = await run([path.join(FIXTURES, "app"), "--token", "t={not json"]);
  assert.equal(token.code, 2);
  assert.match(token.stderr, /--token: the identity is not JSON/);
  const noFolder = await run([]);
  assert.equal(noFolder.code, 2);
});
