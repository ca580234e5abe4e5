// Results inferred from TypeScript for functions without a returns validator (`inferredReturns`).

import assert from "node:assert/strict";
import path from "node:path";
import { test } from "node:test";
import { EXAMPLES, FIXTURES, run } from "./support.js";

const field = (fieldType, optional = false) => ({ fieldType, optional });
const object = (fields) => ({ type: "object", value: fields });
const union = (...value) => ({ type: "union", value });
const literal = (value) => ({ type: "literal", value });
const STRING = { type: "string" };
const NUMBER = { type: "number" };
const NULL = { type: "null" };
const ANY = { type: "any" };

const printed = new Map();

/** The spec of `dir`, printed once per command line: each run type-checks the whole folder. */
function spec(dir, ...options) {
  const key = JSON.stringify([dir, ...options]);
  if (!printed.has(key)) printed.set(key, printSpec(dir, options));
  return printed.get(key);
}

async function printSpec(dir, options) {
  const { code, stdout, stderr } = await run([dir, "--spec", ...options]);
  assert.equal(code, 0, stderr);
  const byId = Object.fromEntries(JSON.parse(stdout).functions.map((f) => [f.identifier, f]));
  return { byId, stderr };
}

test("scalars, literal unions, bytes and bigint map to their validators", async () => {
  const { byId } = await spec(path.join(FIXTURES, "infer"));
  const scalars = byId["results.js:scalars"];
  assert.equal(scalars.returns, null, "the CLI's field stays null");
  assert.deepEqual(
    scalars.inferredReturns,
    object({
      b: field({ type: "boolean" }),
      big: field({ type: "bigint" }),
      bytes: field({ type: "bytes" }),
      level: field(union(literal(1), literal(2), literal(3))),
      mode: field(union(literal("on"), literal("off"))),
      n: field(NUMBER),
      nothing: field(NULL),
      s: field(STRING),
    }),
  );
});

test("arrays, records, tuples and optional or possibly undefined fields", async () => {
  const { byId } = await spec(path.join(FIXTURES, "infer"));
  assert.deepEqual(
    byId["results.js:shapes"].inferredReturns,
    object({
      byName: field({ type: "record", keys: STRING, values: field(NUMBER) }),
      entries: field({
        type: "array",
        value: object({
          name: field(STRING),
          note: field(STRING, true),
          score: field(NUMBER, true),
          tags: field({ type: "array", value: STRING }),
        }),
      }),
      pair: field({ type: "array", value: union(STRING, NUMBER) }),
    }),
  );
});

test("undefined at the top arrives as null; a void result is null", async () => {
  const { byId } = await spec(path.join(FIXTURES, "infer"));
  assert.deepEqual(byId["results.js:maybe"].inferredReturns, union(literal("yes"), NULL));
  assert.deepEqual(byId["results.js:nothing"].inferredReturns, NULL);
});

test("a declared returns validator is kept and nothing is inferred beside it", async () => {
  const { byId } = await spec(path.join(FIXTURES, "infer"));
  assert.deepEqual(byId["results.js:declared"].returns, STRING);
  assert.equal("inferredReturns" in byId["results.js:declared"], false);
});

test("what has no validator becomes any, each with its reason on stderr", async () => {
  const { byId, stderr } = await spec(path.join(FIXTURES, "infer"));
  const fields = byId["results.js:unexpressible"].inferredReturns.value;
  for (const name of ["when", "lookup", "callback", "loose", "opaque"]) {
    assert.deepEqual(fields[name], field(ANY), name);
  }
  assert.deepEqual(fields.tree.fieldType.value.children, field({ type: "array", value: ANY }));
  for (const reason of [
    "results.js:unexpressible: when: `Date` is not a plain object",
    "results.js:unexpressible: lookup: `Map` is not a plain object",
    "results.js:unexpressible: callback: a function is not a Convex value",
    "results.js:unexpressible: loose: its type is `any`",
    "results.js:unexpressible: opaque: its type is `unknown`",
    "results.js:unexpressible: tree.children[]: `Tree` is recursive",
  ]) {
    assert.ok(stderr.includes(`infer: ${reason}\n`), `${reason} in:\n${stderr}`);
  }
});

test("a type error in the module does not stop the inference", async () => {
  const { byId } = await spec(path.join(FIXTURES, "infer"));
  assert.deepEqual(
    byId["broken.js:stillTyped"].inferredReturns,
    object({ ok: field(NUMBER), wrong: field(NUMBER) }),
  );
});

test("--no-infer prints the CLI's spec alone", async () => {
  const { byId, stderr } = await spec(path.join(FIXTURES, "infer"), "--no-infer");
  assert.equal(stderr, "");
  for (const f of Object.values(byId)) assert.equal("inferredReturns" in f, false, f.identifier);
});

test("the examples' Doc, nullable Doc, page, union of objects and Id results", async () => {
  const { byId } = await spec(EXAMPLES);
  const post = object({
    _creationTime: field(NUMBER),
    _id: field({ type: "id", tableName: "posts" }),
    author: field(STRING),
    status: field(union(literal("draft"), literal("published"))),
    title: field(STRING),
  });
  const task = object({
    _creationTime: field(NUMBER),
    _id: field({ type: "id", tableName: "tasks" }),
    isCompleted: field({ type: "boolean" }),
    text: field(STRING),
  });
  assert.deepEqual(byId["undeclared.js:firstPost"].inferredReturns, post);
  assert.deepEqual(byId["undeclared.js:findTask"].inferredReturns, union(NULL, task));
  assert.deepEqual(
    byId["undeclared.js:pagePosts"].inferredReturns,
    object({
      continueCursor: field(STRING),
      isDone: field({ type: "boolean" }),
      page: field({ type: "array", value: post }),
      pageStatus: field(union(NULL, literal("SplitRecommended"), literal("SplitRequired")), true),
      splitCursor: field(union(NULL, STRING), true),
    }),
  );
  assert.deepEqual(byId["undeclared.js:addTask"].inferredReturns, { type: "id", tableName: "tasks" });
  assert.equal(byId["undeclared.js:describePost"].inferredReturns.type, "union");
  assert.deepEqual(
    byId["undeclared.js:countTasks"].inferredReturns,
    object({ done: field(NUMBER), total: field({ type: "bigint" }) }),
  );
});
