// The function spec, generated without a deployment.

import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import path from "node:path";
import { test } from "node:test";
import { EXAMPLES, FIXTURES, run } from "./support.js";

test("the examples' spec is the committed examples/convex/function_spec.json", async () => {
  const { code, stdout, stderr } = await run([
    EXAMPLES,
    "--spec",
    "--url",
    "https://happy-otter-123.convex.cloud",
  ]);
  assert.equal(code, 0, stderr);
  assert.equal(stdout, readFileSync(path.join(EXAMPLES, "function_spec.json"), "utf8"));
});

test("the spec's entries: kinds, visibility, absent validators, HTTP routes, sorted keys", async () => {
  const { code, stdout } = await run([path.join(FIXTURES, "app"), "--spec", "--no-infer"]);
  assert.equal(code, 0);
  const spec = JSON.parse(stdout);
  assert.equal(spec.url, "http://127.0.0.1:3210");
  const byId = Object.fromEntries(
    spec.functions.map((f) => [f.identifier ?? `${f.method} ${f.path}`, f]),
  );
  assert.deepEqual(byId["values.js:echo"], {
    args: { type: "any" },
    functionType: "Query",
    identifier: "values.js:echo",
    returns: null,
    visibility: { kind: "public" },
  });
  assert.deepEqual(byId["values.js:secret"].visibility, { kind: "internal" });
  assert.deepEqual(byId["errors.js:coded"].functionType, "Mutation");
  assert.deepEqual(byId["errors.js:badReturn"].returns, { type: "number" });
  assert.deepEqual(byId["POST /fail"], {
    functionType: "HttpAction",
    method: "POST",
    path: "/fail",
  });
  assert.deepEqual(byId["GET /files/*"], {
    functionType: "HttpAction",
    method: "GET",
    path: "/files/*",
  });
  const strict = byId["values.js:strict"].args;
  assert.deepEqual(Object.keys(strict.value), ["flag", "kind", "tags"]);
  assert.deepEqual(Object.keys(strict.value.kind), ["fieldType", "optional"]);
});
