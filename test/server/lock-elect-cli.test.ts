// `synod lock` and `synod elect` against a real cluster, as etcdctl's verbs
// behave: a second locker waits for the first to let go, a command runs while
// the lock is held with ETCD_LOCK_KEY set, and an election's listener sees
// each leader in turn.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { MAIN, TestCluster } from './harness.js';

interface Running {
  readonly proc: ChildProcessWithoutNullStreams;
  out: string;
  err: string;
  readonly exit: Promise<number | null>;
}

describe('synod lock and elect', () => {
  let cluster: TestCluster;
  before(async () => {
    cluster = await TestCluster.start(3, 'raft');
  });
  after(async () => {
    await cluster.stop();
  });

  const start = (...args: string[]): Running => {
    // Options go before a `--` that starts the command to run.
    const dash = args.indexOf('--');
    const withEndpoints = dash < 0 ? [...args, '--endpoints', cluster.endpoints.join(',')] : [...args.slice(0, dash), '--endpoints', cluster.endpoints.join(','), ...args.slice(dash)];
    const proc = spawn(process.execPath, [MAIN, ...withEndpoints]);
    const r: Running = { proc, out: '', err: '', exit: new Promise((resolve) => proc.once('exit', (code) => resolve(code))) };
    proc.stdout.on('data', (d: Buffer) => (r.out += d.toString()));
    proc.stderr.on('data', (d: Buffer) => (r.err += d.toString()));
    return r;
  };
  const until = async (what: string, check: () => boolean, ms = 10_000): Promise<void> => {
    for (const end = Date.now() + ms; !check(); await new Promise((r) => setTimeout(r, 50))) if (Date.now() > end) assert.fail(`${what} did not happen`);
  };

  test('lock: the second locker waits until the first is interrupted, then runs its command holding the lock', async () => {
    const first = start('lock', 'cli-lock');
    await until('the first lock', () => first.out.includes('\n'));
    assert.match(first.out, /^cli-lock\/[0-9a-f]+\n$/);
    const second = start('lock', 'cli-lock', '--', process.execPath, '-e', 'console.log("ran with " + process.env.ETCD_LOCK_KEY + " rev " + process.env.ETCD_LOCK_REV)');
    await new Promise((r) => setTimeout(r, 1000));
    assert.equal(second.out, '', 'waits while the first holds the lock');
    first.proc.kill('SIGINT');
    assert.equal(await first.exit, 0);
    assert.equal(await second.exit, 0, second.err);
    assert.match(second.out, /^ran with cli-lock\/[0-9a-f]+ rev \d+\n$/);
    assert.notEqual(second.out.split(' ')[2], first.out.trim(), 'a key of its own');
  });

  test("elect: a listener sees each leader; the second candidate leads once the first resigns", async () => {
    const listener = start('elect', '-l', 'cli-elect');
    const one = start('elect', 'cli-elect', 'one');
    await until('the first leader', () => one.out.split('\n').length >= 3);
    assert.match(one.out, /^cli-elect\/[0-9a-f]+\none\n$/);
    const two = start('elect', 'cli-elect', 'two');
    await new Promise((r) => setTimeout(r, 1000));
    assert.equal(two.out, '', 'the second candidate waits');
    one.proc.kill('SIGINT');
    assert.equal(await one.exit, 0);
    await until('the second leader', () => two.out.includes('two'));
    await until('the listener to see both', () => listener.out.includes('two'));
    assert.deepEqual(listener.out.trim().split('\n').filter((_, i) => i % 2 === 1), ['one', 'two']);
    two.proc.kill('SIGINT');
    listener.proc.kill('SIGINT');
    assert.equal(await two.exit, 0);
    assert.equal(await listener.exit, 0);
    const noProposal = start('elect', 'cli-elect');
    assert.notEqual(await noProposal.exit, 0);
    assert.match(noProposal.err, /a proposal is required/);
  });
});
