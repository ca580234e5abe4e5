// Starting the server as a launcher does: a child process, its first stdout line read for the URLs.

import { spawn } from "node:child_process";
import { once } from "node:events";
import path from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
export const MAIN = path.join(here, "..", "src", "main.js");
export const EXAMPLES = path.join(here, "..", "..", "..", "examples", "convex");
export const FIXTURES = path.join(here, "fixtures");
export const DEMO_TOKEN = "demo-user-token";
export const ADA = { subject: "user_1", name: "Ada", issuer: "https://auth.demo.invalid" };

/** Runs `main.js` with `args`; resolves when it exits: `{ code, stdout, stderr }`. */
export async function run(args) {
  const child = spawn(process.execPath, [MAIN, ...args], { stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (chunk) => (stdout += chunk));
  child.stderr.on("data", (chunk) => (stderr += chunk));
  const [code] = await once(child, "exit");
  return { code, stdout, stderr };
}

/**
 * Starts a server on `dir` (the examples by default, with their data and the demo token); resolves to
 * `{ url, siteUrl, adminKey, child, stderr(), stop() }` once its first line is out.
 */
export async function start({ dir = EXAMPLES, args } = {}) {
  const extra = args ?? ["--run", "init", "--token", `${DEMO_TOKEN}=${JSON.stringify(ADA)}`];
  const child = spawn(process.execPath, [MAIN, dir, ...extra], { stdio: ["pipe", "pipe", "pipe"] });
  let stderr = "";
  child.stderr.on("data", (chunk) => (stderr += chunk));
  const lines = createInterface({ input: child.stdout });
  const exited = once(child, "exit").then(([code]) => {
    throw new Error(`the server exited (${code}) before its first line:\n${stderr}`);
  });
  const [first] = await Promise.race([once(lines, "line"), exited]);
  exited.catch(() => {});
  const info = JSON.parse(first);
  return {
    ...info,
    child,
    stderr: () => stderr,
    async stop() {
      if (child.exitCode === null) {
        child.stdin.end();
        await once(child, "exit");
      }
    },
  };
}

/** POSTs `body` to `url` + `endpoint`; resolves to `{ status, body }`, the body parsed when it is JSON. */
export async function post(server, endpoint, body, headers = {}) {
  const response = await fetch(`${server.url}${endpoint}`, {
    method: "POST",
    headers: { "Content-Type": "application/json", ...headers },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
  const text = await response.text();
  let parsed;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = text;
  }
  return { status: response.status, body: parsed };
}

/** `[Request ID: <16 hex>] Server Error`, then the detail lines, each ending in a newline. */
export function serverError(...lines) {
  return `[Request ID: ${"x".repeat(16)}] Server Error\n${lines.map((l) => `${l}\n`).join("")}`;
}

/** An error message with its request id replaced, for comparing with `serverError(…)`. */
export function withoutRequestId(message) {
  return message.replace(/^\[Request ID: [0-9a-f]{16}\]/, `[Request ID: ${"x".repeat(16)}]`);
}
