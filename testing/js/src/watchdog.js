// Dies with the parent process, even while the main thread is busy.
//
// The server stops when its stdin closes, which it notices only on its event loop: a function stuck in a loop
// (or a long synchronous one) keeps it alive after its parent was killed. A worker thread has a loop of its
// own; it watches the parent process id, which changes when the parent dies and the server is re-parented,
// and then kills the whole process.

import { Worker } from "node:worker_threads";

/** How often the worker looks, in milliseconds. */
const INTERVAL_MS = 200;

const WATCHER = `
const { workerData } = require("node:worker_threads");
setInterval(() => {
  if (process.ppid !== workerData.parent) process.kill(workerData.pid, "SIGKILL");
}, workerData.interval);
`;

/** Starts the watchdog; it does not keep the process alive by itself. */
export function dieWithParent() {
  const worker = new Worker(WATCHER, {
    eval: true,
    // Not the process's flags: `--input-type=module` would make the watcher's CommonJS an ES module.
    execArgv: [],
    workerData: { parent: process.ppid, pid: process.pid, interval: INTERVAL_MS },
  });
  worker.unref();
  return worker;
}
