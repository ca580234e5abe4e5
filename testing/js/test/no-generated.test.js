// A `convex/` folder without `_generated/` (a fresh app; a repository that does not commit it) is served:
// its imports of `_generated/server`, `_generated/api` and `_generated/dataModel` get the package's stand-ins.
// A folder with its own `_generated` file keeps it.

import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { FIXTURES, post, run, start } from "./support.js";

const NO_GENERATED = path.join(FIXTURES, "no-generated");
const OWN_GENERATED = path.join(FIXTURES, "own-generated");

describe("a folder without _generated/", () => {
  let server;
  before(async () => {
    assert.ok(!existsSync(path.join(NO_GENERATED, "_generated")), "the fixture must have no _generated/");
    server = await start({ dir: NO_GENERATED, args: [] });
  });
  after(async () => {
    await server.stop();
  });

  test("its query, mutation and action builders from _generated/server run", async () => {
    const added = await post(server, "/api/mutation", { path: "notes:add", args: { text: "milk" } });
    assert.equal(added.body.status, "success", JSON.stringify(added.body));
    assert.equal(typeof added.body.value, "string");
    const action = await post(server, "/api/action", { path: "notes:addTwice", args: { text: "eggs" } });
    // `api.notes.add` and `internal.notes.addQuietly` from the stand-in `_generated/api` reached the functions.
    assert.equal(action.body.status, "success", JSON.stringify(action.body));
    assert.equal(action.body.value, 3);
    const list = await post(server, "/api/query", { path: "notes:list", args: {} });
    assert.deepEqual(list.body.value, ["milk", "eggs", "eggs again"]);
    // `../_generated/server` from a subfolder.
    const count = await post(server, "/api/query", { path: "admin/stats:count", args: {} });
    assert.equal(count.body.value, 3);
  });

  test("internal builders stay internal, httpAction serves routes", async () => {
    const internal = await post(server, "/api/query", { path: "admin/stats:secret", args: {} });
    assert.equal(internal.body.status, "error");
    assert.match(internal.body.errorMessage, /Could not find public function/);
    const response = await fetch(`${server.siteUrl}/notes`);
    assert.equal(response.status, 200);
    assert.ok(Array.isArray(await response.json()));
  });

  test("its function spec is printed too", async () => {
    const { code, stdout, stderr } = await run([NO_GENERATED, "--spec"]);
    assert.equal(code, 0, stderr);
    const spec = JSON.parse(stdout);
    const names = (spec.functions ?? spec).map((f) => `${f.identifier}:${f.functionType}`).sort();
    assert.ok(names.includes("notes.js:add:Mutation"), names.join());
  });
});

describe("a folder with its own _generated file", () => {
  test("keeps it", async () => {
    const server = await start({ dir: OWN_GENERATED, args: [] });
    try {
      const { body } = await post(server, "/api/query", { path: "where:read", args: {} });
      assert.deepEqual(body.value, "the folder's own _generated/api.js");
    } finally {
      await server.stop();
    }
  });
});
