// The server side of etcd's auth (src/server/auth.ts): password hashes,
// signed tokens, the gate every RPC passes through, and what each write op
// needs (AuthStore.permittedOp, the state machine's check at apply time).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { AuthStore } from '../../src/kv/auth.js';
import { AuthGate, hashPassword, issueToken, verifyPassword, verifyToken, withAdminChecks } from '../../src/server/auth.js';
import { GrpcError, GrpcStatus } from '../../src/server/grpc/index.js';

const b = (s: string): Uint8Array => new Uint8Array(Buffer.from(s));
const KEY = Buffer.alloc(32, 7).toString('base64');

describe('passwords and tokens', () => {
  test('a password verifies against its hash and nothing else; the hash is salted', async () => {
    const h = await hashPassword('s3cret');
    assert.match(h, /^scrypt\$16384\$8\$1\$/);
    assert.ok(!h.includes('s3cret'));
    assert.ok(await verifyPassword('s3cret', h));
    assert.ok(!(await verifyPassword('s3cret ', h)));
    assert.notEqual(await hashPassword('s3cret'), h);
    assert.ok(!(await verifyPassword('x', 'not-a-hash')));
  });

  test('a token names its user until it expires; a forged, altered or foreign one names nobody', () => {
    const t = issueToken(KEY, 'alice', 10_000);
    assert.equal(verifyToken(KEY, t, 9_999), 'alice');
    assert.equal(verifyToken(KEY, t, 10_000), null, 'expired');
    assert.equal(verifyToken(Buffer.alloc(32, 8).toString('base64'), t, 0), null, 'signed with another key');
    const [, exp, mac] = t.split('.');
    assert.equal(verifyToken(KEY, `${Buffer.from('root').toString('base64url')}.${exp}.${mac}`, 0), null, 'another user');
    assert.equal(verifyToken(KEY, `${t.split('.')[0]}.99999999.${mac}`, 0), null, 'a later expiry');
    for (const junk of ['', 'a.b', 'a.b.c.d', '...']) assert.equal(verifyToken(KEY, junk, 0), null, junk);
    assert.equal(verifyToken('', t, 0), null, 'no key: auth never enabled');
  });
});

function enabledStore(): AuthStore {
  const a = new AuthStore();
  for (const change of [
    { kind: 'user-add', name: 'root', password: 'h', noPassword: false },
    { kind: 'user-grant-role', name: 'root', role: 'root' },
    { kind: 'user-add', name: 'alice', password: 'h', noPassword: false },
    { kind: 'role-add', name: 'r' },
    { kind: 'role-grant-permission', name: 'r', permission: { type: 'readwrite', key: b('a/'), rangeEnd: b('a0') } },
    { kind: 'role-grant-permission', name: 'r', permission: { type: 'read', key: b('k'), rangeEnd: new Uint8Array(0) } },
    { kind: 'user-grant-role', name: 'alice', role: 'r' },
    { kind: 'enable', tokenKey: KEY },
  ] as const) assert.ok(!('code' in a.apply(change)));
  return a;
}

const code = (f: () => void): number | 'ok' => {
  try {
    f();
    return 'ok';
  } catch (err) {
    assert.ok(err instanceof GrpcError);
    return err.code;
  }
};

describe('the auth gate', () => {
  const store = enabledStore();
  const gate = new AuthGate(() => store, () => 0);
  const as = (user: string) => ({ metadata: { token: issueToken(KEY, user, 60_000) } });
  const none = { metadata: {} };

  test("etcd's answers: no token, a bad token, a user deleted since, a denied range", () => {
    assert.equal(code(() => gate.read(none, b('k'))), GrpcStatus.INVALID_ARGUMENT, 'user name is empty');
    assert.equal(code(() => gate.read({ metadata: { token: 'x.y.z' } }, b('k'))), GrpcStatus.UNAUTHENTICATED);
    assert.equal(code(() => gate.read(as('ghost'), b('k'))), GrpcStatus.UNAUTHENTICATED);
    assert.equal(code(() => gate.read(as('alice'), b('k'))), 'ok');
    assert.equal(code(() => gate.read(as('alice'), b('k2'))), GrpcStatus.PERMISSION_DENIED);
  });

  test('puts, deletes and txns need what they touch: prev_kv needs read, a txn both branches and its compares', () => {
    const alice = 'alice';
    const gate = { op: (user: string, op: Parameters<AuthStore['permittedOp']>[1]) => {
      if (!store.permittedOp(user, op)) throw new GrpcError(GrpcStatus.PERMISSION_DENIED, 'etcdserver: permission denied');
    } };
    assert.equal(code(() => gate.op(alice, { type: 'put', key: b('a/1'), value: b('v') })), 'ok');
    assert.equal(code(() => gate.op(alice, { type: 'put', key: b('k'), value: b('v') })), GrpcStatus.PERMISSION_DENIED);
    assert.equal(code(() => gate.op(alice, { type: 'delete-range', key: b('a/'), rangeEnd: b('a0'), prevKv: true })), 'ok');
    assert.equal(code(() => gate.op(alice, { type: 'delete-range', key: b('a'), rangeEnd: b('b') })), GrpcStatus.PERMISSION_DENIED);
    const txn = (failure: { type: 'put'; key: Uint8Array; value: Uint8Array }[]) => ({
      type: 'txn' as const,
      compare: [{ key: b('k'), result: 'equal' as const, target: 'version' as const, version: 1 }],
      success: [{ type: 'put' as const, key: b('a/x'), value: b('1') }],
      failure,
    });
    assert.equal(code(() => gate.op(alice, txn([]))), 'ok');
    assert.equal(code(() => gate.op(alice, txn([{ type: 'put', key: b('zz'), value: b('1') }]))), GrpcStatus.PERMISSION_DENIED, 'the branch that does not run is checked too');
    assert.equal(code(() => gate.op(alice, { type: 'compact', revision: 1 })), GrpcStatus.PERMISSION_DENIED);
    assert.equal(code(() => gate.op('root', { type: 'compact', revision: 1 })), 'ok');
  });

  test('admin RPCs need the root role; UserGet and RoleGet are open to a user about itself', async () => {
    let called = 0;
    const h = withAdminChecks({ hashKV: () => ({ header: {} }), status: () => { called++; return {}; } } as never, gate) as Record<string, (req: unknown, ctx: unknown) => unknown>;
    assert.equal(code(() => h['hashKV']!({}, as('alice'))), GrpcStatus.PERMISSION_DENIED);
    assert.equal(code(() => h['hashKV']!({}, none)), GrpcStatus.INVALID_ARGUMENT);
    assert.equal(code(() => h['hashKV']!({}, as('root'))), 'ok');
    h['status']!({}, none);
    assert.equal(called, 1, 'Status needs nobody');
    assert.equal(code(() => gate.self(as('alice'), { user: 'alice' })), 'ok');
    assert.equal(code(() => gate.self(as('alice'), { user: 'root' })), GrpcStatus.PERMISSION_DENIED);
    assert.equal(code(() => gate.self(as('alice'), { role: 'r' })), 'ok');
    assert.equal(code(() => gate.self(as('alice'), { role: 'root' })), GrpcStatus.PERMISSION_DENIED);
  });

  test('with auth off everything passes and no token is looked at', () => {
    const off = new AuthGate(() => new AuthStore());
    assert.equal(off.enabled, false);
    assert.equal(code(() => off.read({ metadata: { token: 'garbage' } }, b('k'))), 'ok');
    assert.equal(code(() => off.admin(none)), 'ok');
  });
});
