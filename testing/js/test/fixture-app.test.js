// Failure shapes, value formats and HTTP action errors, on the small app of test/fixtures/app.

import assert from "node:assert/strict";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { ConvexHttpClient } from "convex/browser";
import { makeFunctionReference } from "convex/server";
import { ConvexError } from "convex/values";
import { FIXTURES, post, serverError, start, withoutRequestId } from "./support.js";

const APP = path.join(FIXTURES, "app");
const TOKEN = "fixture-token";
const tokenArgs = ["--token", `${TOKEN}=${JSON.stringify({ subject: "u9" })}`];

describe("a development deployment's answers", () => {
  let server;
  before(async () => {
    server = await start({ dir: APP, args: tokenArgs });
  });
  after(async () => {
    await server.stop();
  });

  test("a plain throw: Uncaught Error, the message and the function's own stack frames", async () => {
    const { body } = await post(server, "/api/query", { path: "errors:boom", args: {} });
    assert.equal(body.status, "error");
    assert.match(body.errorMessage, /^\[Request ID: [0-9a-f]{16}\] Server Error\n/);
    assert.equal(
      withoutRequestId(body.errorMessage),
      serverError("Uncaught Error: boom", "    at handler (../app/errors.ts:7:11)"),
    );
    assert.ok(!("errorData" in body));
  });

  test("a ConvexError: its data in the request's format, its log lines kept", async () => {
    const encoded = await post(server, "/api/mutation", {
      path: "errors:coded",
      args: {},
      format: "convex_encoded_json",
    });
    assert.deepEqual(encoded.body.errorData, {
      code: "LIMIT",
      limit: { $integer: "BQAAAAAAAAA=" },
    });
    assert.deepEqual(encoded.body.logLines, ["[LOG] 'about to fail'"]);
    assert.match(
      encoded.body.errorMessage,
      /\nUncaught ConvexError: \{"code":"LIMIT","limit":"5n"\}\n {4}at /,
    );
    const clean = await post(server, "/api/mutation", {
      path: "errors:coded",
      args: {},
      format: "json",
    });
    assert.deepEqual(clean.body.errorData, { code: "LIMIT", limit: "5" });
    const client = new ConvexHttpClient(server.url);
    await assert.rejects(client.mutation(makeFunctionReference("errors:coded"), {}), (error) => {
      assert.ok(error instanceof ConvexError);
      assert.deepEqual(error.data, { code: "LIMIT", limit: 5n });
      return true;
    });
  });

  test("a returns validator failure is a ReturnsValidationError", async () => {
    const { body } = await post(server, "/api/query", { path: "errors:badReturn", args: {} });
    assert.match(
      withoutRequestId(body.errorMessage),
      /Server Error\nReturnsValidationError: .*number/,
    );
  });

  test("args refused as the backend words it: missing, extra, literal and union mismatches", async () => {
    const cases = [
      [
        {},
        "ArgumentValidationError: Object is missing the required field `flag`. Consider wrapping the " +
          "field validator in `v.optional(...)` if this is expected.\n\nObject: {}\nValidator: " +
          'v.object({flag: v.literal(true), kind: v.union(v.literal("a"), v.literal("b")), ' +
          "tags: v.optional(v.array(v.string()))})",
      ],
      [
        { flag: true, kind: "a", extra: 1 },
        "ArgumentValidationError: Object contains extra field `extra` that is not in the validator.\n\n" +
          'Object: {extra: 1.0, flag: true, kind: "a"}\nValidator: v.object({flag: v.literal(true), ' +
          'kind: v.union(v.literal("a"), v.literal("b")), tags: v.optional(v.array(v.string()))})',
      ],
      [
        { flag: false, kind: "a" },
        "ArgumentValidationError: `false` does not match literal validator `v.literal(true)`.Path: .flag",
      ],
      [
        { flag: true, kind: "c" },
        'ArgumentValidationError: Value does not match validator.\nPath: .kind\nValue: "c"\n' +
          'Validator: v.union(v.literal("a"), v.literal("b"))',
      ],
      [
        { flag: true, kind: "a", tags: ["x", 2] },
        "ArgumentValidationError: Value does not match validator.\nPath: .tags[1]\nValue: 2.0\n" +
          "Validator: v.string()",
      ],
    ];
    for (const [args, detail] of cases) {
      const { body } = await post(server, "/api/query", { path: "values:strict", args });
      assert.equal(withoutRequestId(body.errorMessage), serverError(detail), JSON.stringify(args));
    }
    const ok = await post(server, "/api/query", {
      path: "values:strict",
      args: { flag: true, kind: "b", tags: [] },
    });
    assert.deepEqual(ok.body, { status: "success", value: null });
  });

  test("special values in both formats; log lines of every level", async () => {
    const encoded = await post(server, "/api/query", {
      path: "values:special",
      args: {},
      format: "convex_encoded_json",
    });
    assert.deepEqual(encoded.body.value, {
      n: { $integer: "KgAAAAAAAAA=" },
      bytes: { $bytes: "ABCD" },
      nan: { $float: "AAAAAAAA+H8=" },
      minusZero: { $float: "AAAAAAAAAIA=" },
    });
    assert.deepEqual(encoded.body.logLines, [
      // object-inspect with `indent: 2`, as the Convex runtime calls it, breaks objects over lines.
      "[LOG] 'hello' 42 {\n  nested: [ 1, 'two' ]\n}",
      "[WARN] 'careful'",
    ]);
    const clean = await post(server, "/api/query", {
      path: "values:special",
      args: {},
      format: "json",
    });
    assert.deepEqual(clean.body.value, { n: "42", bytes: "ABCD", nan: "NaN", minusZero: 0 });
  });

  test("a function without an args validator takes any args, in either args form", async () => {
    const args = { big: { $integer: "AQAAAAAAAAA=" }, list: [1, "a"] };
    for (const form of [args, [args]]) {
      const { body } = await post(server, "/api/query", {
        path: "values:echo",
        args: form,
        format: "convex_encoded_json",
      });
      assert.deepEqual(body.value, args);
    }
    const wrongShape = await post(server, "/api/query", { path: "values:echo", args: [1, 2] });
    assert.match(
      wrongShape.body.errorMessage,
      /\nArgumentValidationError: The arguments of a Convex function/,
    );
    const notConvex = await post(server, "/api/query", { path: "values:echo", args: { $bad: 1 } });
    assert.deepEqual([notConvex.status, notConvex.body.code], [400, "BadJsonBody"]);
  });

  test("query_batch answers each query", async () => {
    const { body } = await post(server, "/api/query_batch", {
      queries: [
        { path: "values:echo", args: { a: 1 }, format: "json" },
        { path: "errors:boom", args: {} },
      ],
    });
    assert.equal(body.results[0].value.a, 1);
    assert.equal(body.results[1].status, "error");
  });

  test("an HTTP action: prefix routes, the caller's identity, a thrown error as a 500", async () => {
    const anonymous = await fetch(`${server.siteUrl}/files/report.pdf`);
    assert.equal(await anonymous.text(), "report.pdf for nobody");
    const signedIn = await fetch(`${server.siteUrl}/files/a.txt`, {
      headers: { Authorization: `Bearer ${TOKEN}` },
    });
    assert.equal(await signedIn.text(), "a.txt for u9");
    const failed = await fetch(`${server.siteUrl}/fail`, { method: "POST", body: "{}" });
    assert.equal(failed.status, 500);
    const body = await failed.json();
    assert.match(
      body.code,
      /^\[Request ID: [0-9a-f]{16}\] Server Error: Uncaught Error: no such webhook$/,
    );
    assert.match(body.trace, /at .*\(\.\.\/app\/http\.ts:\d+:\d+\)/);
    const wrongMethod = await fetch(`${server.siteUrl}/fail`);
    assert.equal(wrongMethod.status, 404);
  });
});

describe("a redacting (production) deployment's answers", () => {
  let server;
  before(async () => {
    server = await start({ dir: APP, args: ["--redact"] });
  });
  after(async () => {
    await server.stop();
  });

  test("a plain throw is the request id and Server Error only", async () => {
    const { body } = await post(server, "/api/query", { path: "errors:boom", args: {} });
    assert.match(body.errorMessage, /^\[Request ID: [0-9a-f]{16}\] Server Error$/);
  });

  test("a ConvexError still sends its data; log lines are not sent", async () => {
    const { body } = await post(server, "/api/mutation", {
      path: "errors:coded",
      args: {},
      format: "json",
    });
    assert.match(body.errorMessage, /^\[Request ID: [0-9a-f]{16}\] Server Error$/);
    assert.deepEqual(body.errorData, { code: "LIMIT", limit: "5" });
    assert.ok(!("logLines" in body));
    const special = await post(server, "/api/query", {
      path: "values:special",
      args: {},
      format: "json",
    });
    assert.ok(!("logLines" in special.body));
  });

  test("an HTTP action's error carries no message", async () => {
    const failed = await fetch(`${server.siteUrl}/fail`, { method: "POST" });
    assert.equal(failed.status, 500);
    assert.deepEqual(Object.keys(await failed.json()), ["code"]);
  });
});
