// The link between a test and one of its child scripts, the same whether the script runs as a child
// process (fork: arguments as JSON in argv[2], messages over the IPC channel) or as a worker thread
// (workerData and parentPort), so one script serves both kinds of concurrency.
import { parentPort, workerData } from "node:worker_threads";

/** The arguments the parent gave this script. */
export const args = parentPort ? workerData : JSON.parse(process.argv[2] ?? "{}");

/** Sends `message` to the parent; resolves once it is handed over (a process may exit after that). */
export function send(message) {
  if (parentPort) {
    parentPort.postMessage(message);
    return Promise.resolve();
  }
  return new Promise((resolve, reject) => process.send(message, (err) => (err ? reject(err) : resolve())));
}

/** Resolves with the first message from the parent whose `type` is `type`. */
export function waitFor(type) {
  const port = parentPort ?? process;
  return new Promise((resolve) => {
    const onMessage = (message) => {
      if (message?.type !== type) return;
      port.off("message", onMessage);
      resolve(message);
    };
    port.on("message", onMessage);
  });
}

/** Ends the link so the process or thread can exit by itself once its work is done. */
export function close() {
  if (parentPort) parentPort.close();
  else process.disconnect();
}

/** Runs `main`; a failure is reported to the parent (with its stack) instead of dying silently. */
export async function run(main) {
  try {
    await main();
  } catch (err) {
    await send({ type: "error", message: String(err?.stack ?? err), code: err?.code });
    process.exitCode = 1;
  }
  close();
}

/** Wall-clock milliseconds with sub-millisecond precision, comparable across processes. */
export function now() {
  return performance.timeOrigin + performance.now();
}
