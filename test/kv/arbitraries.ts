// fast-check generators of etcd requests over a small key space, so that
// operations collide often.

import fc from 'fast-check';
import type { Compare, KvWriteOp, RangeRequest, RequestOp } from '../../src/kv/command.js';

const b = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'latin1'));

export const KEYS = ['a', 'aa', 'ab', 'b', 'ba', 'c', '\u00ff'];
export const key = fc.constantFrom(...KEYS).map(b);
const value = fc.constantFrom('', 'x', 'y', 'zz', '\u0000').map(b);
const rangeEnd = fc.option(fc.constantFrom('', '\u0000', 'b', 'bb', 'c', '\u00ff', 'a').map(b), { nil: undefined });

/** Drops absent fields (exactOptionalPropertyTypes: absent is not undefined). */
function defined<T extends object>(o: T): { [K in keyof T]: Exclude<T[K], undefined> } {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as { [K in keyof T]: Exclude<T[K], undefined> };
}
/** Mostly 0 (no filter), sometimes a small revision. */
const count = fc.oneof({ weight: 3, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.integer({ min: 1, max: 8 }) });
const rarely = fc.integer({ min: 0, max: 5 }).map((n) => n === 0);

/** Reads favour wide ranges, so that limits and sorts have something to cut and order. */
const readEnd = fc.option(fc.constantFrom('\u0000', '\u0000', 'c', '\u00ff', 'b', '').map(b), { nil: undefined, freq: 6 });

export const range: fc.Arbitrary<RangeRequest> = fc.record(
  {
    key,
    rangeEnd: readEnd,
    limit: fc.integer({ min: 0, max: 3 }),
    revision: fc.oneof({ weight: 2, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.integer({ min: -1, max: 25 }) }),
    keysOnly: rarely,
    countOnly: rarely,
    sortOrder: fc.constantFrom('none', 'ascend', 'descend'),
    sortTarget: fc.constantFrom('key', 'version', 'create', 'mod', 'value'),
    minModRevision: count,
    maxModRevision: count,
    minCreateRevision: count,
    maxCreateRevision: count,
  },
  { requiredKeys: ['key'] },
).map((r) => defined(r) as RangeRequest);

const compare: fc.Arbitrary<Compare> = fc
  .tuple(key, rangeEnd, fc.constantFrom('equal', 'not-equal', 'less', 'greater'), fc.integer({ min: 0, max: 5 }), value, fc.integer({ min: 0, max: 4 }))
  .map(([k, end, result, n, v, which]) => {
    const base = end === undefined ? { key: k, result } : { key: k, rangeEnd: end, result };
    switch (which) {
      case 0:
        return { ...base, target: 'value', value: v } as const;
      case 1:
        return { ...base, target: 'version', version: n } as const;
      case 2:
        return { ...base, target: 'create', createRevision: n * 3 } as const;
      case 3:
        return { ...base, target: 'mod', modRevision: n * 3 } as const;
      default:
        return { ...base, target: 'lease', lease: n % 3 } as const;
    }
  });

const put = fc
  .record({ key, value, lease: fc.integer({ min: 0, max: 2 }), prevKv: fc.boolean(), ignore: fc.integer({ min: 0, max: 9 }) })
  .map(({ key: k, value: v, lease, prevKv, ignore }) => {
    if (ignore === 0) return { type: 'put', key: k, value: new Uint8Array(0), prevKv, ignoreValue: true } as const;
    if (ignore === 1) return { type: 'put', key: k, value: v, prevKv, ignoreLease: true } as const;
    return { type: 'put', key: k, value: v, lease, prevKv } as const;
  });

const del = fc
  .record({ key, rangeEnd, prevKv: fc.boolean() }, { requiredKeys: ['key'] })
  .map((d) => ({ type: 'delete-range', ...(defined(d) as { key: Uint8Array; rangeEnd?: Uint8Array; prevKv?: boolean }) }) as const);

function requestOp(depth: number): fc.Arbitrary<RequestOp> {
  const leaf: fc.Arbitrary<RequestOp>[] = [range.map((r) => ({ type: 'range', ...r }) as const), put, del];
  if (depth <= 0) return fc.oneof(...leaf);
  return fc.oneof(...leaf, txn(depth - 1).map((t) => ({ type: 'txn', ...t }) as const));
}

function txn(depth: number) {
  const ops = fc.array(requestOp(depth), { maxLength: 3 });
  return fc.record({ compare: fc.array(compare, { maxLength: 2 }), success: ops, failure: ops });
}

const w = (weight: number, arbitrary: fc.Arbitrary<KvWriteOp>) => ({ weight, arbitrary });

export const writeOp: fc.Arbitrary<KvWriteOp> = fc.oneof(
  w(6, put),
  w(1, del),
  w(3, txn(1).map((t) => ({ type: 'txn', ...t }) as const)),
  w(1, fc.integer({ min: 0, max: 30 }).map((revision) => ({ type: 'compact', revision }) as const)),
  w(1, fc.record({ id: fc.integer({ min: 0, max: 3 }), ttl: fc.constantFrom(0, 5, 60) }).map((g) => ({ type: 'lease-grant', ...g }) as const)),
  w(1, fc.integer({ min: 0, max: 3 }).map((id) => ({ type: 'lease-revoke', id }) as const)),
);
