// etcd's authentication on a member: the Auth service's 16 RPCs, password
// hashes, tokens, and the checks every other RPC passes through. Users, roles
// and permissions live in the replicated state machine (src/kv/auth.ts), so
// every member checks a request against the same rules.
//
// - Passwords are hashed here, with scrypt and a random salt, before the
//   change is proposed: the log and the store hold hashes, never passwords.
//   (etcd uses bcrypt; the hashes are not interchangeable.)
// - Tokens are stateless: the user's name and an expiry, signed with
//   HMAC-SHA-256 under a key drawn when authentication is enabled and carried
//   in the replicated state. Any member accepts a token any member issued,
//   a restart keeps them valid until they expire, and disabling and enabling
//   again draws a new key, which ends every token. etcd's "simple" tokens are
//   kept in each member's memory instead.
// - Permissions are checked when a request arrives, against the member's
//   applied state: a request already in the log when a permission is revoked
//   still applies (etcd also checks at apply time, with the auth revision).

import { createHmac, randomBytes, scrypt as scryptCb, timingSafeEqual } from 'node:crypto';
import { promisify } from 'node:util';
import type { AuthOp, AuthStore, PermType } from '../kv/auth.js';
import { ROOT } from '../kv/auth.js';
import type { KvErrorCode, KvResult, KvWriteOp } from '../kv/command.js';
import { ERROR_MESSAGES } from '../kv/command.js';
import type { CallContext, EtcdHandlers } from './grpc/handlers.js';
import type * as T from './grpc/etcd-types.js';
import { GrpcError, GrpcStatus } from './grpc/index.js';
import { kvErrorToGrpc, type Header } from './etcd-map.js';

const scrypt = promisify(scryptCb) as (password: string, salt: Buffer, keylen: number, options: { N: number; r: number; p: number; maxmem: number }) => Promise<Buffer>;

/** scrypt's cost: about 50 ms and 16 MiB per hash here, near etcd's bcrypt cost 10. */
const SCRYPT = { N: 1 << 14, r: 8, p: 1, maxmem: 64 * 1024 * 1024 };
const HASH_BYTES = 32;

export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const hash = await scrypt(password, salt, HASH_BYTES, SCRYPT);
  return `scrypt$${SCRYPT.N}$${SCRYPT.r}$${SCRYPT.p}$${salt.toString('base64')}$${hash.toString('base64')}`;
}

export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const parts = stored.split('$');
  if (parts.length !== 6 || parts[0] !== 'scrypt') return false;
  const [n, r, p] = [Number(parts[1]), Number(parts[2]), Number(parts[3])];
  const salt = Buffer.from(parts[4] as string, 'base64');
  const want = Buffer.from(parts[5] as string, 'base64');
  const got = await scrypt(password, salt, want.length, { N: n, r, p, maxmem: SCRYPT.maxmem });
  return got.length === want.length && timingSafeEqual(got, want);
}

let decoy: Promise<string> | undefined;
/** A hash no password is checked against for real, made once: the work an unknown user's login costs. */
function decoyHash(): Promise<string> {
  decoy ??= hashPassword(randomBytes(16).toString('base64'));
  return decoy;
}

const sign = (key: string, body: string): string => createHmac('sha256', Buffer.from(key, 'base64')).update(body).digest('base64url');

/** `<name, base64url>.<expiry ms>.<HMAC-SHA-256 of the two>`. */
export function issueToken(key: string, user: string, expiresAtMs: number): string {
  const body = `${Buffer.from(user).toString('base64url')}.${expiresAtMs}`;
  return `${body}.${sign(key, body)}`;
}

/** The user a token names, or null when it is malformed, forged, signed with another key or expired. */
export function verifyToken(key: string, token: string, nowMs: number): string | null {
  const parts = token.split('.');
  if (parts.length !== 3 || key === '') return null;
  const body = `${parts[0]}.${parts[1]}`;
  const mac = Buffer.from(parts[2] as string);
  const want = Buffer.from(sign(key, body));
  if (mac.length !== want.length || !timingSafeEqual(mac, want)) return null;
  if (!(Number(parts[1]) > nowMs)) return null;
  return Buffer.from(parts[0] as string, 'base64url').toString();
}

export function authGrpcError(code: KvErrorCode, message: string = ERROR_MESSAGES[code]): GrpcError {
  return kvErrorToGrpc({ code, message });
}

const fail = (code: KvErrorCode): never => {
  throw authGrpcError(code);
};

/** The checks of one member's RPCs against its applied auth state. */
export class AuthGate {
  constructor(
    private readonly store: () => AuthStore,
    private readonly now: () => number = Date.now,
  ) {}

  get enabled(): boolean {
    return this.store().enabled;
  }

  /**
   * Who the call is from: null while authentication is off (everything is
   * allowed), '' with no token, else the token's user. A token that does not
   * verify, or names a user that no longer exists, is refused.
   */
  caller(ctx: Pick<CallContext, 'metadata'>): string | null {
    const store = this.store();
    if (!store.enabled) return null;
    const token = ctx.metadata['token'];
    if (token === undefined || token === '') return '';
    const user = verifyToken(store.tokenKey, token, this.now());
    if (user === null || store.user(user) === undefined) return fail('invalid-auth-token');
    return user;
  }

  /**
   * The user a write names in its log entry, for the check at apply time
   * (src/kv/state-machine.ts): undefined with auth off or no token. A token
   * that does not verify is refused here.
   */
  userOf(ctx: Pick<CallContext, 'metadata'>): string | undefined {
    const user = this.caller(ctx);
    return user === null || user === '' ? undefined : user;
  }

  /** userOf as the field a write op carries (`{}` for none), to spread into it. */
  userField(ctx: Pick<CallContext, 'metadata'>): { user?: string } {
    const user = this.userOf(ctx);
    return user === undefined ? {} : { user };
  }

  /** The caller, who must be known once authentication is on. */
  private user(ctx: Pick<CallContext, 'metadata'>): string | null {
    const user = this.caller(ctx);
    if (user === '') fail('user-empty');
    return user;
  }

  admin(ctx: Pick<CallContext, 'metadata'>): void {
    const user = this.user(ctx);
    if (user !== null && !this.store().isAdmin(user)) fail('permission-denied');
  }

  /** An admin, or a user asking about itself (`user`) or about a role it holds (`role`). */
  self(ctx: Pick<CallContext, 'metadata'>, about: { readonly user?: string; readonly role?: string }): void {
    const user = this.user(ctx);
    if (user === null || this.store().isAdmin(user)) return;
    if (about.user !== undefined && about.user === user) return;
    if (about.role !== undefined && this.store().user(user)?.roles.includes(about.role) === true) return;
    fail('permission-denied');
  }

  read(ctx: Pick<CallContext, 'metadata'>, key: Uint8Array, rangeEnd?: Uint8Array): void {
    this.check(this.user(ctx), 'read', key, rangeEnd);
  }

  private check(user: string | null, kind: 'read' | 'write', key: Uint8Array, rangeEnd?: Uint8Array): void {
    if (user !== null && !this.store().permitted(user, kind, key, rangeEnd)) fail('permission-denied');
  }
}

/**
 * The RPCs served without the log that need the root role once authentication
 * is on (etcd's admin checks), checked against this member's applied state.
 * UserGet and RoleGet are also open to a user asking about itself or a role it
 * holds (AuthGate.self). Compaction and auth changes go through the log and
 * are checked where they apply (src/kv/state-machine.ts).
 */
export const ADMIN_RPCS = [
  'memberAdd', 'memberRemove', 'memberUpdate', 'memberPromote',
  'alarm', 'defragment', 'hash', 'hashKV', 'snapshot', 'moveLeader', 'downgrade',
  'userList', 'roleList',
] as const satisfies readonly (keyof EtcdHandlers)[];

/** The handlers with the admin check in front of each ADMIN_RPCS one. */
export function withAdminChecks(handlers: EtcdHandlers, gate: AuthGate): EtcdHandlers {
  const out: Record<string, unknown> = { ...handlers };
  for (const name of ADMIN_RPCS) {
    const h = handlers[name] as ((req: unknown, call: CallContext) => unknown) | undefined;
    if (h === undefined) continue;
    out[name] = (req: unknown, call: CallContext) => {
      // Streaming handlers get the call as their only argument: it carries the metadata.
      gate.admin((call ?? req) as CallContext);
      return h(req, call);
    };
  }
  return out as EtcdHandlers;
}

export interface AuthServiceOptions {
  readonly gate: AuthGate;
  readonly store: () => AuthStore;
  /** Proposes a change through the log. */
  readonly submit: (op: KvWriteOp, user: string | undefined, timeoutMs: number) => Promise<KvResult>;
  readonly header: () => Header;
  readonly timeoutMs: number;
  /** How long a token lasts (etcd's --auth-token-ttl). */
  readonly tokenTtlMs: number;
  readonly now?: () => number;
}

const PERM_TYPES: Readonly<Record<number, PermType>> = { 0: 'read', 1: 'write', 2: 'readwrite' };
const PERM_NUMBERS: Readonly<Record<PermType, number>> = { read: 0, write: 1, readwrite: 2 };

/** etcd's Auth service. */
export function authHandlers(o: AuthServiceOptions): EtcdHandlers {
  const now = o.now ?? Date.now;
  const change = async (c: AuthOp, ctx: CallContext): Promise<T.HeaderOnlyResponse> => {
    const r = await o.submit({ type: 'auth', change: c }, o.gate.userOf(ctx), o.timeoutMs);
    if (!r.ok) throw authGrpcError(r.error.code, r.error.message);
    return { header: o.header() };
  };
  const password = async (plain: string, hashed: string): Promise<string> => {
    if (hashed !== '') throw new GrpcError(GrpcStatus.INVALID_ARGUMENT, 'synod: pre-hashed (bcrypt) passwords are not accepted; send the password itself');
    return plain === '' ? '' : hashPassword(plain);
  };
  return {
    authStatus: () => ({ header: o.header(), enabled: o.store().enabled, authRevision: o.store().revision }),
    authEnable: (_req, ctx) => change({ kind: 'enable', tokenKey: randomBytes(32).toString('base64') }, ctx),
    authDisable: (_req, ctx) => change({ kind: 'disable' }, ctx),
    authenticate: async (req) => {
      const store = o.store();
      if (!store.enabled) throw authGrpcError('auth-not-enabled');
      const user = store.user(req.name);
      // The same answer, after the same work, whether the user is unknown or the password wrong:
      // an unknown user is checked against a hash of nothing, so the time taken does not tell.
      const hash = user === undefined || user.noPassword ? await decoyHash() : user.password;
      const matches = await verifyPassword(req.password, hash);
      if (user === undefined || user.noPassword || !matches) throw authGrpcError('auth-failed');
      return { header: o.header(), token: issueToken(store.tokenKey, user.name, now() + o.tokenTtlMs) };
    },
    userAdd: async (req, ctx) => {
      const noPassword = req.options?.no_password === true;
      return change({ kind: 'user-add', name: req.name, password: noPassword ? '' : await password(req.password, req.hashedPassword), noPassword }, ctx);
    },
    userGet: (req, ctx) => {
      o.gate.self(ctx, { user: req.name });
      const u = o.store().user(req.name);
      if (u === undefined) throw authGrpcError('user-not-found');
      return { header: o.header(), roles: [...u.roles] };
    },
    userList: () => ({ header: o.header(), users: o.store().users().map((u) => u.name) }),
    userDelete: (req, ctx) => change({ kind: 'user-delete', name: req.name }, ctx),
    userChangePassword: async (req, ctx) => {
      if (o.store().user(req.name) === undefined) throw authGrpcError('user-not-found');
      const hashed = await password(req.password, req.hashedPassword);
      if (hashed === '') throw authGrpcError('password-empty');
      return change({ kind: 'user-change-password', name: req.name, password: hashed }, ctx);
    },
    userGrantRole: (req, ctx) => change({ kind: 'user-grant-role', name: req.user, role: req.role }, ctx),
    userRevokeRole: (req, ctx) => change({ kind: 'user-revoke-role', name: req.name, role: req.role }, ctx),
    roleAdd: (req, ctx) => change({ kind: 'role-add', name: req.name }, ctx),
    roleGet: (req, ctx) => {
      o.gate.self(ctx, { role: req.role });
      const r = o.store().role(req.role);
      // etcd answers the root role with a permission over every key.
      if (req.role === ROOT && (r !== undefined || o.store().users().some((u) => u.roles.includes(ROOT)))) {
        return { header: o.header(), perm: [{ permType: PERM_NUMBERS.readwrite, key: new Uint8Array(0), range_end: new Uint8Array([0]) }] };
      }
      if (r === undefined) throw authGrpcError('role-not-found');
      return { header: o.header(), perm: r.permissions.map((p) => ({ permType: PERM_NUMBERS[p.type], key: p.key, range_end: p.rangeEnd })) };
    },
    roleList: () => ({ header: o.header(), roles: o.store().roles().map((r) => r.name) }),
    roleDelete: (req, ctx) => change({ kind: 'role-delete', name: req.role }, ctx),
    roleGrantPermission: (req, ctx) => {
      const p = req.perm;
      const type = p === null ? undefined : PERM_TYPES[p.permType];
      if (p === null || type === undefined) throw authGrpcError('permission-not-given');
      return change({ kind: 'role-grant-permission', name: req.name, permission: { type, key: new Uint8Array(p.key), rangeEnd: new Uint8Array(p.range_end) } }, ctx);
    },
    roleRevokePermission: (req, ctx) => change({ kind: 'role-revoke-permission', name: req.role, key: new Uint8Array(req.key), rangeEnd: new Uint8Array(req.range_end) }, ctx),
  };
}
