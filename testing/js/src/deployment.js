// The loaded functions running in `convex-test`, called as a deployment calls them: the function is
// looked up (public only, unless the caller holds the admin key), its kind checked against the
// endpoint's, its args validated with the backend's rules and texts, and what it returns or throws
// turned into a deployment's answer.

import { makeFunctionReference } from "convex/server";
import { jsonToConvex } from "convex/values";
import { convexTest } from "convex-test";
import { SystemError } from "./auth.js";
import { describeThrown, requestId, serverErrorMessage } from "./errors.js";
import { LoggedFailure, withLogLines } from "./logs.js";
import { ValidationError, validate } from "./validate.js";

const METHODS = { Query: "query", Mutation: "mutation", Action: "action" };

/** `convex-test` wants the modules keyed by file, with a `_generated` entry marking the root. */
function moduleMap(loaded) {
  const map = { "./_generated/api.js": async () => ({}) };
  for (const [module, namespace] of Object.entries(loaded.modules)) {
    map[`./${loaded.files[module]}`] = async () => namespace;
  }
  return map;
}

function nowNanos() {
  return BigInt(Date.now()) * 1_000_000n;
}

/**
 * The args object of a request: absent is `{}`, an object is itself, and a one-element array holding
 * an object is that object (the legacy positional form). `undefined` for anything else.
 */
function argsObject(args) {
  if (args === undefined) return {};
  if (Array.isArray(args)) {
    return args.length === 1 && isObject(args[0]) ? args[0] : undefined;
  }
  return isObject(args) ? args : undefined;
}

function isObject(value) {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

/** `convex-test`'s own validation texts, reworded as the backend's error names. */
function translate(thrown, dir) {
  const message = thrown instanceof Error ? thrown.message : "";
  const returns = /^Return value validation failed for \w+ "[^"]*":\n(?:Validator error: )?/.exec(
    message,
  );
  if (returns !== null) {
    return {
      lines: [`ReturnsValidationError: ${message.slice(returns[0].length)}`],
      data: undefined,
    };
  }
  if (message.startsWith("Validator error: ")) {
    return {
      lines: [`ArgumentValidationError: ${message.slice("Validator error: ".length)}`],
      data: undefined,
    };
  }
  return describeThrown(thrown, dir);
}

export class Deployment {
  /** `loaded`: what `loadFunctions` resolved to; `redact`: answer failures as production does. */
  constructor(loaded, { redact = false } = {}) {
    this.loaded = loaded;
    this.redact = redact;
    this.test = convexTest({ schema: loaded.schema, modules: moduleMap(loaded) });
    this.ts = nowNanos();
  }

  /** The latest timestamp, nanoseconds: a successful mutation or action moves it forward. */
  timestamp() {
    return this.ts;
  }

  advance() {
    const now = nowNanos();
    this.ts = now > this.ts ? now : this.ts + 1n;
  }

  failure(lines, data = undefined, logLines = []) {
    const message = serverErrorMessage(requestId(), lines, this.redact);
    return { status: "error", message, data, logLines: this.redact ? [] : logLines };
  }

  /** The accessor of `convex-test` that runs as `identity` (an object) or as nobody. */
  accessor(identity) {
    return identity === undefined ? this.test : this.test.withIdentity(identity);
  }

  /**
   * Runs the function `path` (a parsed path) for a caller (`{ identity, admin }`). `kind` is the kind
   * the endpoint runs (`Query`, `Mutation`, `Action`) or `undefined` for any. Resolves to
   * `{ status: "success", value, logLines }` or `{ status: "error", message, data, logLines }`, `value`
   * and `data` being Convex values. Throws a `SystemError` for args that are not Convex JSON.
   */
  async call(path, kind, rawArgs, caller) {
    const fn = this.loaded.functions.get(path.canonical);
    if (fn === undefined || (fn.visibility === "internal" && !caller.admin)) {
      return this.failure([
        `Could not find public function for '${path.canonical}'. Did you forget to run ` +
          "`npx convex dev` or `npx convex deploy`?",
      ]);
    }
    if (kind !== undefined && kind !== fn.kind) {
      return this.failure([
        `Trying to execute ${path.withJs} as ${kind}, but it is defined as ${fn.kind}.`,
      ]);
    }
    const argsJson = argsObject(rawArgs);
    if (argsJson === undefined) {
      return this.failure([
        "ArgumentValidationError: The arguments of a Convex function must be an object " +
          `(or an array holding one object), not ${JSON.stringify(rawArgs)}.`,
      ]);
    }
    let args;
    try {
      args = jsonToConvex(argsJson);
    } catch (error) {
      throw new SystemError(
        400,
        "BadJsonBody",
        `The args are not Convex-encoded JSON: ${error.message}`,
      );
    }
    try {
      validate(JSON.parse(fn.func.exportArgs()), args);
    } catch (error) {
      if (error instanceof ValidationError) {
        return this.failure([`ArgumentValidationError: ${error.message}`]);
      }
      throw error;
    }
    const reference = makeFunctionReference(path.canonical);
    const accessor = this.accessor(caller.identity);
    try {
      const { result, lines } = await withLogLines(() =>
        accessor[METHODS[fn.kind]](reference, args),
      );
      if (fn.kind !== "Query") this.advance();
      return {
        status: "success",
        value: result === undefined ? null : result,
        logLines: this.redact ? [] : lines,
      };
    } catch (error) {
      if (!(error instanceof LoggedFailure)) throw error;
      if (fn.kind === "Action") this.advance();
      const { lines, data } = translate(error.cause, this.loaded.dir);
      return this.failure(lines, data, error.lines);
    }
  }

  /** Runs an HTTP action for `request` (a `Request`) as `identity`; resolves to its `Response`. */
  async fetch(request, identity) {
    const url = new URL(request.url);
    const init = {
      method: request.method,
      headers: request.headers,
      body:
        request.method === "GET" || request.method === "HEAD"
          ? undefined
          : await request.arrayBuffer(),
    };
    const { result, lines } = await withLogLines(() =>
      this.accessor(identity).fetch(`${url.pathname}${url.search}`, init),
    );
    this.advance();
    return { response: result, logLines: lines };
  }
}
