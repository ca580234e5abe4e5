// The HTTP side: the Convex HTTP API on the deployment URL, and the HTTP actions of `http.ts` on a
// second port standing for the site URL (`https://<name>.convex.site`), their paths as declared.

import { createServer } from "node:http";
import { once } from "node:events";
import { SystemError, authenticate } from "./auth.js";
import { describeThrown, requestId } from "./errors.js";
import { LoggedFailure } from "./logs.js";
import { parseFunctionPath } from "./paths.js";
import { exportValue, parseFormat } from "./values.js";

/** Convex refuses bodies over 16 MiB of args plus some room for the rest of the request. */
const MAX_BODY_BYTES = 16 * 1024 * 1024 + 2000;

const KIND_ENDPOINTS = {
  "/api/query": "Query",
  "/api/mutation": "Mutation",
  "/api/action": "Action",
};

/** Reads a request's body; `undefined` when it is over the limit (the rest is read and dropped). */
async function readBody(request, limit = MAX_BODY_BYTES) {
  const chunks = [];
  let size = 0;
  for await (const chunk of request) {
    size += chunk.length;
    if (size <= limit) chunks.push(chunk);
  }
  return size > limit ? undefined : Buffer.concat(chunks);
}

function send(response, status, body, headers = {}) {
  const text = JSON.stringify(body);
  response.writeHead(status, {
    "Content-Type": "application/json",
    "Content-Length": Buffer.byteLength(text),
    ...headers,
  });
  response.end(text);
}

/** `Convex-Client: {client name}-{semver}`; a missing header is accepted. */
function checkClientVersion(value) {
  if (value === undefined) return;
  const semver =
    /^\d+\.\d+\.\d+(-[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*)?(\+[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*)?$/;
  for (let i = value.indexOf("-"); i !== -1; i = value.indexOf("-", i + 1)) {
    if (i > 0 && semver.test(value.slice(i + 1))) return;
  }
  throw new SystemError(
    400,
    "InvalidVersion",
    `Failed to parse the Convex-Client header ${JSON.stringify(value)}: Expected format is {client_name}-{semver}`,
  );
}

function parseJsonBody(bytes) {
  if (bytes === undefined) {
    throw new SystemError(400, "BadJsonBody", "The request body is larger than 16 MiB");
  }
  let body;
  try {
    body = JSON.parse(bytes.toString("utf8"));
  } catch (error) {
    throw new SystemError(
      400,
      "BadJsonBody",
      `Failed to deserialize the JSON body: ${error.message}`,
    );
  }
  if (body === null || typeof body !== "object" || Array.isArray(body)) {
    throw new SystemError(400, "BadJsonBody", "The JSON body must be an object");
  }
  return body;
}

function requirePath(text) {
  if (typeof text !== "string") {
    throw new SystemError(400, "BadJsonBody", "`path` must be a string");
  }
  const path = parseFunctionPath(text);
  if (path === undefined) {
    throw new SystemError(
      400,
      "BadConvexFunctionIdentifier",
      `${text} is not a valid path to a Convex function.`,
    );
  }
  return path;
}

/** `format` as the request names it: checked for shape first, for a known name after the run. */
function requestedFormat(body, fallback) {
  const name = body.format;
  if (name === undefined || name === null) return () => fallback;
  if (typeof name !== "string") {
    throw new SystemError(400, "BadJsonBody", "`format` must be a string");
  }
  return () => {
    const format = parseFormat(name);
    if (format === undefined) {
      throw new SystemError(
        400,
        "BadFormat",
        `Invalid format \`${name}\`: expected \`convex_encoded_json\`, \`convex_json\`, \`json\`, ` +
          "`convex_clean_json` or `export_json`",
      );
    }
    return format;
  };
}

/** A function's answer body; `logLines` omitted when empty, `errorData` only for a `ConvexError`. */
function answerBody(answer, format) {
  const body =
    answer.status === "success"
      ? { status: "success", value: exportValue(answer.value, format) }
      : {
          status: "error",
          errorMessage: answer.message,
          ...(answer.data === undefined ? {} : { errorData: exportValue(answer.data, format) }),
        };
  if (answer.logLines.length > 0) body.logLines = answer.logLines;
  return body;
}

/** The path of `/api/run/{module path}/{export}`, as the backend splits it. */
function runPath(rest) {
  const missing = () =>
    new SystemError(
      400,
      "MissingIdentifier",
      "Path or function name not provided in path, e.g. /api/run/messages/list",
    );
  let parts;
  try {
    parts = rest.split("/").map((part) => decodeURIComponent(part));
  } catch {
    throw missing();
  }
  if (parts.length < 2) throw missing();
  const exportName = parts.pop();
  return requirePath(`${parts.join("/")}:${exportName}`);
}

/** The base64 of a u64, little-endian: how `/api/query_ts` sends a timestamp. */
function encodeTs(ts) {
  const bytes = Buffer.alloc(8);
  bytes.writeBigUInt64LE(ts);
  return bytes.toString("base64");
}

function checkTs(ts) {
  if (typeof ts !== "string") {
    throw new SystemError(400, "BadJsonBody", "`ts` must be the string /api/query_ts answered");
  }
  if (Buffer.from(ts, "base64").length !== 8) {
    throw new SystemError(400, "BadJsonBody", "Wrong number of bytes for SerializedTs.");
  }
}

async function handleApi(deployment, options, request, response) {
  const url = new URL(request.url, "http://127.0.0.1");
  const endpoint = url.pathname;
  const known =
    endpoint in KIND_ENDPOINTS ||
    ["/api/function", "/api/query_ts", "/api/query_at_ts", "/api/query_batch"].includes(endpoint) ||
    endpoint.startsWith("/api/run/");
  if (!known) {
    throw new SystemError(404, "NotFound", `No route for ${request.method} ${endpoint}`);
  }
  if (request.method !== "POST") {
    throw new SystemError(405, "MethodNotAllowed", `${endpoint} only accepts POST`);
  }
  checkClientVersion(request.headers["convex-client"]);
  const bytes = await readBody(request);
  if (endpoint === "/api/query_ts") {
    send(response, 200, { ts: encodeTs(deployment.timestamp()) });
    return;
  }
  const body = parseJsonBody(bytes);
  const caller = authenticate(
    request.headers.authorization,
    url.searchParams.get("adminKey"),
    options,
  );

  if (endpoint === "/api/query_batch") {
    if (!Array.isArray(body.queries)) {
      throw new SystemError(400, "BadJsonBody", "`queries` must be an array");
    }
    const queries = body.queries.map((query) => {
      if (query === null || typeof query !== "object") {
        throw new SystemError(400, "BadJsonBody", "each query must be an object");
      }
      return { query, path: requirePath(query.path), format: requestedFormat(query, "clean") };
    });
    const results = [];
    for (const { query, path, format } of queries) {
      const answer = await deployment.call(path, "Query", query.args, caller);
      results.push(answerBody(answer, format()));
    }
    send(response, 200, { results });
    return;
  }

  let path;
  let kind;
  if (endpoint.startsWith("/api/run/")) {
    path = runPath(endpoint.slice("/api/run/".length));
  } else {
    path = requirePath(body.path);
    kind = KIND_ENDPOINTS[endpoint] ?? (endpoint === "/api/query_at_ts" ? "Query" : undefined);
  }
  if (endpoint === "/api/query_at_ts") checkTs(body.ts);
  const format = requestedFormat(body, "clean");
  let answer;
  if (
    endpoint === "/api/function" &&
    typeof body.componentPath === "string" &&
    body.componentPath !== ""
  ) {
    // No components here: a component's function is never found.
    answer = deployment.failure([
      `Could not find public function for '${path.canonical}' in component '${body.componentPath}'.`,
    ]);
  } else {
    answer = await deployment.call(path, kind, body.args, caller);
  }
  send(response, 200, answerBody(answer, format()));
}

function systemAnswer(response, error) {
  if (error instanceof SystemError) {
    send(response, error.status, { code: error.code, message: error.message });
    return;
  }
  process.stderr.write(`internal error: ${error?.stack ?? error}\n`);
  send(response, 500, {
    code: "InternalServerError",
    message: "Your request couldn't be completed. Try again later.",
  });
}

/** The Convex HTTP API over `deployment`. */
export function apiServer(deployment, options) {
  return createServer((request, response) => {
    handleApi(deployment, options, request, response).catch((error) =>
      systemAnswer(response, error),
    );
  });
}

async function handleSite(deployment, options, request, response) {
  const url = new URL(request.url, `http://${request.headers.host ?? "127.0.0.1"}`);
  const router = deployment.loaded.router;
  if (router === undefined || router.lookup(url.pathname, request.method) === null) {
    response.writeHead(404, { "Content-Type": "text/plain; charset=utf-8" });
    response.end("No matching routes found");
    return;
  }
  const bytes = await readBody(request, 20 * 1024 * 1024);
  if (bytes === undefined) {
    response.writeHead(413, { "Content-Type": "text/plain; charset=utf-8" });
    response.end("The request body is larger than 20 MiB");
    return;
  }
  // A bearer token the server knows makes the request authenticated; any other header is ignored.
  const bearer = /^bearer (.*)$/i.exec(request.headers.authorization ?? "");
  const identity = bearer === null ? undefined : options.tokens.get(bearer[1].trim());
  const headers = new Headers();
  for (const [name, value] of Object.entries(request.headers)) {
    for (const item of Array.isArray(value) ? value : [value]) headers.append(name, item);
  }
  const hasBody = request.method !== "GET" && request.method !== "HEAD";
  const fetchRequest = new Request(url, {
    method: request.method,
    headers,
    body: hasBody ? bytes : undefined,
  });
  const label = `[CONVEX H(${request.method} ${url.pathname})]`;
  let outcome;
  try {
    outcome = await deployment.fetch(fetchRequest, identity);
  } catch (error) {
    if (!(error instanceof LoggedFailure)) throw error;
    for (const line of error.lines) process.stderr.write(`${label} ${line}\n`);
    const { lines } = describeThrown(error.cause, deployment.loaded.dir);
    const prefix = `[Request ID: ${requestId()}] Server Error`;
    send(
      response,
      500,
      deployment.redact
        ? { code: prefix }
        : { code: `${prefix}: ${lines[0]}`, trace: lines.slice(1).join("\n") },
    );
    return;
  }
  for (const line of outcome.logLines) process.stderr.write(`${label} ${line}\n`);
  const { response: answer } = outcome;
  const answerHeaders = {};
  answer.headers.forEach((value, name) => {
    answerHeaders[name] = value;
  });
  const payload = Buffer.from(await answer.arrayBuffer());
  response.writeHead(answer.status, answerHeaders);
  response.end(payload);
}

/** The HTTP actions of `http.ts`, as a deployment's site URL serves them. */
export function siteServer(deployment, options) {
  return createServer((request, response) => {
    handleSite(deployment, options, request, response).catch((error) =>
      systemAnswer(response, error),
    );
  });
}

/** Listens on 127.0.0.1 (`port` 0: any free port); resolves to the base URL. */
export async function listen(server, port) {
  server.listen(port, "127.0.0.1");
  await once(server, "listening");
  return `http://127.0.0.1:${server.address().port}`;
}
