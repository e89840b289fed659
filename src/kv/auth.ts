// etcd's authentication state (users, roles, key-range permissions, the
// enabled flag), replicated as part of the key-value state machine: every
// change is a log entry, applied the same way on every member, so any member
// can check a request. Pure: password hashes and the token key are made by the
// server (src/server/auth.ts) and arrive here as opaque strings.
//
// The rules and error messages are etcd's (auth/store.go): the root user with
// the root role must exist before authentication is enabled, root cannot be
// deleted nor lose the root role while it is, the role "root" grants
// everything, and a request's key range must be covered by the union of the
// user's permissions of the kind it needs.

import type { Bytes } from './bytes.js';
import { toByteString } from './bytes.js';
import { ERROR_MESSAGES, kvError } from './command.js';
import type { AuthErrorCode, KvError, KvWriteOp, RequestOp, TxnRequest } from './command.js';
import type { Interval } from './range.js';
import { toInterval } from './range.js';

export const ROOT = 'root';

/** etcd's authpb.Permission.Type: READ 0, WRITE 1, READWRITE 2. */
export type PermType = 'read' | 'write' | 'readwrite';

export interface Permission {
  readonly type: PermType;
  readonly key: Bytes;
  /** etcd's range_end: empty for the key alone, [0] for every key from `key` on. */
  readonly rangeEnd: Bytes;
}

export interface AuthUser {
  readonly name: string;
  /** The server's password hash; '' for a user made with no_password (it cannot authenticate). */
  readonly password: string;
  readonly noPassword: boolean;
  /** Role names, ascending. */
  readonly roles: readonly string[];
}

export interface AuthRole {
  readonly name: string;
  /** Ascending by key, then range end. */
  readonly permissions: readonly Permission[];
}

/** Everything auth holds; stored with the key-value state and carried in snapshots. */
export interface AuthState {
  readonly enabled: boolean;
  /** etcd's auth revision: moves with every change. */
  readonly revision: number;
  /** The key the server signs tokens with; a new one at every enable, so old tokens stop working. */
  readonly tokenKey: string;
  readonly users: readonly AuthUser[];
  readonly roles: readonly AuthRole[];
}

export const EMPTY_AUTH: AuthState = { enabled: false, revision: 0, tokenKey: '', users: [], roles: [] };

/** An auth change, as a log entry carries it. */
export type AuthOp =
  | { readonly kind: 'enable'; readonly tokenKey: string }
  | { readonly kind: 'disable' }
  | { readonly kind: 'user-add'; readonly name: string; readonly password: string; readonly noPassword: boolean }
  | { readonly kind: 'user-delete'; readonly name: string }
  | { readonly kind: 'user-change-password'; readonly name: string; readonly password: string }
  | { readonly kind: 'user-grant-role'; readonly name: string; readonly role: string }
  | { readonly kind: 'user-revoke-role'; readonly name: string; readonly role: string }
  | { readonly kind: 'role-add'; readonly name: string }
  | { readonly kind: 'role-delete'; readonly name: string }
  | { readonly kind: 'role-grant-permission'; readonly name: string; readonly permission: Permission }
  | { readonly kind: 'role-revoke-permission'; readonly name: string; readonly key: Bytes; readonly rangeEnd: Bytes };

export interface AuthResponse {
  readonly type: 'auth';
  /** The auth revision after the change. */
  readonly authRevision: number;
}

export const authError = (code: AuthErrorCode): KvError => kvError(code, ERROR_MESSAGES[code]);

const sortedInsert = (list: readonly string[], x: string): string[] => [...list, x].sort();

function samePermissionRange(p: Permission, key: Bytes, rangeEnd: Bytes): boolean {
  return toByteString(p.key) === toByteString(key) && toByteString(p.rangeEnd) === toByteString(rangeEnd);
}

function permissionOrder(a: Permission, b: Permission): number {
  const ka = toByteString(a.key);
  const kb = toByteString(b.key);
  if (ka !== kb) return ka < kb ? -1 : 1;
  const ea = toByteString(a.rangeEnd);
  const eb = toByteString(b.rangeEnd);
  return ea === eb ? 0 : ea < eb ? -1 : 1;
}

/** The replicated auth state and its rules. */
export class AuthStore {
  private state: AuthState = EMPTY_AUTH;
  /** Per user and kind, the merged intervals the user may touch (rebuilt on every change). */
  private cache = new Map<string, { read: Interval[]; write: Interval[] }>();

  get enabled(): boolean {
    return this.state.enabled;
  }
  get revision(): number {
    return this.state.revision;
  }
  get tokenKey(): string {
    return this.state.tokenKey;
  }

  snapshot(): AuthState {
    return this.state;
  }

  load(state: AuthState | undefined): void {
    this.state = state ?? EMPTY_AUTH;
    this.cache.clear();
  }

  user(name: string): AuthUser | undefined {
    return this.state.users.find((u) => u.name === name);
  }

  role(name: string): AuthRole | undefined {
    return this.state.roles.find((r) => r.name === name);
  }

  users(): readonly AuthUser[] {
    return this.state.users;
  }

  roles(): readonly AuthRole[] {
    return this.state.roles;
  }

  /** Applies a change: the new state, or etcd's refusal (the state unchanged). */
  apply(op: AuthOp): AuthResponse | KvError {
    const next = this.next(op);
    if ('code' in next) return next;
    if (next !== this.state) {
      this.state = { ...next, revision: this.state.revision + 1 };
      this.cache.clear();
    }
    return { type: 'auth', authRevision: this.state.revision };
  }

  private next(op: AuthOp): AuthState | KvError {
    const s = this.state;
    switch (op.kind) {
      case 'enable': {
        if (s.enabled) return s;
        const root = this.user(ROOT);
        if (root === undefined) return authError('root-user-missing');
        if (!root.roles.includes(ROOT)) return authError('root-role-missing');
        return { ...s, enabled: true, tokenKey: op.tokenKey };
      }
      case 'disable':
        return s.enabled ? { ...s, enabled: false } : s;
      case 'user-add':
        if (op.name === '') return authError('user-empty');
        if (this.user(op.name) !== undefined) return authError('user-exists');
        if (op.password === '' && !op.noPassword) return authError('password-empty');
        return { ...s, users: [...s.users, { name: op.name, password: op.noPassword ? '' : op.password, noPassword: op.noPassword, roles: [] }].sort((a, b) => (a.name < b.name ? -1 : 1)) };
      case 'user-delete':
        if (s.enabled && op.name === ROOT) return authError('invalid-auth-mgmt');
        if (this.user(op.name) === undefined) return authError('user-not-found');
        return { ...s, users: s.users.filter((u) => u.name !== op.name) };
      case 'user-change-password':
        return this.withUser(op.name, (u) => ({ ...u, password: op.password, noPassword: false }));
      case 'user-grant-role': {
        const u = this.user(op.name);
        if (u === undefined) return authError('user-not-found');
        if (op.role !== ROOT && this.role(op.role) === undefined) return authError('role-not-found');
        if (u.roles.includes(op.role)) return s;
        return this.withUser(op.name, (x) => ({ ...x, roles: sortedInsert(x.roles, op.role) }));
      }
      case 'user-revoke-role': {
        if (s.enabled && op.name === ROOT && op.role === ROOT) return authError('invalid-auth-mgmt');
        const u = this.user(op.name);
        if (u === undefined) return authError('user-not-found');
        if (!u.roles.includes(op.role)) return authError('role-not-granted');
        return this.withUser(op.name, (x) => ({ ...x, roles: x.roles.filter((r) => r !== op.role) }));
      }
      case 'role-add':
        if (op.name === '') return authError('role-empty');
        if (this.role(op.name) !== undefined) return authError('role-exists');
        return { ...s, roles: [...s.roles, { name: op.name, permissions: [] }].sort((a, b) => (a.name < b.name ? -1 : 1)) };
      case 'role-delete':
        if (s.enabled && op.name === ROOT) return authError('invalid-auth-mgmt');
        if (this.role(op.name) === undefined) return authError('role-not-found');
        // The role leaves every user that had it, in the same change.
        return { ...s, roles: s.roles.filter((r) => r.name !== op.name), users: s.users.map((u) => (u.roles.includes(op.name) ? { ...u, roles: u.roles.filter((r) => r !== op.name) } : u)) };
      case 'role-grant-permission': {
        if (op.permission.key.length === 0) return authError('permission-not-given');
        return this.withRole(op.name, (r) => {
          const others = r.permissions.filter((p) => !samePermissionRange(p, op.permission.key, op.permission.rangeEnd));
          return { ...r, permissions: [...others, op.permission].sort(permissionOrder) };
        });
      }
      case 'role-revoke-permission': {
        const r = this.role(op.name);
        if (r === undefined) return authError('role-not-found');
        if (!r.permissions.some((p) => samePermissionRange(p, op.key, op.rangeEnd))) return authError('permission-not-granted');
        return this.withRole(op.name, (x) => ({ ...x, permissions: x.permissions.filter((p) => !samePermissionRange(p, op.key, op.rangeEnd)) }));
      }
    }
  }

  private withUser(name: string, f: (u: AuthUser) => AuthUser): AuthState | KvError {
    if (this.user(name) === undefined) return authError('user-not-found');
    return { ...this.state, users: this.state.users.map((u) => (u.name === name ? f(u) : u)) };
  }

  private withRole(name: string, f: (r: AuthRole) => AuthRole): AuthState | KvError {
    if (this.role(name) === undefined) return authError('role-not-found');
    return { ...this.state, roles: this.state.roles.map((r) => (r.name === name ? f(r) : r)) };
  }

  // ------------------------------------------------------------ checks

  /** Whether `name` holds the root role (everything is permitted, including administration). */
  isAdmin(name: string): boolean {
    return this.user(name)?.roles.includes(ROOT) === true;
  }

  /**
   * Whether `name` may read (or write) every key of [key, rangeEnd) (etcd's
   * range semantics): the range must lie inside the union of the user's
   * permissions of that kind.
   */
  permitted(name: string, kind: 'read' | 'write', key: Bytes, rangeEnd?: Bytes): boolean {
    const u = this.user(name);
    if (u === undefined) return false;
    if (u.roles.includes(ROOT)) return true;
    const want = toInterval(rangeEnd === undefined ? { key } : { key, rangeEnd });
    let c = this.cache.get(name);
    if (c === undefined) {
      c = { read: this.merged(u, 'read'), write: this.merged(u, 'write') };
      this.cache.set(name, c);
    }
    return covered(c[kind], want);
  }

  /**
   * Whether `name` may run a write op (or a txn's sub-op): a put or delete
   * needs write on its keys and, with prev_kv, read; a txn needs read on every
   * compare and whatever each op of both branches needs, whichever runs (as
   * etcd checks); anything else (compaction, auth changes) needs root.
   */
  permittedOp(name: string, op: KvWriteOp | RequestOp): boolean {
    if (this.isAdmin(name)) return true;
    switch (op.type) {
      case 'range':
        return this.permitted(name, 'read', op.key, op.rangeEnd);
      case 'put':
        return this.permitted(name, 'write', op.key) && (op.prevKv !== true || this.permitted(name, 'read', op.key));
      case 'delete-range':
        return this.permitted(name, 'write', op.key, op.rangeEnd) && (op.prevKv !== true || this.permitted(name, 'read', op.key, op.rangeEnd));
      case 'txn':
        return this.permittedTxn(name, op);
      case 'lease-grant':
        return this.user(name) !== undefined;
      default:
        return false;
    }
  }

  private permittedTxn(name: string, t: TxnRequest): boolean {
    return t.compare.every((c) => this.permitted(name, 'read', c.key, c.rangeEnd)) && [...t.success, ...t.failure].every((op) => this.permittedOp(name, op));
  }

  private merged(u: AuthUser, kind: 'read' | 'write'): Interval[] {
    const ivs: Interval[] = [];
    for (const name of u.roles) {
      for (const p of this.role(name)?.permissions ?? []) {
        if (p.type === kind || p.type === 'readwrite') ivs.push(toInterval({ key: p.key, rangeEnd: p.rangeEnd }));
      }
    }
    ivs.sort((a, b) => (a.start < b.start ? -1 : a.start > b.start ? 1 : 0));
    const out: Interval[] = [];
    for (const iv of ivs) {
      const last = out[out.length - 1];
      if (last !== undefined && (last.end === null || iv.start <= last.end)) {
        if (last.end !== null && (iv.end === null || iv.end > last.end)) out[out.length - 1] = { start: last.start, end: iv.end };
      } else {
        out.push(iv);
      }
    }
    return out;
  }
}

/** Whether `want` lies inside one of the merged, disjoint, sorted intervals. */
function covered(merged: readonly Interval[], want: Interval): boolean {
  for (const iv of merged) {
    if (iv.start > want.start) return false;
    if (iv.end === null) return true;
    if (want.end !== null && want.end <= iv.end) return true;
  }
  return false;
}
