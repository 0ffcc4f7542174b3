import { fork } from "node:child_process";
import { fileURLToPath } from "node:url";
import { Worker } from "node:worker_threads";

/** A message from a child script (see channel.mjs): `type` plus whatever the script reports. */
export interface Message {
  type: string;
  [field: string]: unknown;
}

/** A running child script, process or thread, seen the same way by the tests. */
export interface Runner {
  readonly pid: number | undefined;
  /** Every message received so far, in order. */
  readonly messages: Message[];
  /** The first message of `type`; rejects if the child reports an error or exits without sending it. */
  next(type: string): Promise<Message>;
  send(message: Message): void;
  /** Resolves when the child has ended, with its exit code or the signal that ended it. */
  readonly exited: Promise<{ code: number | null; signal: string | null }>;
  kill(signal?: NodeJS.Signals): void;
}

/** Path of a script beside this file. */
export function script(name: string): string {
  return fileURLToPath(new URL(name, import.meta.url));
}

/** Starts `file` as a child process with `args`. */
export function startProcess(file: string, args: object): Runner {
  // execArgv: [] so the child does not inherit the test runner's loader flags; it runs plain Node.
  const child = fork(file, [JSON.stringify(args)], {
    execArgv: [],
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
  const exited = new Promise<{ code: number | null; signal: string | null }>((resolve) =>
    child.once("exit", (code, signal) => resolve({ code, signal })),
  );
  return track((deliver) => child.on("message", deliver), exited, {
    pid: child.pid,
    send: (m) => child.send(m),
    kill: (signal = "SIGTERM") => child.kill(signal),
  });
}

/** Starts `file` as a worker thread of this process with `args` as its workerData. */
export function startThread(file: string, args: object): Runner {
  const worker = new Worker(file, { workerData: args });
  const exited = new Promise<{ code: number | null; signal: string | null }>((resolve) =>
    worker.once("exit", (code) => resolve({ code, signal: null })),
  );
  const listen = (deliver: (m: Message) => void) => {
    worker.on("message", deliver);
    // An uncaught throw in the thread (outside channel.mjs's run) arrives as an event, not a message.
    worker.on("error", (err) => deliver({ type: "error", message: String(err.stack ?? err) }));
  };
  return track(listen, exited, {
    pid: undefined,
    send: (m) => worker.postMessage(m),
    kill: () => void worker.terminate(),
  });
}

/** A Runner over `listen`, which hands each message of the child to the function it is given. */
function track(
  listen: (deliver: (m: Message) => void) => void,
  exited: Runner["exited"],
  io: Pick<Runner, "pid" | "send" | "kill">,
): Runner {
  const messages: Message[] = [];
  const waiters: (() => void)[] = [];
  let ended = false;
  listen((m) => {
    messages.push(m);
    for (const w of waiters.splice(0)) w();
  });
  void exited.then(() => {
    ended = true;
    for (const w of waiters.splice(0)) w();
  });
  const next = (type: string) =>
    new Promise<Message>((resolve, reject) => {
      const check = () => {
        const error = messages.find((m) => m.type === "error");
        if (error) return reject(new Error(`child failed: ${error.message}`));
        const hit = messages.find((m) => m.type === type);
        if (hit) return resolve(hit);
        if (ended) return reject(new Error(`child exited without sending '${type}'`));
        waiters.push(check);
      };
      check();
    });
  return { ...io, messages, next, exited };
}

/**
 * Runs every runner to its "done" message and returns those messages. With `barrier` (the scripts
 * were given `barrier: true`) it first waits until all are "ready", then says "go" to all at once.
 */
export async function runAll(runners: Runner[], barrier: boolean): Promise<Message[]> {
  try {
    if (barrier) {
      await Promise.all(runners.map((r) => r.next("ready")));
      for (const r of runners) r.send({ type: "go" });
    }
    const done = await Promise.all(runners.map((r) => r.next("done")));
    for (const { code, signal } of await Promise.all(runners.map((r) => r.exited))) {
      if (code !== 0) throw new Error(`a child reported done but exited with code ${code}, signal ${signal}`);
    }
    return done;
  } catch (err) {
    // One failed: end the others so the test fails now instead of at its timeout.
    for (const r of runners) r.kill("SIGKILL");
    throw err;
  }
}
