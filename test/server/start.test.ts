// `synod start` (what `npm start` runs): a local three-member cluster on
// etcd's local ports, usable at once with the commands it prints, stopped
// cleanly by Ctrl-C; and a member that cannot start stops the rest, named.
import { test, describe, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LOCAL_MEMBERS } from '../../src/cli/start.js';
import { MAIN } from './harness.js';

const PORTS = LOCAL_MEMBERS.flatMap((m) => [m.clientPort, m.peerPort, m.metricsPort]);

/** Listens on `port` (127.0.0.1), or resolves null when it is taken. */
function hold(port: number): Promise<Server | null> {
  return new Promise((resolve) => {
    const s = createServer();
    s.once('error', () => resolve(null));
    s.listen(port, '127.0.0.1', () => resolve(s));
  });
}

/** The first of etcd's local ports that something else holds, if any. */
async function takenPort(): Promise<number | undefined> {
  for (const p of PORTS) {
    const s = await hold(p);
    if (s === null) return p;
    await new Promise((r) => s.close(r));
  }
  return undefined;
}

interface Started { proc: ChildProcess; out: () => string; exited: Promise<number | null> }

function startCluster(cwd: string): Started {
  const proc = spawn(process.execPath, [MAIN, 'start', '--data-dir', join(cwd, 'data')], { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  proc.stdout?.on('data', (d: Buffer) => { out += d.toString(); });
  proc.stderr?.on('data', (d: Buffer) => { out += d.toString(); });
  return { proc, out: () => out, exited: new Promise((r) => proc.once('exit', (code) => r(code))) };
}

const synod = (args: string[]): { status: number | null; stdout: string; stderr: string } =>
  spawnSync(process.execPath, [MAIN, ...args], { encoding: 'utf8' });

async function portsClosed(): Promise<boolean> {
  return (await takenPort()) === undefined;
}

/**
 * Runs `body` against a fresh `synod start` in a temporary directory; skips
 * when one of etcd's local ports is taken on this machine.
 */
async function withStart(t: TestContext, body: (c: Started) => Promise<void>, before?: () => Promise<void>): Promise<void> {
  const busy = await takenPort();
  if (busy !== undefined) {
    t.skip(`port ${busy} is in use on this machine`);
    return;
  }
  await before?.();
  const dir = mkdtempSync(join(tmpdir(), 'synod-start-'));
  const c = startCluster(dir);
  try {
    await body(c);
  } finally {
    if (c.proc.exitCode === null) c.proc.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('synod start', () => {
  test('prints what to do next, serves the commands it prints, and stops every member on Ctrl-C', (t) => withStart(t, async (c) => {
    const until = Date.now() + 20_000;
    for (;;) {
      const r = synod(['put', 'greeting', 'hello', '--command-timeout', '1000']);
      if (r.status === 0) break;
      if (Date.now() > until || c.proc.exitCode !== null) throw new Error(`the cluster does not take a put: ${r.stderr}\n${c.out().slice(-3000)}`);
      await new Promise((res) => setTimeout(res, 200));
    }
    // One log stream, each line prefixed by its member. (spawnSync blocked this process's event loop:
    // let the output that arrived meanwhile be read.)
    const logged = Date.now() + 5000;
    while (!['infra1', 'infra2', 'infra3'].every((n) => new RegExp(`^${n} *\\| `, 'm').test(c.out()))) {
      if (Date.now() > logged) assert.fail(`no line from every member:\n${c.out().slice(-2000)}`);
      await new Promise((res) => setTimeout(res, 100));
    }
    assert.match(c.out(), /a local 3-member cluster on raft/);
    assert.match(c.out(), /npx synod put greeting hello/);
    assert.equal(synod(['get', 'greeting']).stdout, 'greeting\nhello\n');
    const status = synod(['endpoint', 'status', '--endpoints', LOCAL_MEMBERS.map((m) => `127.0.0.1:${m.clientPort}`).join(','), '-w', 'json']);
    assert.equal((JSON.parse(status.stdout) as unknown[]).length, 3);
    c.proc.kill('SIGINT');
    assert.equal(await c.exited, 0);
    assert.match(c.out(), /stopping the cluster/);
    assert.equal(await portsClosed(), true, 'every member is gone');
  }));

  test('a member that cannot start (its port is taken) stops the others, and the command names it', (t) => {
    let blocker: Server | null = null;
    return withStart(t, async (c) => {
      try {
        const code = await Promise.race([c.exited, new Promise<string>((r) => setTimeout(() => r('timeout'), 20_000))]);
        assert.equal(code, 1, c.out().slice(-2000));
        assert.match(c.out(), /synod: infra2 exited with code \d+; stopping the rest/);
      } finally {
        await new Promise((r) => blocker?.close(r));
      }
      assert.equal(await portsClosed(), true, 'the other members are gone too');
    }, async () => {
      blocker = await hold(LOCAL_MEMBERS[1]?.clientPort ?? 22379);
      assert.ok(blocker !== null);
    });
  });

  test('members stop by themselves when synod start is killed outright (SIGKILL)', (t) => withStart(t, async (c) => {
    const until = Date.now() + 20_000;
    while (synod(['endpoint', 'health', '--command-timeout', '1000']).status !== 0) {
      if (Date.now() > until) throw new Error(`the cluster does not come up:\n${c.out().slice(-3000)}`);
      await new Promise((res) => setTimeout(res, 200));
    }
    c.proc.kill('SIGKILL');
    await c.exited;
    const gone = Date.now() + 10_000;
    while (!(await portsClosed())) {
      if (Date.now() > gone) throw new Error('members outlived synod start');
      await new Promise((res) => setTimeout(res, 200));
    }
  }));
});
