// The examples' functions served from examples/convex, called with plain fetch and with the official
// ConvexHttpClient.

import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { ConvexHttpClient } from "convex/browser";
import { makeFunctionReference } from "convex/server";
import { ConvexError } from "convex/values";
import { DEMO_TOKEN, post, serverError, start, withoutRequestId } from "./support.js";

const ref = (name) => makeFunctionReference(name);

describe("the examples' functions", () => {
  let server;
  before(async () => {
    server = await start();
  });
  after(async () => {
    await server.stop();
  });

  test("a query answers its value, in clean JSON and in the Convex encoding", async () => {
    const clean = await post(server, "/api/query", {
      path: "posts:list",
      args: { status: "published" },
      format: "json",
    });
    assert.equal(clean.status, 200);
    assert.equal(clean.body.status, "success");
    assert.deepEqual(
      clean.body.value.map((p) => p.title),
      ["Hello, Convex", "Typed calls from Rust"],
    );
    assert.ok(!("logLines" in clean.body), "logLines is left out when empty");
    const encoded = await post(server, "/api/query", {
      path: "posts.js:list",
      args: [{}],
      format: "convex_encoded_json",
    });
    assert.equal(encoded.body.value.length, 3);
  });

  test("a mutation's effect is seen by the next query, and its log line is returned", async () => {
    const created = await post(server, "/api/mutation", {
      path: "tasks:create",
      args: { text: "Ship it" },
      format: "json",
    });
    assert.equal(created.body.status, "success");
    const id = created.body.value;
    assert.match(id, /tasks$/);
    const completed = await post(server, "/api/mutation", {
      path: "tasks:complete",
      args: { taskId: id },
      format: "json",
    });
    assert.deepEqual(completed.body, {
      status: "success",
      value: null,
      logLines: [`[LOG] 'completed ${id}'`],
    });
    const page = await post(server, "/api/query", {
      path: "tasks:list",
      args: { paginationOpts: { numItems: 10, cursor: null } },
      format: "json",
    });
    const task = page.body.value.page.find((t) => t._id === id);
    assert.deepEqual([task.text, task.isCompleted], ["Ship it", true]);
    assert.equal(page.body.value.isDone, true);
  });

  test("an action runs its internal query and logs through the runtime's console format", async () => {
    const digests = await post(server, "/api/action", {
      path: "notifications:sendDailyDigests",
      args: {},
      format: "json",
    });
    assert.deepEqual(digests.body, {
      status: "success",
      value: 2,
      logLines: ["[LOG] 'digest sent to Ada'", "[LOG] 'digest sent to Grace'"],
    });
  });

  test("an int64 argument given a plain number is refused with the backend's message", async () => {
    const refused = await post(server, "/api/mutation", {
      path: "issues:importMany",
      args: { repoUrl: "https://github.com/o/r", issues: [{ githubId: 5, number: 1, title: "t" }] },
      format: "json",
    });
    assert.equal(refused.status, 200);
    assert.equal(refused.body.status, "error");
    assert.equal(
      withoutRequestId(refused.body.errorMessage),
      serverError(
        "ArgumentValidationError: Value does not match validator.\nPath: .issues[0].githubId\n" +
          "Value: 5.0\nValidator: v.int64()",
      ),
    );
    assert.ok(!("errorData" in refused.body));
    const accepted = await post(server, "/api/mutation", {
      path: "issues:importMany",
      args: {
        repoUrl: "https://github.com/o/r",
        issues: [{ githubId: { $integer: "BQAAAAAAAAA=" }, number: 1, title: "t" }],
      },
      format: "json",
    });
    assert.deepEqual(accepted.body, { status: "success", value: 1 });
  });

  test("the official client reads a ConvexError's data", async () => {
    const client = new ConvexHttpClient(server.url);
    await assert.rejects(client.mutation(ref("tasks:create"), { text: "  " }), (error) => {
      assert.ok(error instanceof ConvexError);
      assert.deepEqual(error.data, { code: "EMPTY_TEXT", message: "a task needs some text" });
      assert.match(error.message, /Uncaught ConvexError: \{"code":"EMPTY_TEXT"/);
      return true;
    });
    const report = await client.action(ref("reports:generate"), { month: 6, year: 2025 });
    // One task was completed by an earlier test of this file.
    assert.deepEqual(report, { month: 6, year: 2025, postsPublished: 2, tasksCompleted: 1 });
    await assert.rejects(
      client.action(ref("reports:generate"), { month: 13, year: 2025 }),
      (error) => {
        assert.equal(error.data.code, "INVALID_MONTH");
        return true;
      },
    );
  });

  test("a known bearer token runs as its user; an unknown one is a 401", async () => {
    const client = new ConvexHttpClient(server.url);
    await assert.rejects(client.query(ref("users:me"), {}), (error) => {
      assert.equal(error.data.code, "UNAUTHENTICATED");
      return true;
    });
    client.setAuth(DEMO_TOKEN);
    assert.deepEqual(await client.query(ref("users:me"), {}), { subject: "user_1", name: "Ada" });
    client.setAuth("not-a-token");
    await assert.rejects(client.query(ref("users:me"), {}), /InvalidAuthHeader/);
    const refused = await post(
      server,
      "/api/query",
      { path: "users:me", args: {} },
      { Authorization: "Bearer not-a-token" },
    );
    assert.equal(refused.status, 401);
    assert.equal(refused.body.code, "InvalidAuthHeader");
    assert.equal(typeof refused.body.message, "string");
    assert.ok(!refused.body.message.includes("not-a-token"), "the token is not echoed");
  });

  test("an internal function needs the admin key", async () => {
    const without = await post(server, "/api/query", { path: "reports:counts", args: {} });
    assert.equal(
      withoutRequestId(without.body.errorMessage),
      serverError(
        "Could not find public function for 'reports:counts'. Did you forget to run " +
          "`npx convex dev` or `npx convex deploy`?",
      ),
    );
    const withKey = await post(
      server,
      "/api/query",
      { path: "reports:counts", args: {}, format: "json" },
      { Authorization: `Convex ${server.adminKey}` },
    );
    assert.equal(withKey.body.status, "success");
    assert.equal(withKey.body.value.postsPublished, 2);
    const client = new ConvexHttpClient(server.url);
    client.setAdminAuth(server.adminKey);
    assert.deepEqual(await client.query(ref("users:list"), {}), [
      { subject: "user_1", name: "Ada" },
      { subject: "user_2", name: "Grace" },
    ]);
    const wrongKey = await post(
      server,
      "/api/query",
      { path: "reports:counts", args: {} },
      { Authorization: "Convex wrong" },
    );
    assert.deepEqual([wrongKey.status, wrongKey.body.code], [401, "BadAdminKey"]);
  });

  test("the admin key can act as a user", async () => {
    const identity = Buffer.from(JSON.stringify({ subject: "user_2", name: "Grace" })).toString(
      "base64",
    );
    const me = await post(
      server,
      "/api/query",
      { path: "users:me", args: {}, format: "json" },
      { Authorization: `Convex ${server.adminKey}:${identity}` },
    );
    assert.deepEqual(me.body.value, { subject: "user_2", name: "Grace" });
  });

  test("unknown functions, wrong kinds and bad paths", async () => {
    const unknown = await post(server, "/api/query", { path: "posts:lst", args: {} });
    assert.equal(unknown.status, 200);
    assert.match(unknown.body.errorMessage, /\nCould not find public function for 'posts:lst'\./);
    const wrongKind = await post(server, "/api/mutation", { path: "posts:list", args: {} });
    assert.equal(
      withoutRequestId(wrongKind.body.errorMessage),
      serverError("Trying to execute posts.js:list as Mutation, but it is defined as Query."),
    );
    for (const path of ["posts::list", ":list", "posts:", ""]) {
      const bad = await post(server, "/api/query", { path, args: {} });
      assert.equal(bad.status, 400, path);
      assert.equal(bad.body.code, "BadConvexFunctionIdentifier", path);
    }
    const client = new ConvexHttpClient(server.url);
    await assert.rejects(client.query(ref("posts:lst"), {}), /Could not find public function/);
  });

  test("/api/run and /api/function call any kind; /api/run answers clean JSON by default", async () => {
    const run = await post(server, "/api/run/reports/generate", { args: { month: 1, year: 2026 } });
    assert.deepEqual(run.body.value, {
      month: 1,
      year: 2026,
      postsPublished: 2,
      tasksCompleted: 1,
    });
    const missing = await post(server, "/api/run/posts", { args: {} });
    assert.deepEqual([missing.status, missing.body.code], [400, "MissingIdentifier"]);
    const any = await post(server, "/api/function", {
      path: "analytics:recordPageView",
      args: { path: "/", userAgent: "test", timestamp: 1 },
      format: "convex_encoded_json",
    });
    assert.deepEqual(any.body, {
      status: "success",
      value: null,
      logLines: ["[LOG] 'page view /'"],
    });
  });

  test("query_ts and query_at_ts: the timestamp moves with mutations; a snapshot query runs", async () => {
    const first = await post(server, "/api/query_ts", "");
    const ts = Buffer.from(first.body.ts, "base64").readBigUInt64LE();
    await post(server, "/api/mutation", { path: "tasks:create", args: { text: "later" } });
    const second = await post(server, "/api/query_ts", "");
    assert.ok(Buffer.from(second.body.ts, "base64").readBigUInt64LE() > ts);
    const at = await post(server, "/api/query_at_ts", {
      path: "posts:list",
      args: {},
      ts: first.body.ts,
      format: "json",
    });
    assert.equal(at.body.value.length, 3);
    const noTs = await post(server, "/api/query_at_ts", { path: "posts:list", args: {} });
    assert.equal(noTs.status, 400);
    const client = new ConvexHttpClient(server.url);
    // The official client's snapshot reads: query_ts, then query_at_ts.
    const snapshot = await client.consistentQuery(ref("posts:list"), {});
    assert.equal(snapshot.length, 3);
  });

  test("a bad format is refused after the function ran; a bad client version before", async () => {
    const badFormat = await post(server, "/api/mutation", {
      path: "tasks:create",
      args: { text: "formatless" },
      format: "yaml",
    });
    assert.deepEqual([badFormat.status, badFormat.body.code], [400, "BadFormat"]);
    const page = await post(server, "/api/query", {
      path: "tasks:list",
      args: { paginationOpts: { numItems: 100, cursor: null } },
      format: "json",
    });
    assert.ok(
      page.body.value.page.some((t) => t.text === "formatless"),
      "the mutation committed",
    );
    const badClient = await post(
      server,
      "/api/query",
      { path: "posts:list", args: {} },
      { "Convex-Client": "npm" },
    );
    assert.deepEqual([badClient.status, badClient.body.code], [400, "InvalidVersion"]);
    const badJson = await post(server, "/api/query", "{not json");
    assert.deepEqual([badJson.status, badJson.body.code], [400, "BadJsonBody"]);
  });

  test("the HTTP route of http.ts is served on the site URL", async () => {
    const response = await fetch(`${server.siteUrl}/posts?status=draft`);
    assert.equal(response.status, 200);
    assert.deepEqual(
      (await response.json()).map((p) => p.title),
      ["Webhooks, the hard way"],
    );
    const refused = await fetch(`${server.siteUrl}/posts?status=archived`);
    assert.equal(refused.status, 400);
    const missing = await fetch(`${server.siteUrl}/nowhere`);
    assert.equal(missing.status, 404);
    assert.equal(await missing.text(), "No matching routes found");
  });
});
