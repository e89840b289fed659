// A lock holder in its own process, for test/coord/lock-process.test.ts.
// With SYNOD_COORD_WORKER set (JSON: endpoints, lock, resource, name,
// ttlSeconds) it loops: acquire the lock; while it believes it holds, sleep
// briefly, then put `<name> <token> <n>` to the resource with a guarded write.
// The check comes before the sleep, as in a real service that checks and then
// acts: a pause between the two is what fencing has to catch. On SIGUSR2 the
// next write is preceded by a stop-the-world pause (as a long garbage
// collection): no timer, no I/O, no keep-alive runs until the file
// `resumeFile` exists; then the write goes out at once, with the token the
// worker checked before the pause.
// Every step is one line on stdout. Without the variable it does nothing (the
// test runner also loads every file under test/).
import { existsSync } from 'node:fs';
import { EtcdClient } from '../../src/server/client.js';
import { Lock } from '../../src/coord/index.js';

interface WorkerConfig {
  readonly endpoints: string[];
  readonly lock: string;
  readonly resource: string;
  readonly name: string;
  readonly ttlSeconds: number;
  readonly resumeFile: string;
}

let pauseRequested = false;

/** Blocks the whole process (no event loop) until `file` exists. */
function stopTheWorld(file: string): void {
  const cell = new Int32Array(new SharedArrayBuffer(4));
  while (!existsSync(file)) Atomics.wait(cell, 0, 0, 20);
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const say = (line: string): void => void process.stdout.write(`${line}\n`);

async function holdAndWrite(lock: Lock, cfg: WorkerConfig): Promise<void> {
  const held = await lock.acquire();
  say(`acquired ${held.token} ${held.acquiredRevision}`);
  held.once('lost', () => say(`lost ${held.token}`));
  for (let n = 0; held.held; n++) {
    await sleep(20);
    if (pauseRequested) {
      pauseRequested = false;
      say(`pausing ${held.token}`);
      stopTheWorld(cfg.resumeFile);
    }
    const r = await held.guardedPut(cfg.resource, `${cfg.name} ${held.token} ${n}`);
    say(`write ${held.token} ${n} ${r.ok ? 'ok' : 'refused'} ${r.revision}`);
    if (!r.ok) break;
  }
  await held.release();
}

async function main(cfg: WorkerConfig): Promise<void> {
  const client = new EtcdClient({ endpoints: cfg.endpoints, commandTimeoutMs: 3000 });
  const lock = new Lock(client, cfg.lock, { ttlSeconds: cfg.ttlSeconds });
  say('ready');
  for (;;) {
    try {
      await holdAndWrite(lock, cfg);
    } catch (err) {
      say(`error ${(err as Error).message.replace(/\n/g, ' ')}`);
      await sleep(100);
    }
  }
}

const raw = process.env['SYNOD_COORD_WORKER'];
if (raw !== undefined) {
  process.on('SIGUSR2', () => {
    pauseRequested = true;
  });
  void main(JSON.parse(raw) as WorkerConfig);
}
