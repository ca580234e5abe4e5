#!/usr/bin/env node
// The command line: serve a `convex/` folder's functions over the Convex HTTP API, or print its
// function spec. See README.md for the contract a launcher relies on.

import { randomBytes } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { parseArgs } from "node:util";

const USAGE = `usage: node src/main.js <functions folder> [options]

Serves the Convex HTTP API over the functions of a convex/ folder, run by convex-test. The first line
of stdout is {"url":…,"siteUrl":…,"adminKey":…}; the server runs until stdin closes.

  --port <n>             the API's port (default: any free port)
  --site-port <n>        the HTTP actions' port (default: any free port)
  --admin-key <key>      the admin key to accept (default: a random one, in the first line)
  --admin-key-file <f>   read the admin key from this file instead (kept out of the process's arguments,
                         which every local user can read)
  --identities <file>    a JSON object mapping bearer tokens to user identities
  --token <token>=<json> one more bearer token and its identity (repeatable)
  --run <function>       run this function as admin with args {} before serving (repeatable)
  --redact               answer failures as production does: no message, no stack, no log lines
  --packages <folder>    a project folder whose node_modules holds the convex and convex-test to run the
                         functions with (default: this server's own)
  --spec                 print the function spec (npx convex function-spec) instead of serving
  --url <url>            with --spec: the deployment URL the spec names (default http://127.0.0.1:3210)
  --out <file>           with --spec: write the spec to this file instead of stdout
  --no-infer             with --spec: do not infer the results of functions without a returns
                         validator from their TypeScript (no "inferredReturns" fields)
`;

/** Exit codes: 0 done (stdin closed, spec written), 1 the functions or the server failed, 2 usage. */
const EXIT_FAILURE = 1;
const EXIT_USAGE = 2;

function fail(code, message) {
  process.stderr.write(`error: ${message}\n`);
  process.exit(code);
}

function usage(message) {
  process.stderr.write(`error: ${message}\n\n${USAGE}`);
  process.exit(EXIT_USAGE);
}

function parseCommandLine(argv) {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        port: { type: "string" },
        "site-port": { type: "string" },
        "admin-key": { type: "string" },
        "admin-key-file": { type: "string" },
        identities: { type: "string" },
        token: { type: "string", multiple: true },
        run: { type: "string", multiple: true },
        redact: { type: "boolean" },
        packages: { type: "string" },
        spec: { type: "boolean" },
        url: { type: "string" },
        out: { type: "string" },
        "no-infer": { type: "boolean" },
        help: { type: "boolean", short: "h" },
      },
    });
  } catch (error) {
    usage(error.message);
  }
  const { values, positionals } = parsed;
  if (values.help) {
    process.stdout.write(USAGE);
    process.exit(0);
  }
  if (positionals.length !== 1) {
    usage("expected exactly one functions folder");
  }
  const port = (name) => {
    const text = values[name];
    if (text === undefined) return 0;
    const n = Number(text);
    if (!Number.isInteger(n) || n < 0 || n > 65535)
      usage(`--${name} must be a port number, not ${text}`);
    return n;
  };
  let adminKey = values["admin-key"];
  if (values["admin-key-file"] !== undefined) {
    if (adminKey !== undefined) usage("give --admin-key or --admin-key-file, not both");
    try {
      adminKey = readFileSync(values["admin-key-file"], "utf8").replace(/\r?\n$/, "");
    } catch (error) {
      usage(`--admin-key-file ${values["admin-key-file"]}: ${error.message}`);
    }
    if (adminKey === "") usage(`--admin-key-file ${values["admin-key-file"]}: the file is empty`);
  }
  return {
    dir: positionals[0],
    port: port("port"),
    sitePort: port("site-port"),
    adminKey,
    identities: values.identities,
    tokens: values.token ?? [],
    run: values.run ?? [],
    redact: values.redact === true,
    spec: values.spec === true,
    url: values.url ?? "http://127.0.0.1:3210",
    out: values.out,
    infer: values["no-infer"] !== true,
    packages: values.packages,
  };
}

function isIdentity(value) {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

/** Bearer token → identity, from `--identities` and `--token`. */
function readTokens(options) {
  const tokens = new Map();
  if (options.identities !== undefined) {
    let parsed;
    try {
      parsed = JSON.parse(readFileSync(options.identities, "utf8"));
    } catch (error) {
      usage(`--identities ${options.identities}: ${error.message}`);
    }
    if (!isIdentity(parsed)) usage(`--identities ${options.identities}: expected a JSON object`);
    for (const [token, identity] of Object.entries(parsed)) {
      if (!isIdentity(identity)) {
        usage(`--identities ${options.identities}: the identity of a token must be an object`);
      }
      tokens.set(token, identity);
    }
  }
  for (const entry of options.tokens) {
    const eq = entry.indexOf("=");
    if (eq <= 0) usage("--token expects <token>=<identity JSON>");
    let identity;
    try {
      identity = JSON.parse(entry.slice(eq + 1));
    } catch (error) {
      usage(`--token: the identity is not JSON: ${error.message}`);
    }
    if (!isIdentity(identity)) usage("--token: the identity must be a JSON object");
    tokens.set(entry.slice(0, eq), identity);
  }
  return tokens;
}

function checkNode() {
  const [major, minor] = process.versions.node.split(".").map(Number);
  if (major < 20 || (major === 20 && minor < 6)) {
    fail(EXIT_FAILURE, `Node.js 20.6 or later is needed (this is ${process.version})`);
  }
}

async function load(dir, packages) {
  const { loadFunctions } = await import("./load.js");
  try {
    return await loadFunctions(dir, { packages });
  } catch (error) {
    if (error?.name === "LoadError") {
      fail(EXIT_FAILURE, `could not load the Convex functions in ${dir}: ${error.message}`);
    }
    throw error;
  }
}

async function printSpec(options) {
  const { functionSpec, formatSpec, undeclaredResults } = await import("./spec.js");
  const loaded = await load(options.dir, options.packages);
  let inferred;
  if (options.infer) {
    const { inferReturns } = await import("./infer.js");
    const targets = undeclaredResults(loaded);
    const result = inferReturns(options.dir, targets, { packages: options.packages });
    inferred = result.inferred;
    // What was skipped or became `any`, and why: on stderr, so the spec on stdout stays the CLI's JSON.
    for (const note of result.notes) process.stderr.write(`infer: ${note}\n`);
  }
  const text = formatSpec(functionSpec(loaded, options.url, inferred));
  if (options.out === undefined) {
    process.stdout.write(text);
  } else {
    writeFileSync(options.out, text);
  }
}

async function serve(options) {
  const tokens = readTokens(options);
  const { installConsole } = await import("./logs.js");
  // Before any module runs: whatever functions print must not reach stdout.
  installConsole();
  const loaded = await load(options.dir, options.packages);
  const { Deployment } = await import("./deployment.js");
  const { parseFunctionPath } = await import("./paths.js");
  const { apiServer, listen, siteServer } = await import("./server.js");
  const deployment = new Deployment(loaded, { redact: options.redact });
  for (const name of options.run) {
    const path = parseFunctionPath(name);
    if (path === undefined) usage(`--run ${name}: not a function path`);
    const answer = await deployment.call(path, undefined, {}, { identity: undefined, admin: true });
    if (answer.status === "error") {
      fail(EXIT_FAILURE, `--run ${name} failed: ${answer.message}`);
    }
  }
  const serverOptions = {
    adminKey: options.adminKey ?? randomBytes(24).toString("hex"),
    tokens,
  };
  const api = apiServer(deployment, serverOptions);
  const site = siteServer(deployment, serverOptions);
  let url;
  let siteUrl;
  try {
    url = await listen(api, options.port);
    siteUrl = await listen(site, options.sitePort);
  } catch (error) {
    fail(EXIT_FAILURE, `could not listen on 127.0.0.1: ${error.message}`);
  }
  // The parent reads this line; it keeps the pipe open for as long as it wants the server.
  process.stdout.write(`${JSON.stringify({ url, siteUrl, adminKey: serverOptions.adminKey })}\n`);
  const stop = () => process.exit(0);
  // Stdin's end is seen only by the event loop; the watchdog's thread also sees a parent that died while a
  // function keeps the loop busy.
  const { dieWithParent } = await import("./watchdog.js");
  dieWithParent();
  process.stdin.on("end", stop);
  process.stdin.on("close", stop);
  process.stdin.on("error", stop);
  process.stdin.resume();
}

process.on("unhandledRejection", (error) => {
  process.stderr.write(`unhandled rejection: ${error?.stack ?? error}\n`);
});

checkNode();
const options = parseCommandLine(process.argv.slice(2));
await (options.spec ? printSpec(options) : serve(options));
