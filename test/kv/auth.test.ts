// etcd's auth rules in the replicated state machine (src/kv/auth.ts): users,
// roles and permissions, etcd's refusals, the coverage check over key ranges,
// and the auth state through snapshots.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { AuthStore, type AuthOp } from '../../src/kv/auth.js';
import type { AuthErrorCode } from '../../src/kv/command.js';
import { KvStateMachine } from '../../src/kv/state-machine.js';
import { b, ok, Store } from './helpers.js';
import { ClientId, LogIndex } from '../../src/core/ids.js';
import type { KvWriteOp } from '../../src/kv/command.js';

const run = (a: AuthStore, op: AuthOp): string => {
  const r = a.apply(op);
  return 'code' in r ? r.code : 'ok';
};

const PREFIX_END = (p: string): Uint8Array => {
  const x = b(p);
  x[x.length - 1]!++;
  return x;
};

function withRoot(): AuthStore {
  const a = new AuthStore();
  assert.equal(run(a, { kind: 'user-add', name: 'root', password: 'h', noPassword: false }), 'ok');
  assert.equal(run(a, { kind: 'user-grant-role', name: 'root', role: 'root' }), 'ok');
  return a;
}

describe('auth state: etcd rules', () => {
  test('enabling needs the root user holding the root role; root is then protected', () => {
    const a = new AuthStore();
    const rules: [AuthOp, AuthErrorCode | 'ok'][] = [
      [{ kind: 'enable', tokenKey: 'k' }, 'root-user-missing'],
      [{ kind: 'user-add', name: 'root', password: 'h', noPassword: false }, 'ok'],
      [{ kind: 'enable', tokenKey: 'k' }, 'root-role-missing'],
      [{ kind: 'user-grant-role', name: 'root', role: 'root' }, 'ok'],
      [{ kind: 'enable', tokenKey: 'k' }, 'ok'],
      [{ kind: 'user-delete', name: 'root' }, 'invalid-auth-mgmt'],
      [{ kind: 'user-revoke-role', name: 'root', role: 'root' }, 'invalid-auth-mgmt'],
      [{ kind: 'role-add', name: 'root' }, 'ok'],
      [{ kind: 'role-delete', name: 'root' }, 'invalid-auth-mgmt'],
      [{ kind: 'disable' }, 'ok'],
      [{ kind: 'role-delete', name: 'root' }, 'ok'],
      [{ kind: 'user-delete', name: 'root' }, 'ok'],
    ];
    for (const [op, want] of rules) assert.equal(run(a, op), want, JSON.stringify(op));
    assert.equal(a.enabled, false);
  });

  test("etcd's refusals for users and roles", () => {
    const a = withRoot();
    const rules: [AuthOp, AuthErrorCode | 'ok'][] = [
      [{ kind: 'user-add', name: '', password: 'h', noPassword: false }, 'user-empty'],
      [{ kind: 'user-add', name: 'root', password: 'h', noPassword: false }, 'user-exists'],
      [{ kind: 'user-add', name: 'nopw', password: '', noPassword: false }, 'password-empty'],
      [{ kind: 'user-add', name: 'nopw', password: '', noPassword: true }, 'ok'],
      [{ kind: 'user-delete', name: 'ghost' }, 'user-not-found'],
      [{ kind: 'user-change-password', name: 'ghost', password: 'h' }, 'user-not-found'],
      [{ kind: 'user-grant-role', name: 'nopw', role: 'r' }, 'role-not-found'],
      [{ kind: 'role-add', name: '' }, 'role-empty'],
      [{ kind: 'role-add', name: 'r' }, 'ok'],
      [{ kind: 'role-add', name: 'r' }, 'role-exists'],
      [{ kind: 'user-grant-role', name: 'nopw', role: 'r' }, 'ok'],
      [{ kind: 'user-grant-role', name: 'nopw', role: 'r' }, 'ok'],
      [{ kind: 'user-revoke-role', name: 'nopw', role: 'other' }, 'role-not-granted'],
      [{ kind: 'role-grant-permission', name: 'ghost', permission: { type: 'read', key: b('a'), rangeEnd: b('') } }, 'role-not-found'],
      [{ kind: 'role-grant-permission', name: 'r', permission: { type: 'read', key: b(''), rangeEnd: b('') } }, 'permission-not-given'],
      [{ kind: 'role-revoke-permission', name: 'r', key: b('a'), rangeEnd: b('') }, 'permission-not-granted'],
      [{ kind: 'role-delete', name: 'ghost' }, 'role-not-found'],
    ];
    for (const [op, want] of rules) assert.equal(run(a, op), want, JSON.stringify(op));
    assert.deepEqual(a.user('nopw')?.roles, ['r'], 'a second grant of the same role changes nothing');
  });

  test('every change moves the auth revision; a refusal or a no-op does not', () => {
    const a = withRoot();
    const r0 = a.revision;
    run(a, { kind: 'role-add', name: 'r' });
    assert.equal(a.revision, r0 + 1);
    run(a, { kind: 'role-add', name: 'r' });
    run(a, { kind: 'disable' });
    assert.equal(a.revision, r0 + 1);
  });

  test('deleting a role takes it from every user', () => {
    const a = withRoot();
    run(a, { kind: 'role-add', name: 'r' });
    run(a, { kind: 'user-grant-role', name: 'root', role: 'r' });
    run(a, { kind: 'role-delete', name: 'r' });
    assert.deepEqual(a.user('root')?.roles, ['root']);
  });
});

describe('auth state: permission checks', () => {
  function alice(...perms: [type: 'read' | 'write' | 'readwrite', key: string, end: Uint8Array][]): AuthStore {
    const a = withRoot();
    run(a, { kind: 'user-add', name: 'alice', password: 'h', noPassword: false });
    run(a, { kind: 'role-add', name: 'r1' });
    run(a, { kind: 'role-add', name: 'r2' });
    perms.forEach(([type, key, rangeEnd], i) => run(a, { kind: 'role-grant-permission', name: i % 2 === 0 ? 'r1' : 'r2', permission: { type, key: b(key), rangeEnd } }));
    run(a, { kind: 'user-grant-role', name: 'alice', role: 'r1' });
    run(a, { kind: 'user-grant-role', name: 'alice', role: 'r2' });
    return a;
  }

  test('a single key, a prefix, and the kinds (readwrite covers both)', () => {
    const a = alice(['read', 'k', b('')], ['readwrite', 'p/', PREFIX_END('p/')]);
    assert.ok(a.permitted('alice', 'read', b('k')));
    assert.ok(!a.permitted('alice', 'write', b('k')));
    assert.ok(!a.permitted('alice', 'read', b('k2')));
    assert.ok(a.permitted('alice', 'write', b('p/x')));
    assert.ok(a.permitted('alice', 'read', b('p/'), PREFIX_END('p/')));
    assert.ok(!a.permitted('alice', 'read', b('p'), PREFIX_END('p')), 'a wider range than granted');
    assert.ok(!a.permitted('alice', 'read', b(''), new Uint8Array([0])), 'every key');
    assert.ok(!a.permitted('bob', 'read', b('k')), 'an unknown user');
    assert.ok(a.permitted('root', 'write', b(''), new Uint8Array([0])), 'root may do anything');
  });

  test('a range covered by the union of several permissions, across roles, is permitted; a gap is not', () => {
    const a = alice(['read', 'a', b('c')], ['read', 'c', b('e')], ['read', 'f', b('g')]);
    assert.ok(a.permitted('alice', 'read', b('b'), b('d')), 'across two adjacent grants of two roles');
    assert.ok(a.permitted('alice', 'read', b('a'), b('e')));
    assert.ok(!a.permitted('alice', 'read', b('a'), b('f')), '[e, f) is not granted');
    assert.ok(!a.permitted('alice', 'read', b('d'), b('g')));
    const open = alice(['write', 'm', new Uint8Array([0])]);
    assert.ok(open.permitted('alice', 'write', b('z'), new Uint8Array([0])), 'from m on covers from z on');
    assert.ok(!open.permitted('alice', 'write', b('a'), b('n')));
  });

  test('revoking a permission or the role takes effect at once', () => {
    const a = alice(['readwrite', 'k', b('')]);
    assert.ok(a.permitted('alice', 'write', b('k')));
    run(a, { kind: 'role-revoke-permission', name: 'r1', key: b('k'), rangeEnd: b('') });
    assert.ok(!a.permitted('alice', 'write', b('k')));
    run(a, { kind: 'role-grant-permission', name: 'r1', permission: { type: 'write', key: b('k'), rangeEnd: b('') } });
    assert.ok(a.permitted('alice', 'write', b('k')));
    run(a, { kind: 'user-revoke-role', name: 'alice', role: 'r1' });
    assert.ok(!a.permitted('alice', 'write', b('k')));
  });
});

describe('auth state in the state machine', () => {
  test('auth changes go through the log without moving the key-value revision, and survive a snapshot', () => {
    const st = new Store();
    st.put('a', '1');
    const rev = st.sm.revision;
    ok(st.apply({ type: 'auth', change: { kind: 'user-add', name: 'root', password: 'h', noPassword: false } }));
    ok(st.apply({ type: 'auth', change: { kind: 'user-grant-role', name: 'root', role: 'root' } }));
    ok(st.apply({ type: 'auth', change: { kind: 'enable', tokenKey: 'key' } }));
    const refused = st.sm.apply(LogIndex(st.sm.appliedIndex + 1), { client: ClientId('c'), seq: 0, user: 'root', op: { type: 'auth', change: { kind: 'user-delete', name: 'root' } } })!;
    assert.ok(!refused.ok && refused.error.code === 'invalid-auth-mgmt' && refused.error.message === 'etcdserver: invalid auth management');
    assert.equal(st.sm.revision, rev);
    assert.equal(st.sm.auth.enabled, true);
    const copy = new KvStateMachine();
    copy.restore(st.sm.snapshot());
    assert.deepEqual(copy.auth.snapshot(), st.sm.auth.snapshot());
    assert.equal(copy.auth.tokenKey, 'key');
  });

  test('a malformed auth change is refused before it is applied', () => {
    const st = new Store();
    const bad = st.sm.validate({ client: 'c' as never, seq: 0, op: { type: 'auth', change: { kind: 'role-grant-permission', name: 'r', permission: { type: 'all', key: b('k'), rangeEnd: b('') } } } as never });
    assert.equal(bad?.code, 'invalid');
    const unknown = st.sm.validate({ client: 'c' as never, seq: 0, op: { type: 'auth', change: { kind: 'become-root' } } as never });
    assert.equal(unknown?.code, 'invalid');
  });

  test('once enabled, every client command is checked where it applies, against the rules in force then', () => {
    const st = new Store();
    const as = (op: KvWriteOp, user?: string, internal?: true): ReturnType<Store['apply']> =>
      st.sm.apply(LogIndex(st.sm.appliedIndex + 1), { client: ClientId('c'), seq: 0, op, ...(user === undefined ? {} : { user }), ...(internal ? { internal } : {}) })!;
    const code = (r: ReturnType<Store['apply']>): string => (r.ok ? 'ok' : r.error.code);
    const put = (key: string, extra: object = {}): KvWriteOp => ({ type: 'put', key: b(key), value: b('v'), ...extra });
    const auth = (change: AuthOp, user?: string): string => code(as({ type: 'auth', change }, user));
    // Proposed before auth was on, applied after: refused, as etcd refuses a request without a user.
    assert.equal(auth({ kind: 'user-add', name: 'root', password: 'h', noPassword: false }), 'ok');
    assert.equal(auth({ kind: 'user-grant-role', name: 'root', role: 'root' }), 'ok');
    assert.equal(auth({ kind: 'user-add', name: 'alice', password: 'h', noPassword: false }), 'ok');
    assert.equal(auth({ kind: 'role-add', name: 'r' }), 'ok');
    assert.equal(auth({ kind: 'role-grant-permission', name: 'r', permission: { type: 'readwrite', key: b('a'), rangeEnd: b('b') } }), 'ok');
    assert.equal(auth({ kind: 'user-grant-role', name: 'alice', role: 'r' }), 'ok');
    assert.equal(code(as({ type: 'lease-grant', id: 9, ttl: 60 })), 'ok');
    assert.equal(code(as(put('z', { lease: 9 }))), 'ok');
    assert.equal(auth({ kind: 'enable', tokenKey: 'k' }), 'ok');
    assert.equal(code(as(put('a1'))), 'user-empty');
    assert.equal(code(as(put('a1'), 'alice')), 'ok');
    assert.equal(code(as(put('z'), 'alice')), 'permission-denied');
    assert.equal(code(as(put('a1', { prevKv: true }), 'alice')), 'ok');
    assert.equal(code(as({ type: 'delete-range', key: b('a'), rangeEnd: b('c') }, 'alice')), 'permission-denied');
    assert.equal(code(as({ type: 'compact', revision: 2 }, 'alice')), 'permission-denied');
    assert.equal(code(as({ type: 'lease-revoke', id: 9 }, 'alice')), 'permission-denied', 'the lease holds z');
    assert.equal(code(as({ type: 'lease-grant', id: 10, ttl: 60 }, 'alice')), 'ok');
    assert.equal(auth({ kind: 'role-add', name: 'x' }, 'alice'), 'permission-denied');
    assert.equal(code(as(put('a2'), 'ghost')), 'invalid-auth-token', 'a user deleted since the token was issued');
    assert.equal(code(as({ type: 'lease-revoke', id: 9 }, undefined, true)), 'ok', "the cluster's own commands (lease expiry) are not checked");
    assert.equal(code(as(put('z'), 'root')), 'ok');
    // A revoke in the log before a write takes effect for it.
    assert.equal(auth({ kind: 'user-revoke-role', name: 'alice', role: 'r' }, 'root'), 'ok');
    assert.equal(code(as(put('a1'), 'alice')), 'permission-denied');
  });
});