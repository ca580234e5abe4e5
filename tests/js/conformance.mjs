// Drives a convex-fetch TestDeployment with the official Convex JS client (npm `convex`, pinned in
// package.json), to prove that the test deployment speaks the wire protocol as a real deployment does.
//
//     node tests/js/conformance.mjs <deployment url> <token> [admin key]
//
// (or CONVEX_URL, CONVEX_TOKEN and CONVEX_ADMIN_KEY in the environment). The deployment must serve the
// functions registered by `tests/tests/suite/conformance.rs`, which runs this script: `<token>` must be accepted as
// the identity `{subject: "user_1", issuer: "https://auth.example.com"}`.
//
// Every scenario runs, in order, against one fresh deployment; each prints `ok <scenario>` or
// `FAIL <scenario>: <why>`. The exit code is 0 only when all passed.

import { ConvexHttpClient } from "convex/browser";
import { anyApi, makeFunctionReference } from "convex/server";
import { ConvexError } from "convex/values";

const url = process.argv[2] ?? process.env.CONVEX_URL;
const token = process.argv[3] ?? process.env.CONVEX_TOKEN;
const adminKey = process.argv[4] ?? process.env.CONVEX_ADMIN_KEY ?? "test-admin-key";
if (!url || !token) {
  console.error("usage: node conformance.mjs <deployment url> <token> [admin key]");
  console.error("       (or set CONVEX_URL and CONVEX_TOKEN)");
  process.exit(2);
}

const api = anyApi;
const SUBJECT = "user_1";
const ISSUER = "https://auth.example.com";
const TEXT =
  'h\u00e9llo w\u00f6rld \u2014 \u65e5\u672c\u8a9e \u{1F30D}\u{1F469}\u200D\u{1F4BB} "quoted" back\\slash\nnew line\ttab \u2028';

// `skipConvexDeploymentUrlCheck` is not needed for http://127.0.0.1 (the check only wants http(s) and a
// parsable URL that does not end in .convex.site; log_lines_default_logger runs without it), but it keeps
// the script usable against a test deployment behind any URL.
// `logger: false` keeps the function log lines off stdout: scenarios that look at them install their own.
function newClient(options = {}) {
  return new ConvexHttpClient(url, { skipConvexDeploymentUrlCheck: true, logger: false, ...options });
}

// ---------------------------------------------------------------------------------------------------------
// Helpers.

class Mismatch extends Error {}

function check(condition, message) {
  if (!condition) throw new Mismatch(message);
}

function bytes(...values) {
  return new Uint8Array(values).buffer;
}

/** `JSON.stringify` that shows what JSON cannot: bigint, ArrayBuffer, NaN, ±Infinity, -0. */
function show(value) {
  return JSON.stringify(value, (_key, v) => {
    if (typeof v === "bigint") return `${v}n`;
    if (v instanceof ArrayBuffer) return `ArrayBuffer[${[...new Uint8Array(v)].join(",")}]`;
    if (typeof v === "number" && (!Number.isFinite(v) || Object.is(v, -0))) return `${Object.is(v, -0) ? "-0" : v}`;
    return v;
  });
}

/** Exact equality of Convex values: same JS types (a bigint is not a number), `Object.is` for numbers (NaN
 * equals NaN, -0 differs from 0), ArrayBuffer contents byte by byte, the same object keys. */
function same(a, b) {
  if (typeof a !== typeof b) return false;
  if (typeof a === "number") return Object.is(a, b);
  if (a === null || b === null || typeof a !== "object") return a === b;
  if (a instanceof ArrayBuffer || b instanceof ArrayBuffer) {
    if (!(a instanceof ArrayBuffer && b instanceof ArrayBuffer) || a.byteLength !== b.byteLength) return false;
    const x = new Uint8Array(a);
    const y = new Uint8Array(b);
    return x.every((byte, i) => byte === y[i]);
  }
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a)) return a.length === b.length && a.every((item, i) => same(item, b[i]));
  const keys = Object.keys(a).sort();
  const otherKeys = Object.keys(b).sort();
  return same(keys, otherKeys) && keys.every((key) => same(a[key], b[key]));
}

function expectSame(actual, expected, what) {
  check(same(actual, expected), `${what}: got ${show(actual)}, expected ${show(expected)}`);
}

/** Runs `call`, which must throw; returns what it threw. */
async function throws(call, what) {
  try {
    const value = await call();
    throw new Mismatch(`${what}: expected an error, got the value ${show(value)}`);
  } catch (error) {
    if (error instanceof Mismatch) throw error;
    check(error instanceof Error, `${what}: threw a non-Error ${show(error)}`);
    return error;
  }
}

function expectPlainError(error, fragment, what) {
  check(!(error instanceof ConvexError), `${what}: expected a plain Error, got a ConvexError (${error.message})`);
  check(error.data === undefined, `${what}: a plain Error has no data, got ${show(error.data)}`);
  check(error.message.includes(fragment), `${what}: message ${JSON.stringify(error.message)} lacks ${JSON.stringify(fragment)}`);
}

/** A logger for `ConvexHttpClient` that keeps what the client prints, as the console would show it. */
function capturingLogger() {
  const lines = [];
  const keep = (level) => (...args) => lines.push({ level, text: consoleText(args) });
  return { lines, log: keep("log"), warn: keep("warn"), error: keep("error"), logVerbose: () => {} };
}

/** What console.log prints for these args, without colours: `%c` consumes the next argument (a CSS style). */
function consoleText(args) {
  if (typeof args[0] === "string" && args[0].includes("%c")) {
    const [format, ...rest] = args;
    const styles = (format.match(/%c/g) ?? []).length;
    return [format.replaceAll("%c", ""), ...rest.slice(styles)].join(" ");
  }
  return args.join(" ");
}

// ---------------------------------------------------------------------------------------------------------
// The values `values:all` returns and `echo:*` take: every Convex type, with the edge cases of each.

function sample() {
  return {
    int: 42n,
    int_min: -9223372036854775808n,
    int_max: 9223372036854775807n,
    int_neg: -1n,
    bytes: bytes(0x00, 0x10, 0x83, 0xff, 0x7f),
    empty_bytes: new ArrayBuffer(0),
    float: 1.5,
    integral_float: 3,
    nan: NaN,
    neg_zero: -0,
    inf: Infinity,
    neg_inf: -Infinity,
    tiny: 5e-324,
    huge: Number.MAX_VALUE,
    null: null,
    yes: true,
    no: false,
    text: TEXT,
    empty_text: "",
    nested: {
      list: [0.25, 2n, { deep: [null, bytes(1, 2, 3)] }],
      empty_object: {},
      empty_array: [],
    },
  };
}

// ---------------------------------------------------------------------------------------------------------
// Scenarios.

const client = newClient();
const scenarios = {};

scenarios.values = async () => {
  const value = await client.query(api.values.all, {});
  check(typeof value.int === "bigint", `int64 arrives as a bigint, got ${typeof value.int}`);
  check(value.bytes instanceof ArrayBuffer, `bytes arrive as an ArrayBuffer, got ${show(value.bytes)}`);
  check(Object.is(value.neg_zero, -0), `-0 keeps its sign, got ${show(value.neg_zero)}`);
  check(Number.isNaN(value.nan), `NaN arrives as NaN, got ${show(value.nan)}`);
  expectSame(value, sample(), "values:all");
};

scenarios.top_level_values = async () => {
  const expected = {
    int: 42n,
    int_min: -9223372036854775808n,
    bytes: bytes(0x00, 0x10, 0x83, 0xff, 0x7f),
    empty_bytes: new ArrayBuffer(0),
    nan: NaN,
    neg_zero: -0,
    inf: Infinity,
    neg_inf: -Infinity,
    float: 1.5,
    text: TEXT,
    null: null,
    true: true,
    empty_object: {},
    empty_array: [],
  };
  for (const [name, value] of Object.entries(expected)) {
    expectSame(await client.query(api.values.one, { name }), value, `values:one ${name}`);
  }
};

scenarios.args_roundtrip = async () => {
  // JS encodes the args (bigint → $integer, ArrayBuffer → $bytes, NaN/-0/±∞ → $float), the Rust handler
  // decodes them into Int64/Bytes/f64 and returns them, and JS decodes the answer.
  expectSame(await client.query(api.echo.values, sample()), sample(), "echo:values");
};

// Every Convex value comes back unchanged from a handler that takes and returns a dynamic value.
const extremes = {
  min: -(2n ** 63n),
  max: 2n ** 63n - 1n,
  five: 5n,
  float: 5,
  nan: NaN,
  negInf: -Infinity,
  inf: Infinity,
  negZero: -0,
  bytes: bytes(0, 0x10, 0x83, 255),
  empty: bytes(),
  text: "unicode ✓ \u0000",
  nested: { list: [1n, [2.5, { deep: null }], true], obj: {} },
};

scenarios.untyped_echo = async () => {
  expectSame(await client.query(api.echo.any, extremes), extremes, "echo:any");
};

scenarios.untyped_convex_error_data = async () => {
  const error = await throws(() => client.query(api.echo.throw, extremes), "echo:throw");
  check(error instanceof ConvexError, `echo:throw: expected a ConvexError, got ${error.name}`);
  expectSame(error.data, extremes, "echo:throw data");
};

scenarios.args_decoded = async () => {
  // The handler decodes the args into i64, Vec<u8> and f64 and compares bit patterns with its own sample.
  expectSame(await client.query(api.echo.check, sample()), "ok", "echo:check");
};

scenarios.argument_validation = async () => {
  // A string where the handler expects an int64: refused before the handler runs.
  const args = { ...sample(), int: "forty-two" };
  const error = await throws(() => client.query(api.echo.check, args), "echo:check with a string int");
  expectPlainError(error, "ArgumentValidationError", "echo:check with a string int");
};

scenarios.plain_error = async () => {
  const error = await throws(() => client.query(api.errors.plain, {}), "errors:plain");
  expectPlainError(error, "boom: the handler failed", "errors:plain");
  check(thrownMessage(error, "Error", "errors:plain") === "boom: the handler failed", "errors:plain message");
};

// A function error's message is the backend's `errorMessage`, whole, in the development shape:
// `[Request ID: <16 hex>] Server Error\nUncaught <Name>: <message>\n    at …\n`. Returns <message>.
function thrownMessage(error, name, what) {
  const match = /^\[Request ID: [0-9a-f]{16}\] Server Error\nUncaught (\w+): ([^]*)\n    at [^\n]*\n$/.exec(error.message);
  check(match !== null, `${what}: message ${JSON.stringify(error.message)} is not in the backend's shape`);
  check(match[1] === name, `${what}: the message names ${match[1]}, expected ${name}`);
  return match[2];
}

scenarios.convex_error = async () => {
  const error = await throws(() => client.mutation(api.errors.convex, {}), "errors:convex");
  check(error instanceof ConvexError, `errors:convex: expected a ConvexError, got ${error.name}: ${error.message}`);
  check(error.name === "ConvexError", `errors:convex: name ${error.name}`);
  expectSame(
    error.data,
    { code: "NOT_FOUND", id: 42n, details: { retry: false, tags: ["a", "b"], blob: bytes(9, 8) } },
    "errors:convex data",
  );
  // The message is the data as the Convex runtime prints it (JSON.stringify with bigints as "42n").
  const printed = JSON.stringify(error.data, (_k, v) => (typeof v === "bigint" ? `${v}n` : v));
  const message = thrownMessage(error, "ConvexError", "errors:convex");
  check(message === printed, `errors:convex message ${JSON.stringify(message)}, expected ${JSON.stringify(printed)}`);
};

scenarios.convex_error_string = async () => {
  const error = await throws(() => client.action(api.errors.convexString, {}), "errors:convexString");
  check(error instanceof ConvexError, `errors:convexString: expected a ConvexError, got ${error.name}`);
  expectSame(error.data, "author is required", "errors:convexString data");
  const message = thrownMessage(error, "ConvexError", "errors:convexString");
  check(message === "author is required", `errors:convexString message ${JSON.stringify(message)}`);
};

scenarios.convex_error_null = async () => {
  // `throw new ConvexError(null)`: `"errorData": null` is present, so it is still a ConvexError.
  const error = await throws(() => client.query(api.errors.convexNull, {}), "errors:convexNull");
  check(error instanceof ConvexError, `errors:convexNull: expected a ConvexError, got ${error.name}: ${error.message}`);
  check(error.data === null, `errors:convexNull data ${show(error.data)}`);
  const message = thrownMessage(error, "ConvexError", "errors:convexNull");
  check(message === "null", `errors:convexNull message ${JSON.stringify(message)}`);
};

scenarios.log_lines = async () => {
  const logger = capturingLogger();
  const logging = newClient({ logger });
  expectSame(await logging.query(api.logs.query, {}), "logged", "logs:query");
  expectSame(
    logger.lines,
    [
      { level: "log", text: "[CONVEX Q(logs:query)] [LOG] hello 42" },
      { level: "log", text: "[CONVEX Q(logs:query)] [INFO] some info" },
      { level: "log", text: "[CONVEX Q(logs:query)] [WARN] careful" },
      { level: "log", text: "[CONVEX Q(logs:query)] [ERROR] bad thing" },
      { level: "log", text: "[CONVEX Q(logs:query)] [DEBUG] details" },
    ],
    "log lines",
  );
};

scenarios.log_lines_default_logger = async () => {
  // Without options, the client checks the deployment URL (http://127.0.0.1:<port> passes) and prints log
  // lines with console.log.
  const printed = [];
  const original = console.log;
  console.log = (...args) => printed.push(consoleText(args));
  try {
    const defaultLogging = new ConvexHttpClient(url);
    await defaultLogging.action(api.logs.action, {});
  } finally {
    console.log = original;
  }
  expectSame(printed, ["[CONVEX A(logs:action)] [LOG] from an action"], "console.log lines");
};

scenarios.log_lines_on_error = async () => {
  const logger = capturingLogger();
  const logging = newClient({ logger });
  const error = await throws(() => logging.mutation(api.logs.failing, {}), "logs:failing");
  expectPlainError(error, "failed after logging", "logs:failing");
  expectSame(logger.lines, [{ level: "log", text: "[CONVEX M(logs:failing)] [LOG] about to fail" }], "log lines");
};

scenarios.auth_accepted = async () => {
  const authed = newClient();
  authed.setAuth(token);
  const identity = await authed.query(api.auth.whoami, {});
  check(identity !== null, "auth:whoami with a valid token: the handler saw no identity");
  expectSame(identity.subject, SUBJECT, "subject");
  expectSame(identity.issuer, ISSUER, "issuer");
  // The `auth` option does the same as setAuth.
  expectSame((await newClient({ auth: token }).query(api.auth.whoami, {}))?.subject, SUBJECT, "auth option");
};

scenarios.auth_anonymous = async () => {
  expectSame(await client.query(api.auth.whoami, {}), null, "auth:whoami without a token");
};

scenarios.auth_refused = async () => {
  const refused = newClient();
  refused.setAuth("not-a-valid-token");
  const error = await throws(() => refused.query(api.auth.whoami, {}), "auth:whoami with a bad token");
  // A system failure: the client throws Error(<response text>), the `{code, message}` JSON.
  expectPlainError(error, "InvalidAuthHeader", "auth:whoami with a bad token");
  const body = JSON.parse(error.message);
  expectSame(body.code, "InvalidAuthHeader", "code");
  check(typeof body.message === "string" && body.message.length > 0, `a message: ${error.message}`);
};

scenarios.mutation = async () => {
  expectSame(await client.mutation(api.counter.increment, { by: 1n }), 1n, "counter:increment");
  expectSame(await client.query(api.counter.get, {}), 1n, "counter:get");
};

scenarios.mutation_queue = async () => {
  // Mutations from one client are queued and run in order.
  const results = await Promise.all([
    client.mutation(api.counter.increment, { by: 10n }),
    client.mutation(api.counter.increment, { by: 100n }),
    client.mutation(api.counter.increment, { by: 1000n }),
  ]);
  expectSame(results, [11n, 111n, 1111n], "queued increments");
  // skipQueue sends it at once; alone, it runs as any other.
  expectSame(await client.mutation(api.counter.increment, { by: -1111n }, { skipQueue: true }), 0n, "skipQueue");
};

scenarios.action = async () => {
  expectSame(await client.action(api.tasks.run, { text: "hi" }), { kind: "action", text: "hi" }, "tasks:run");
};

scenarios.unknown_function = async () => {
  const error = await throws(() => client.query(api.missing.nothing, {}), "missing:nothing");
  expectPlainError(error, "Could not find public function for 'missing:nothing'", "missing:nothing");
};

scenarios.wrong_kind = async () => {
  const cases = [
    [() => client.mutation(api.values.all, {}), "Trying to execute values.js:all as Mutation, but it is defined as Query."],
    [() => client.action(api.counter.increment, { by: 1n }), "Trying to execute counter.js:increment as Action, but it is defined as Mutation."],
    [() => client.query(api.tasks.run, { text: "x" }), "Trying to execute tasks.js:run as Query, but it is defined as Action."],
  ];
  for (const [call, message] of cases) {
    expectPlainError(await throws(call, message), message, message);
  }
};

scenarios.bad_path = async () => {
  const error = await throws(() => client.query(makeFunctionReference("values::all"), {}), "values::all");
  expectPlainError(error, "BadConvexFunctionIdentifier", "values::all");
};

scenarios.consistent_query = async () => {
  // /api/query_ts, then /api/query_at_ts with that timestamp.
  const snapshot = newClient();
  expectSame(await snapshot.consistentQuery(api.values.one, { name: "int" }), 42n, "consistentQuery");
  expectSame(await snapshot.consistentQuery(api.counter.get, {}), 0n, "consistentQuery at the same ts");
};

scenarios.function_endpoint = async () => {
  // /api/function: any kind, args not wrapped in an array.
  expectSame(await client.function(api.tasks.run, undefined, { text: "any" }), { kind: "action", text: "any" }, "function");
  expectSame(await client.function("echo:values", undefined, sample()), sample(), "function by name");
};

scenarios.admin = async () => {
  const admin = newClient();
  admin.setAdminAuth(adminKey);
  expectSame(await admin.query(api.secret.internal, {}), "internal ok", "internal query with the admin key");
  expectSame(await admin.query(api.auth.whoami, {}), null, "plain admin has no identity");
  admin.setAdminAuth(adminKey, { subject: "acting_as", issuer: ISSUER });
  expectSame((await admin.query(api.auth.whoami, {}))?.subject, "acting_as", "admin acting as a user");
  // Without the admin key, an internal function does not exist.
  const error = await throws(() => client.query(api.secret.internal, {}), "secret:internal");
  expectPlainError(error, "Could not find public function for 'secret:internal'", "secret:internal");
};

let failed = 0;
for (const [name, scenario] of Object.entries(scenarios)) {
  try {
    await scenario();
    console.log(`ok ${name}`);
  } catch (error) {
    failed += 1;
    const why = error instanceof Mismatch ? error.message : `unexpected ${error?.stack ?? error}`;
    console.log(`FAIL ${name}: ${why}`);
  }
}
const total = Object.keys(scenarios).length;
if (failed > 0) {
  console.log(`${failed} of ${total} scenarios failed`);
  process.exit(1);
}
console.log(`all ${total} scenarios passed`);
