// Drives a convex-fetch TestDeployment's sync WebSocket (`/api/<version>/sync`) with the official Convex JS
// `ConvexClient` (npm `convex`, pinned in package.json; under Node its bundle brings `ws`, pinned in the
// lockfile), to prove that the test deployment speaks the live-query protocol as a real deployment does.
//
//     node tests/js/live.mjs <deployment url> <token>
//
// The deployment serves the functions registered by `tests/tests/suite/live_conformance.rs`, which runs this script.
// Each scenario prints `ok <scenario>` or `FAIL <scenario>: <why>`; the exit code is 0 only when all passed.

import { ConvexClient } from "convex/browser";
import { anyApi } from "convex/server";
import { ConvexError } from "convex/values";

const url = process.argv[2];
const token = process.argv[3];
const api = anyApi;

class Mismatch extends Error {}
function check(condition, message) {
  if (!condition) throw new Mismatch(message);
}

/** Resolves with the first value `predicate` accepts among the updates of `query`. */
function waitFor(client, query, args, predicate, what, ms = 10000) {
  return new Promise((resolve, reject) => {
    let stop = () => {};
    const timer = setTimeout(() => {
      stop();
      reject(new Mismatch(`no update ${what} within ${ms} ms`));
    }, ms);
    stop = client.onUpdate(
      query,
      args,
      (value) => {
        if (predicate(value)) {
          clearTimeout(timer);
          stop();
          resolve(value);
        }
      },
      (error) => {
        clearTimeout(timer);
        stop();
        reject(error);
      },
    );
  });
}

function newClient() {
  return new ConvexClient(url, { logger: false });
}

const scenarios = [];
function scenario(name, run) {
  scenarios.push({ name, run });
}

scenario("on_update_first_value", async () => {
  const client = newClient();
  try {
    const value = await waitFor(client, api.messages.list, {}, () => true, "at all");
    check(Array.isArray(value) && value.length === 0, `first value ${JSON.stringify(value)}`);
  } finally {
    await client.close();
  }
});

scenario("mutation_then_update", async () => {
  const client = newClient();
  try {
    const seen = [];
    const stop = client.onUpdate(api.messages.list, {}, (v) => seen.push(v), () => {});
    await waitFor(client, api.messages.list, {}, () => true, "at all");
    const result = await client.mutation(api.messages.send, { body: "from js" });
    check(result === "from js", `mutation result ${JSON.stringify(result)}`);
    // The mutation resolves only once its write is visible to the subscriptions.
    const latest = client.client.localQueryResult("messages:list", {});
    check(Array.isArray(latest) && latest.includes("from js"), `after the mutation ${JSON.stringify(latest)}`);
    await waitFor(client, api.messages.list, {}, (v) => v.includes("from js"), "with the message");
    stop();
  } finally {
    await client.close();
  }
});

scenario("action", async () => {
  const client = newClient();
  try {
    const result = await client.action(api.actions.echo, { x: 1n });
    check(result.x === 1n, `action result ${JSON.stringify(result, (_k, v) => (typeof v === "bigint" ? `${v}n` : v))}`);
  } finally {
    await client.close();
  }
});

scenario("failing_query_convex_error", async () => {
  const client = newClient();
  try {
    let error;
    try {
      await waitFor(client, api.errors.convex, {}, () => true, "or error");
    } catch (e) {
      error = e;
    }
    check(error instanceof ConvexError, `not a ConvexError: ${error}`);
    check(error.data.code === "NOPE", `data ${JSON.stringify(error.data)}`);
  } finally {
    await client.close();
  }
});

scenario("set_auth_accepted_and_refused", async () => {
  const good = newClient();
  const bad = newClient();
  try {
    const changes = [];
    good.setAuth(async () => token, (ok) => changes.push(ok));
    const who = await waitFor(good, api.auth.whoami, {}, (v) => v === "user_1", "as user_1");
    check(who === "user_1", `whoami ${who}`);
    check(changes.includes(true), `onChange ${JSON.stringify(changes)}`);

    const refused = new Promise((resolve) => bad.setAuth(async () => "refused-token", (ok) => resolve(ok)));
    const ok = await Promise.race([refused, new Promise((r) => setTimeout(() => r("timeout"), 10000))]);
    check(ok === false, `a refused token's onChange gave ${ok}`);
  } finally {
    await good.close();
    await bad.close();
  }
});

scenario("reconnect_after_server_drop", async () => {
  const client = newClient();
  try {
    await waitFor(client, api.messages.list, {}, () => true, "at all");
    const before = client.connectionState().connectionCount;
    // The handler asks the test to drop every socket; the mutation is re-sent on the new one and deduplicated.
    await client.mutation(api.control.dropSockets, {});
    const deadline = Date.now() + 10000;
    while (client.connectionState().connectionCount <= before || !client.connectionState().isWebSocketConnected) {
      check(Date.now() < deadline, "the client did not reconnect within 10 s");
      await new Promise((r) => setTimeout(r, 10));
    }
    await client.mutation(api.messages.send, { body: "after drop" });
    const list = await waitFor(client, api.messages.list, {}, (v) => v.includes("after drop"), "after the drop");
    check(list.filter((m) => m === "after drop").length === 1, `list ${JSON.stringify(list)}`);
    const after = client.connectionState().connectionCount;
    check(after > before, `connectionCount ${before} -> ${after}`);
  } finally {
    await client.close();
  }
});

scenario("subscriptions_changed_while_disconnected", async () => {
  const client = newClient();
  try {
    const stopList = client.onUpdate(api.messages.list, {}, () => {});
    await waitFor(client, api.messages.list, {}, () => true, "at all");
    await client.mutation(api.control.dropSockets, {});
    const deadline = Date.now() + 10000;
    while (client.connectionState().isWebSocketConnected) {
      check(Date.now() < deadline, "the socket did not drop within 10 s");
      await new Promise((r) => setTimeout(r, 5));
    }
    // While it is away, one subscription goes and another comes: the new socket gets the query set from
    // version 0, and no stale base version reaches the server (a FatalError would fail the client).
    stopList();
    const who = waitFor(client, api.auth.whoami, {}, () => true, "for the query added while away");
    check(!client.connectionState().isWebSocketConnected, "the changes were made while away");
    check((await who) === null, "whoami is null");
    await waitFor(client, api.messages.list, {}, () => true, "after the reconnect");
    check(client.connectionState().isWebSocketConnected, "the client is connected again");
  } finally {
    await client.close();
  }
});

let failed = 0;
for (const { name, run } of scenarios) {
  try {
    await run();
    console.log(`ok ${name}`);
  } catch (e) {
    failed += 1;
    console.log(`FAIL ${name}: ${e instanceof Mismatch ? e.message : (e && e.stack) || e}`);
  }
}
console.log(failed === 0 ? `${scenarios.length} scenarios passed` : `${failed} of ${scenarios.length} scenarios failed`);
process.exit(failed === 0 ? 0 : 1);
