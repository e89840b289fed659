// The few etcd v3 requests the coordination helpers make, typed, over synod's
// EtcdClient (which decodes 64-bit fields as decimal strings). Only etcd API
// requests are used, so the helpers work against any etcd v3 server.

import type { EtcdClient } from '../server/client.js';
import { CoordError } from './errors.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Any = any;

export interface Kv {
  readonly key: Buffer;
  readonly value: Buffer;
  readonly createRevision: number;
  readonly modRevision: number;
  readonly version: number;
  /** Lease ID as a decimal string ('0': none). */
  readonly lease: string;
}

/** A revision (or other int64) decoded as a decimal string, as a safe integer. */
export function toRevision(v: unknown, field: string): number {
  const n = Number(v);
  if (!Number.isSafeInteger(n)) throw new CoordError(`${field} '${String(v)}' is not an integer below 2^53`);
  return n;
}

export function kvIn(raw: Any): Kv {
  return {
    key: raw.key,
    value: raw.value,
    createRevision: toRevision(raw.create_revision, 'create_revision'),
    modRevision: toRevision(raw.mod_revision, 'mod_revision'),
    version: toRevision(raw.version, 'version'),
    lease: String(raw.lease),
  };
}

export interface RangeResult {
  /** The store's revision when the read was served. */
  readonly revision: number;
  readonly kvs: readonly Kv[];
}

export interface RangeQuery {
  readonly key: Buffer;
  readonly rangeEnd?: Buffer;
  readonly limit?: number;
  readonly sort?: { readonly order: 'ASCEND' | 'DESCEND'; readonly target: 'CREATE' | 'KEY' };
  readonly maxCreateRevision?: number;
}

function rangeRequest(q: RangeQuery): Record<string, unknown> {
  return {
    key: q.key,
    range_end: q.rangeEnd ?? Buffer.alloc(0),
    limit: String(q.limit ?? 0),
    sort_order: q.sort?.order ?? 'NONE',
    sort_target: q.sort?.target ?? 'KEY',
    max_create_revision: String(q.maxCreateRevision ?? 0),
  };
}

export async function range(client: EtcdClient, q: RangeQuery): Promise<RangeResult> {
  const res = await client.call('KV', 'Range', rangeRequest(q));
  return { revision: toRevision(res.header.revision, 'revision'), kvs: (res.kvs as Any[]).map(kvIn) };
}

/** The key under `rangeEnd` with the lowest create revision (the holder of a lock or election). */
export function firstCreated(key: Buffer, rangeEnd: Buffer): RangeQuery {
  return { key, rangeEnd, limit: 1, sort: { order: 'ASCEND', target: 'CREATE' } };
}

export type RequestOp =
  | { readonly request_put: { key: Buffer; value: Buffer; lease?: string } }
  | { readonly request_delete_range: { key: Buffer } }
  | { readonly request_range: Record<string, unknown> };

export const putOp = (key: Buffer, value: Buffer, lease = '0'): RequestOp => ({ request_put: { key, value, lease } });
export const deleteOp = (key: Buffer): RequestOp => ({ request_delete_range: { key } });
export const rangeOp = (q: RangeQuery): RequestOp => ({ request_range: rangeRequest(q) });

/** etcd Compare: the key's create revision equals `rev` (0: the key does not exist). */
export function createRevisionIs(key: Buffer, rev: number): Record<string, unknown> {
  return { result: 'EQUAL', target: 'CREATE', key, create_revision: String(rev) };
}

export interface TxnResult {
  readonly succeeded: boolean;
  readonly revision: number;
  /** Per op: the kvs of a range, else empty. */
  readonly ranges: readonly (readonly Kv[])[];
  readonly raw: Any;
}

export async function txn(client: EtcdClient, compare: readonly Record<string, unknown>[], success: readonly RequestOp[], failure: readonly RequestOp[] = []): Promise<TxnResult> {
  const res = await client.call('KV', 'Txn', { compare, success, failure });
  const ranges = (res.responses as Any[]).map((r) => (r.response_range ? (r.response_range.kvs as Any[]).map(kvIn) : []));
  return { succeeded: res.succeeded === true, revision: toRevision(res.header.revision, 'revision'), ranges, raw: res };
}

export interface Grant {
  readonly id: string;
  readonly ttlSeconds: number;
}

export async function leaseGrant(client: EtcdClient, ttlSeconds: number): Promise<Grant> {
  const res = await client.call('Lease', 'LeaseGrant', { TTL: String(ttlSeconds), ID: '0' });
  if (res.error) throw new CoordError(`lease grant failed: ${res.error}`);
  return { id: String(res.ID), ttlSeconds: toRevision(res.TTL, 'TTL') };
}

export async function leaseRevoke(client: EtcdClient, id: string): Promise<void> {
  await client.call('Lease', 'LeaseRevoke', { ID: id });
}

/** A lease ID as etcd's concurrency package writes it in keys: lower-case hex. */
export function leaseHex(id: string): string {
  return BigInt(id).toString(16);
}
