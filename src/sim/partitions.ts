// Network partitions in the shapes Jepsen's nemeses use. A partition is a
// matrix of directed links that drop every message; shapes are pure functions
// of the cluster size and an ordering of the nodes (drawn from the seed), so
// tests can check directly who is cut off from whom.

import { assert } from '../core/assert.js';
import type { PartitionShape } from './trace.js';

export interface Partition {
  readonly shape: PartitionShape;
  readonly n: number;
  /** blocked[from * n + to] === 1: messages from `from` to `to` are dropped. */
  readonly blocked: Uint8Array;
}

function empty(shape: PartitionShape, n: number): { shape: PartitionShape; n: number; blocked: Uint8Array } {
  assert(Number.isInteger(n) && n > 0, () => `partition of ${n} nodes`);
  return { shape, n, blocked: new Uint8Array(n * n) };
}

function checkOrder(n: number, order: readonly number[]): void {
  assert(order.length === n && new Set(order).size === n && order.every((x) => x >= 0 && x < n), () => `order ${order.join(',')} is not a permutation of 0..${n - 1}`);
}

/** Cuts the links between every pair of nodes in different groups (both ways). A node in no group is alone. */
export function groups(n: number, parts: readonly (readonly number[])[], shape: PartitionShape = 'groups'): Partition {
  const p = empty(shape, n);
  const groupOf = new Int32Array(n).fill(-1);
  parts.forEach((g, gi) => {
    for (const x of g) {
      assert(x >= 0 && x < n && groupOf[x] === -1, () => `node ${x} is out of range or in two groups`);
      groupOf[x] = gi;
    }
  });
  for (let a = 0; a < n; a++) {
    for (let b = 0; b < n; b++) {
      if (a === b) continue;
      const ga = groupOf[a] as number;
      if (ga === -1 || ga !== groupOf[b]) p.blocked[a * n + b] = 1;
    }
  }
  return p;
}

/** One node cut off from all others, both ways. */
export function isolate(n: number, node: number): Partition {
  const rest: number[] = [];
  for (let x = 0; x < n; x++) if (x !== node) rest.push(x);
  return groups(n, [[node], rest], 'isolate');
}

/** A majority and a minority (Jepsen's "halves"): the first floor(n/2)+1 of `order` against the rest. */
export function halves(n: number, order: readonly number[]): Partition {
  checkOrder(n, order);
  const m = Math.floor(n / 2) + 1;
  return groups(n, [order.slice(0, m), order.slice(m)], 'halves');
}

/**
 * Overlapping majorities (Jepsen's "bridge"): two halves that cannot talk to each
 * other, joined by one node that talks to both. With 5 nodes: {a,b} - c - {d,e}.
 */
export function bridge(n: number, order: readonly number[]): Partition {
  checkOrder(n, order);
  assert(n >= 3, 'a bridge needs at least 3 nodes');
  const p = empty('bridge', n);
  const mid = Math.floor(n / 2);
  const hub = order[mid] as number;
  const left = new Set(order.slice(0, mid));
  for (let a = 0; a < n; a++) {
    for (let b = 0; b < n; b++) {
      if (a === b || a === hub || b === hub) continue;
      if (left.has(a) !== left.has(b)) p.blocked[a * n + b] = 1;
    }
  }
  return p;
}

/** Each node talks only to its two neighbours in the ring `order` (every node sees a different majority when n = 5). */
export function ring(n: number, order: readonly number[]): Partition {
  checkOrder(n, order);
  const p = empty('ring', n);
  const pos = new Int32Array(n);
  order.forEach((x, i) => (pos[x] = i));
  for (let a = 0; a < n; a++) {
    for (let b = 0; b < n; b++) {
      if (a === b) continue;
      const d = Math.abs((pos[a] as number) - (pos[b] as number));
      if (d !== 1 && d !== n - 1) p.blocked[a * n + b] = 1;
    }
  }
  return p;
}

/**
 * An asymmetric partition: messages from `node` to every other node are dropped,
 * while messages to `node` still arrive (it hears the cluster; nobody hears it).
 */
export function oneWay(n: number, node: number): Partition {
  const p = empty('one-way', n);
  for (let b = 0; b < n; b++) if (b !== node) p.blocked[node * n + b] = 1;
  return p;
}

/** The directed links a partition cuts, as [from, to] pairs in order. */
export function blockedLinks(p: Partition): [number, number][] {
  const out: [number, number][] = [];
  for (let a = 0; a < p.n; a++) {
    for (let b = 0; b < p.n; b++) if (p.blocked[a * p.n + b] === 1) out.push([a, b]);
  }
  return out;
}

/** Whether `a` and `b` can exchange messages both ways. */
export function connected(p: Partition, a: number, b: number): boolean {
  return p.blocked[a * p.n + b] === 0 && p.blocked[b * p.n + a] === 0;
}
