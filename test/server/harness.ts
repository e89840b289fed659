// A real cluster of `synod node` processes on loopback, for tests.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { EtcdClient } from '../../src/server/client.js';

export const MAIN = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

export interface TestMember {
  readonly name: string;
  readonly clientPort: number;
  readonly peerPort: number;
  readonly dataDir: string;
  proc: ChildProcess | null;
  output: string;
}

export class TestCluster {
  readonly dir: string;
  members: TestMember[] = [];

  private constructor(readonly protocol: string, readonly extraArgs: readonly string[]) {
    this.dir = mkdtempSync(join(tmpdir(), 'synod-test-'));
  }

  static async start(size = 3, protocol = 'raft', extraArgs: readonly string[] = []): Promise<TestCluster> {
    const c = await TestCluster.create(size, protocol, extraArgs);
    for (const m of c.members) c.launch(m);
    await c.waitForLeader();
    await c.waitForServing();
    return c;
  }

  /** Members with ports and data directories chosen, not launched (e.g. to restore their data first). */
  static async create(size = 3, protocol = 'raft', extraArgs: readonly string[] = []): Promise<TestCluster> {
    const c = new TestCluster(protocol, extraArgs);
    for (let i = 1; i <= size; i++) {
      c.members.push({ name: `m${i}`, clientPort: await freePort(), peerPort: await freePort(), dataDir: join(c.dir, `m${i}`), proc: null, output: '' });
    }
    return c;
  }

  /** The --initial-cluster value of this cluster. */
  get initialCluster(): string {
    return this.members.map((x) => `${x.name}=http://127.0.0.1:${x.peerPort}`).join(',');
  }

  get endpoints(): string[] {
    return this.members.map((m) => `127.0.0.1:${m.clientPort}`);
  }

  args(m: TestMember): string[] {
    return [
      MAIN, 'node', '--name', m.name, '--data-dir', m.dataDir,
      '--listen-client-urls', `http://127.0.0.1:${m.clientPort}`,
      '--listen-peer-urls', `http://127.0.0.1:${m.peerPort}`,
      '--initial-cluster', this.members.map((x) => `${x.name}=http://127.0.0.1:${x.peerPort}`).join(','),
      '--protocol', this.protocol, '--heartbeat-interval', '50', '--election-timeout', '500',
      ...this.extraArgs,
    ];
  }

  /** A member to add at runtime (ports and data directory chosen; in `members` once launched with `launchJoining`). */
  async newMember(name: string): Promise<TestMember> {
    return { name, clientPort: await freePort(), peerPort: await freePort(), dataDir: join(this.dir, name), proc: null, output: '' };
  }

  /** Starts `m` as etcd starts an added member: --initial-cluster as `member add` printed it, --initial-cluster-state existing. */
  launchJoining(m: TestMember, initialCluster: string): void {
    if (!this.members.includes(m)) this.members.push(m);
    const args = this.args(m);
    args[args.indexOf('--initial-cluster') + 1] = initialCluster;
    this.launch(m, [...args, '--initial-cluster-state', 'existing']);
  }

  launch(m: TestMember, args: readonly string[] = this.args(m)): void {
    const proc = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, SYNOD_LOG_PRETTY: '0' } });
    m.output = '';
    const keep = (d: Buffer): void => {
      m.output = (m.output + d.toString()).slice(-20_000);
    };
    proc.stdout?.on('data', keep);
    proc.stderr?.on('data', keep);
    m.proc = proc;
  }

  kill(m: TestMember, signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const proc = m.proc;
    m.proc = null;
    if (proc === null || proc.exitCode !== null) return Promise.resolve();
    return new Promise((resolve) => {
      proc.once('exit', () => resolve());
      proc.kill(signal);
    });
  }

  /** The member that reports itself leader, waiting up to `timeoutMs`. */
  async waitForLeader(timeoutMs = 15_000): Promise<TestMember> {
    const until = Date.now() + timeoutMs;
    while (Date.now() < until) {
      for (const m of this.members) {
        if (m.proc === null) continue;
        const c = new EtcdClient({ endpoints: [`127.0.0.1:${m.clientPort}`], commandTimeoutMs: 500 });
        try {
          const s = await c.call('Maintenance', 'Status', {});
          if (s.leader !== '0' && s.leader === s.header.member_id) return m;
        } catch {
          // not up yet
        } finally {
          c.close();
        }
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`no leader within ${timeoutMs} ms; logs:\n${this.members.map((m) => `--- ${m.name}\n${m.output.slice(-3000)}`).join('\n')}`);
  }

  /**
   * Waits until every running member answers on its client port: a member
   * takes part in elections before its gRPC server listens, so a leader can be
   * known while a follower's port is still closed.
   */
  async waitForServing(timeoutMs = 15_000): Promise<void> {
    const until = Date.now() + timeoutMs;
    for (const m of this.members) {
      for (;;) {
        if (m.proc === null || m.proc.exitCode !== null) break;
        const c = new EtcdClient({ endpoints: [`127.0.0.1:${m.clientPort}`], commandTimeoutMs: 500 });
        try {
          await c.call('Maintenance', 'Status', {});
          break;
        } catch {
          if (Date.now() >= until) throw new Error(`member ${m.name} does not answer on its client port within ${timeoutMs} ms; log:\n${m.output.slice(-3000)}`);
          await new Promise((r) => setTimeout(r, 50));
        } finally {
          c.close();
        }
      }
    }
  }

  async stop(): Promise<void> {
    await Promise.all(this.members.map((m) => this.kill(m, 'SIGTERM')));
    rmSync(this.dir, { recursive: true, force: true });
  }
}
