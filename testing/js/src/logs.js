// `console` inside functions: each call becomes a log line of the request that runs the function,
// formatted as the Convex runtime does (`object-inspect` of each argument, joined by spaces, after the
// level in brackets: `[LOG] 'completed' 3`). Outside a request, output goes to stderr, so that stdout
// carries nothing but the server's first line.

import { AsyncLocalStorage } from "node:async_hooks";
import { format } from "node:util";
import inspect from "object-inspect";

const LEVELS = { log: "LOG", info: "INFO", warn: "WARN", error: "ERROR", debug: "DEBUG" };

const current = new AsyncLocalStorage();

/** A log line's text, as the Convex runtime's `console` builds it. */
export function logMessage(args) {
  return args
    .map((arg) => inspect(arg, { maxStringLength: 32768, indent: 2, customInspect: true }))
    .join(" ");
}

let installed = false;

/** Replaces the `console` methods once for the whole process. */
export function installConsole() {
  if (installed) return;
  installed = true;
  for (const [method, level] of Object.entries(LEVELS)) {
    console[method] = (...args) => {
      const lines = current.getStore();
      if (lines !== undefined && !lines.closed) {
        lines.push(`[${level}] ${logMessage(args)}`);
      } else {
        process.stderr.write(`${format(...args)}\n`);
      }
    };
  }
}

/**
 * Runs `fn` collecting the log lines of everything it calls; resolves to `{ result, lines }` or
 * rejects with the error, its `logLines` set. Work that outlives `fn` (a scheduled function) logs to
 * stderr instead.
 */
export async function withLogLines(fn) {
  const lines = [];
  try {
    const result = await current.run(lines, fn);
    return { result, lines: [...lines] };
  } catch (error) {
    throw Object.assign(new LoggedFailure(error), { lines: [...lines] });
  } finally {
    lines.closed = true;
  }
}

/** A failure of a function run by `withLogLines`, with the lines it logged first. */
export class LoggedFailure extends Error {
  constructor(cause) {
    super("the function failed", { cause });
    this.name = "LoggedFailure";
    this.lines = [];
  }
}
