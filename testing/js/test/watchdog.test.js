// The server dies with its parent even when its main thread never returns to the event loop.

import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { readFileSync } from "node:fs";
import path from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";

const WATCHDOG = path.join(path.dirname(fileURLToPath(import.meta.url)), "..", "src", "watchdog.js");

/** Whether `pid` runs: a zombie (dead, not yet reaped by whoever adopted it) does not. */
function alive(pid) {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2)[0] !== "Z";
  } catch {
    return true;
  }
}

test("a busy process with the watchdog dies when its parent is killed", async () => {
  // The parent spawns the busy child (its stdin a pipe, as a launcher's is), prints its pid, and waits.
  const child = `
    const { dieWithParent } = await import(${JSON.stringify(WATCHDOG)});
    dieWithParent();
    process.stdout.write("ready\\n");
    for (;;) {}
  `;
  const parent = `
    const { spawn } = await import("node:child_process");
    const busy = spawn(process.execPath, ["--input-type=module", "-e", ${JSON.stringify(child)}], {
      stdio: ["pipe", "pipe", "inherit"],
    });
    busy.stdout.once("data", () => process.stdout.write(busy.pid + "\\n"));
    setInterval(() => {}, 1000);
  `;
  const launcher = spawn(process.execPath, ["--input-type=module", "-e", parent], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  const [line] = await once(launcher.stdout, "data");
  const pid = Number(String(line).trim());
  assert.ok(Number.isInteger(pid) && alive(pid), `the busy child runs: ${line}`);
  launcher.kill("SIGKILL");
  const deadline = Date.now() + 10_000;
  while (alive(pid) && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  const survived = alive(pid);
  if (survived) process.kill(pid, "SIGKILL");
  assert.equal(survived, false, "the busy child outlived its parent");
});
