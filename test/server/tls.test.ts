// TLS on the client URLs, with real processes: a member started with an
// https:// client URL, reached by etcdctl (when installed) and by synod's
// client commands with --cacert; with --client-cert-auth, only clients that
// present a certificate signed by --trusted-ca-file get in. Certificates are
// made for the test with the openssl command line.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:http2';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EtcdClient } from '../../src/server/client.js';
import { ConfigError, resolveConfig } from '../../src/server/config.js';
import { MAIN, freePort } from './harness.js';

const openssl = spawnSync('openssl', ['version'], { encoding: 'utf8' }).status === 0;
const etcdctl = spawnSync('etcdctl', ['version'], { encoding: 'utf8' }).status === 0;

/** A CA, a server certificate for 127.0.0.1 and localhost, and a client certificate, in `dir`. */
function makeCertificates(dir: string): void {
  const run = (...args: string[]): void => {
    const r = spawnSync('openssl', args, { cwd: dir, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`openssl ${args.join(' ')}: ${r.stderr}`);
  };
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  run('req', '-x509', ...ec, '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '2', '-subj', '/CN=synod test CA');
  // Members use the server certificate on both ends of a peer connection.
  writeFileSync(join(dir, 'server.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth,clientAuth\n');
  writeFileSync(join(dir, 'client.ext'), 'extendedKeyUsage=clientAuth\n');
  for (const who of ['server', 'client']) {
    run('req', ...ec, '-keyout', `${who}.key`, '-out', `${who}.csr`, '-subj', `/CN=synod test ${who}`);
    run('x509', '-req', '-in', `${who}.csr`, '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', `${who}.pem`, '-days', '2', '-extfile', `${who}.ext`);
  }
  // A second CA that signed nothing the server trusts, and a member certificate from it.
  run('req', '-x509', ...ec, '-keyout', 'other.key', '-out', 'other.pem', '-days', '2', '-subj', '/CN=another CA');
  run('req', ...ec, '-keyout', 'rogue.key', '-out', 'rogue.csr', '-subj', '/CN=rogue member');
  run('x509', '-req', '-in', 'rogue.csr', '-CA', 'other.pem', '-CAkey', 'other.key', '-CAcreateserial', '-out', 'rogue.pem', '-days', '2', '-extfile', 'server.ext');
}

interface Member { proc: ChildProcess; port: number; output: string }

async function startMember(dir: string, name: string, extra: readonly string[]): Promise<Member> {
  const port = await freePort();
  const peer = await freePort();
  const proc = spawn(process.execPath, [MAIN, 'node', '--name', name, '--data-dir', join(dir, name),
    '--listen-client-urls', `https://127.0.0.1:${port}`, '--listen-peer-urls', `http://127.0.0.1:${peer}`,
    '--heartbeat-interval', '50', '--election-timeout', '500',
    '--cert-file', join(dir, 'server.pem'), '--key-file', join(dir, 'server.key'), ...extra],
  { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, SYNOD_LOG_PRETTY: '0' } });
  const m: Member = { proc, port, output: '' };
  proc.stdout?.on('data', (d: Buffer) => { m.output = (m.output + d.toString()).slice(-10_000); });
  proc.stderr?.on('data', (d: Buffer) => { m.output = (m.output + d.toString()).slice(-10_000); });
  // Serving once a TLS client with the CA reads its status.
  const until = Date.now() + 15_000;
  for (;;) {
    const c = new EtcdClient({ endpoints: [`https://127.0.0.1:${port}`], commandTimeoutMs: 500,
      tls: { ca: readFile(dir, 'ca.pem'), cert: readFile(dir, 'client.pem'), key: readFile(dir, 'client.key') } });
    try {
      await c.call('Maintenance', 'Status', {});
      return m;
    } catch {
      if (Date.now() > until || proc.exitCode !== null) throw new Error(`member does not serve over TLS; log:\n${m.output}`);
      await new Promise((r) => setTimeout(r, 100));
    } finally {
      c.close();
    }
  }
}

function readFile(dir: string, name: string): Buffer {
  return readFileSync(join(dir, name));
}

async function stop(m: Member): Promise<void> {
  if (m.proc.exitCode !== null) return;
  const exited = new Promise((r) => m.proc.once('exit', r));
  m.proc.kill('SIGTERM');
  await exited;
}

const synod = (args: string[]): { status: number | null; stdout: string; stderr: string } =>
  spawnSync(process.execPath, [MAIN, ...args], { encoding: 'utf8' });

describe('TLS on the client URLs', { skip: openssl ? false : 'openssl is not installed (apt-get install openssl)' }, () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'synod-tls-'));
    makeCertificates(dir);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('https:// needs a certificate and a key; files that cannot be read are named', () => {
    const https = { listenClientUrls: 'https://127.0.0.1:2379' };
    assert.throws(() => resolveConfig(https), (e: unknown) => e instanceof ConfigError && /need --cert-file and --key-file/.test(e.message));
    assert.throws(() => resolveConfig({ ...https, certFile: join(dir, 'nope.pem'), keyFile: join(dir, 'server.key') }),
      (e: unknown) => e instanceof ConfigError && /--cert-file: cannot read '.*nope\.pem': ENOENT/.test(e.message));
    assert.throws(() => resolveConfig({ ...https, certFile: join(dir, 'server.pem'), keyFile: join(dir, 'server.key'), clientCertAuth: true }),
      (e: unknown) => e instanceof ConfigError && /--client-cert-auth needs --trusted-ca-file/.test(e.message));
    assert.throws(() => resolveConfig({ certFile: join(dir, 'server.pem'), keyFile: join(dir, 'server.key') }),
      (e: unknown) => e instanceof ConfigError && /apply to https:\/\/ URLs; --listen-client-urls are http:\/\//.test(e.message));
    assert.throws(() => resolveConfig({ listenPeerUrls: 'https://127.0.0.1:2380' }),
      (e: unknown) => e instanceof ConfigError && /need --peer-cert-file and --peer-key-file/.test(e.message));
    const peerTls = { listenPeerUrls: 'https://127.0.0.1:2380', peerCertFile: join(dir, 'server.pem'), peerKeyFile: join(dir, 'server.key') };
    assert.throws(() => resolveConfig({ ...peerTls, name: 'a', initialCluster: 'a=https://127.0.0.1:2380,b=http://127.0.0.1:2480' }),
      (e: unknown) => e instanceof ConfigError && /b=http:\/\/127\.0\.0\.1:2480 uses http:\/\/ but --listen-peer-urls use https:\/\//.test(e.message));
    assert.equal(resolveConfig({ ...peerTls, peerClientCertAuth: true, peerTrustedCaFile: join(dir, 'ca.pem') }).peerTls?.clientCertAuth, true);
    const ok = resolveConfig({ ...https, certFile: join(dir, 'server.pem'), keyFile: join(dir, 'server.key') });
    assert.equal(ok.clientTls?.clientCertAuth, false);
  });

  test('a member on https://: etcdctl and synod put and get with --cacert; without the CA, or in plaintext, nothing gets through', async () => {
    const m = await startMember(dir, 'tls1', []);
    try {
      const ep = `https://127.0.0.1:${m.port}`;
      const ca = join(dir, 'ca.pem');
      let r = synod(['put', 'tls/a', 'secret', '--endpoints', ep, '--cacert', ca]);
      assert.equal(r.status, 0, r.stderr);
      assert.equal(r.stdout.trim(), 'OK');
      r = synod(['get', 'tls/a', '--endpoints', ep, '--cacert', ca]);
      assert.equal(r.stdout, 'tls/a\nsecret\n');
      if (etcdctl) {
        const ctl = spawnSync('etcdctl', ['--endpoints', ep, '--cacert', ca, 'get', 'tls/a', '--print-value-only'],
          { encoding: 'utf8', env: { ...process.env, ETCDCTL_API: '3' } });
        assert.equal(ctl.status, 0, ctl.stderr);
        assert.equal(ctl.stdout.trim(), 'secret');
      }
      // A CA that did not sign the server's certificate: refused, and the command says why.
      r = synod(['get', 'tls/a', '--endpoints', ep, '--cacert', join(dir, 'other.pem'), '--command-timeout', '2000']);
      assert.equal(r.status, 1);
      assert.match(r.stderr, /Error: /);
      // A file that is not there is a usage error naming it.
      r = synod(['get', 'tls/a', '--endpoints', ep, '--cacert', join(dir, 'missing.pem')]);
      assert.equal(r.status, 2);
      assert.match(r.stderr, /--cacert: cannot read '.*missing\.pem'/);
      // Plain HTTP/2 to the TLS port gets no answer: the connection fails.
      const session = connect(`http://127.0.0.1:${m.port}`);
      const failed = await new Promise<boolean>((resolve) => {
        session.on('error', () => resolve(true));
        session.on('close', () => resolve(true));
        const req = session.request({ ':method': 'POST', ':path': '/etcdserverpb.KV/Range', 'content-type': 'application/grpc' });
        req.on('error', () => resolve(true));
        req.on('response', () => resolve(false));
        req.end();
      });
      session.destroy();
      assert.equal(failed, true);
    } finally {
      await stop(m);
    }
  });

  test('--client-cert-auth: a client without a certificate, or with one from another CA, is refused; one signed by the trusted CA gets in', async () => {
    const m = await startMember(dir, 'tls2', ['--client-cert-auth', '--trusted-ca-file', join(dir, 'ca.pem')]);
    try {
      const ep = `https://127.0.0.1:${m.port}`;
      const ca = join(dir, 'ca.pem');
      let r = synod(['put', 'mtls/a', '1', '--endpoints', ep, '--cacert', ca, '--command-timeout', '2000']);
      assert.equal(r.status, 1, 'no client certificate: refused');
      r = synod(['put', 'mtls/a', '1', '--endpoints', ep, '--cacert', ca, '--cert', join(dir, 'client.pem'), '--key', join(dir, 'client.key')]);
      assert.equal(r.status, 0, r.stderr);
      r = synod(['put', 'mtls/a', '1', '--endpoints', ep, '--cacert', ca, '--cert', join(dir, 'server.pem')]);
      assert.equal(r.status, 2, 'a certificate without its key is a usage error');
      if (etcdctl) {
        const env = { ...process.env, ETCDCTL_API: '3' };
        const without = spawnSync('etcdctl', ['--endpoints', ep, '--cacert', ca, '--command-timeout', '2s', 'get', 'mtls/a'], { encoding: 'utf8', env });
        assert.notEqual(without.status, 0);
        const withCert = spawnSync('etcdctl', ['--endpoints', ep, '--cacert', ca, '--cert', join(dir, 'client.pem'), '--key', join(dir, 'client.key'),
          'get', 'mtls/a', '--print-value-only'], { encoding: 'utf8', env });
        assert.equal(withCert.status, 0, withCert.stderr);
        assert.equal(withCert.stdout.trim(), '1');
      }
    } finally {
      await stop(m);
    }
  });

  test('TLS between members: with --peer-client-cert-auth three members replicate, and a member whose certificate another CA signed is kept out', async () => {
    const names = ['p1', 'p2', 'p3'];
    const ports = await Promise.all(names.map(async () => ({ client: await freePort(), peer: await freePort() })));
    const cluster = names.map((n, i) => `${n}=https://127.0.0.1:${ports[i]?.peer}`).join(',');
    const procs = names.map((n, i) => {
      const own = n === 'p3' ? 'rogue' : 'server';
      const proc = spawn(process.execPath, [MAIN, 'node', '--name', n, '--data-dir', join(dir, n), '--initial-cluster', cluster,
        '--listen-client-urls', `http://127.0.0.1:${ports[i]?.client}`, '--listen-peer-urls', `https://127.0.0.1:${ports[i]?.peer}`,
        '--heartbeat-interval', '50', '--election-timeout', '500',
        '--peer-cert-file', join(dir, `${own}.pem`), '--peer-key-file', join(dir, `${own}.key`),
        '--peer-trusted-ca-file', join(dir, 'ca.pem'), '--peer-client-cert-auth'],
      { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, SYNOD_LOG_PRETTY: '0' } });
      const m: Member = { proc, port: ports[i]?.client ?? 0, output: '' };
      proc.stdout?.on('data', (d: Buffer) => { m.output = (m.output + d.toString()).slice(-20_000); });
      proc.stderr?.on('data', (d: Buffer) => { m.output = (m.output + d.toString()).slice(-20_000); });
      return m;
    });
    try {
      const [p1, p2, p3] = procs as [Member, Member, Member];
      // p1 and p2 trust each other: a quorum of two, through TLS.
      const until = Date.now() + 20_000;
      for (;;) {
        const r = synod(['put', 'peer/k', 'v', '--endpoints', `127.0.0.1:${p1.port}`, '--command-timeout', '1000']);
        if (r.status === 0) break;
        if (Date.now() > until) throw new Error(`no write through the TLS peers: ${r.stderr}\n${p1.output.slice(-3000)}`);
        await new Promise((res) => setTimeout(res, 200));
      }
      const g = synod(['get', 'peer/k', '--endpoints', `127.0.0.1:${p2.port}`, '--print-value-only']);
      assert.equal(g.stdout.trim(), 'v');
      // p3's certificate is not from the trusted CA: its handshakes fail, it never gets the entry.
      await new Promise((res) => setTimeout(res, 1000));
      const g3 = synod(['get', 'peer/k', '--endpoints', `127.0.0.1:${p3.port}`, '--consistency', 's', '--print-value-only']);
      assert.equal(g3.stdout.trim(), '', 'the rogue member holds nothing');
      assert.match(p1.output + p2.output, /peer TLS handshake failed/);
    } finally {
      await Promise.all(procs.map((m) => stop(m)));
    }
  });
});
