// Key-value state machine figures: applied puts per second (8-byte keys,
// 256-byte values, with and without the hash chain, with client sessions), cas txns per second,
// single-key and 100-key range reads per second, and the cost of a snapshot
// of 100,000 keys (build, MessagePack encode/decode, JSON text encode, restore);
// and a member's apply path: encoded etcd puts over 10,000 keys from one session (as a member
// forwards them), decoded and applied over LMDB, 100 per event-loop turn, with
// the CPU time of every thread (LMDB commits on its own) per entry.
// Prints figures and one JSON line.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { ClientId, LogIndex } from '../src/core/ids.js';
import type { KvWriteOp } from '../src/kv/command.js';
import { kvSnapshotTextCodec } from '../src/kv/codec.js';
import { decodeSnapshot, encodeSnapshot } from '../src/kv/snapshot.js';
import { KvStateMachine } from '../src/kv/state-machine.js';
import { decodeKvCommand, encodeKvCommand } from '../src/kv/encoded-log.js';
import { LmdbBackend } from '../src/storage/lmdb-backend.js';

const SECONDS = Number(process.env['SYNOD_BENCH_SECONDS'] ?? 2);
const KEYS = 100_000;
const value = new Uint8Array(256).fill(7);
const keyOf = (i: number): Uint8Array => new TextEncoder().encode(`k${String(i % KEYS).padStart(7, '0')}`);

function rate(run: (i: number) => void): number {
  const until = performance.now() + SECONDS * 1000;
  const start = performance.now();
  let n = 0;
  while (performance.now() < until) {
    for (let j = 0; j < 256; j++) run(n++);
  }
  return Math.round(n / ((performance.now() - start) / 1000));
}

function filled(fingerprint: boolean): { sm: KvStateMachine; next: () => LogIndex } {
  const sm = new KvStateMachine({ fingerprint });
  let index = 0;
  const next = () => LogIndex(++index);
  for (let i = 0; i < KEYS; i++) sm.apply(next(), { client: ClientId('bench'), seq: 0, op: { type: 'put', key: keyOf(i), value } });
  return { sm, next };
}

function ms(f: () => void): number {
  const t0 = performance.now();
  f();
  return Math.round((performance.now() - t0) * 10) / 10;
}

const withChain = filled(true);
const putsPerSec = rate((i) => withChain.sm.apply(withChain.next(), { client: ClientId('c'), seq: 0, op: { type: 'put', key: keyOf(i), value } }));
const putsSessionPerSec = rate((i) => withChain.sm.apply(withChain.next(), { client: ClientId(`c${i % 1000}`), seq: i + 1, op: { type: 'put', key: keyOf(i), value } }));
const plain = filled(false);
const putsNoChainPerSec = rate((i) => plain.sm.apply(plain.next(), { client: ClientId('c'), seq: 0, op: { type: 'put', key: keyOf(i), value } }));
const casPerSec = rate((i) => {
  const key = keyOf(i);
  const op: KvWriteOp = { type: 'txn', compare: [{ key, target: 'version', version: 0, result: 'greater' }], success: [{ type: 'put', key, value }], failure: [{ type: 'range', key }] };
  plain.sm.apply(plain.next(), { client: ClientId('c'), seq: 0, op });
});
const getsPerSec = rate((i) => plain.sm.range({ key: keyOf(i * 7919) }));
const scansPerSec = rate((i) => plain.sm.range({ key: keyOf(i * 7919), rangeEnd: keyOf(i * 7919 + 100), limit: 100 }));

plain.sm.apply(plain.next(), { client: ClientId('c'), seq: 0, op: { type: 'compact', revision: plain.sm.revision } });
let snap = plain.sm.snapshot();
const snapshotMs = ms(() => (snap = plain.sm.snapshot()));
let bytes: Uint8Array = new Uint8Array(0);
const encodeMs = ms(() => (bytes = encodeSnapshot(snap)));
const decodeMs = ms(() => decodeSnapshot(bytes));
let text = '';
const textEncodeMs = ms(() => (text = kvSnapshotTextCodec.encode(snap)));
const restoreMs = ms(() => new KvStateMachine().restore(snap));

/** A member's apply path over LMDB: CPU µs per entry (all threads) and wall µs per entry. */
async function lmdbApply(n: number): Promise<{ cpuUs: number; wallUs: number }> {
  const dir = mkdtempSync(join(tmpdir(), 'synod-kv-bench-'));
  const backend = LmdbBackend.open(join(dir, 'state'));
  const sm = new KvStateMachine({ backend, fingerprint: false });
  const cmds = Array.from({ length: n }, (_, i) => encodeKvCommand({
    client: ClientId('member.bench'), seq: i + 1,
    op: { type: 'put', key: keyOf(Math.floor(Math.random() * 10_000)), value, lease: 0, prevKv: false, ignoreValue: false, ignoreLease: false },
  }));
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  let i = 0;
  await new Promise<void>((resolve) => {
    const turn = (): void => {
      for (let k = 0; k < 100 && i < n; k++, i++) sm.apply(LogIndex(i + 1), decodeKvCommand(cmds[i] as Uint8Array));
      if (i < n) setImmediate(turn);
      else resolve();
    };
    turn();
  });
  await backend.flush();
  const cpu = process.cpuUsage(cpu0);
  const wallUs = ((performance.now() - t0) * 1000) / n;
  await backend.close();
  rmSync(dir, { recursive: true, force: true });
  return { cpuUs: Math.round(((cpu.user + cpu.system) / n) * 10) / 10, wallUs: Math.round(wallUs * 10) / 10 };
}
const lmdb = await lmdbApply(200_000);

const figures = {
  lmdbApplyCpuUsPerEntry: lmdb.cpuUs,
  lmdbApplyWallUsPerEntry: lmdb.wallUs,
  putsPerSec,
  putsNoChainPerSec,
  putsSessionPerSec,
  casPerSec,
  getsPerSec,
  scans100PerSec: scansPerSec,
  snapshotKeys: snap.versions.length,
  snapshotMs,
  encodeMs,
  encodedMiB: Math.round((bytes.length / 2 ** 20) * 10) / 10,
  decodeMs,
  textEncodeMs,
  textMiB: Math.round((text.length / 2 ** 20) * 10) / 10,
  restoreMs,
};
console.log(`applied puts (8 B keys, 256 B values, ${KEYS} keys): ${putsPerSec}/s with the hash chain, ${putsNoChainPerSec}/s without, ${putsSessionPerSec}/s with chain and sessions (1000 clients)`);
console.log(`a member's apply path over LMDB (encoded etcd puts, one session, 200,000 puts over 10,000 keys as etcdbench makes them): ${lmdb.cpuUs} us CPU per entry (all threads), ${lmdb.wallUs} us wall`);
console.log(`cas txns: ${casPerSec}/s; single-key reads: ${getsPerSec}/s; 100-key ranges: ${scansPerSec}/s`);
console.log(`snapshot of ${snap.versions.length} keys: build ${snapshotMs} ms, MessagePack ${figures.encodedMiB} MiB encode ${encodeMs} ms decode ${decodeMs} ms, text ${figures.textMiB} MiB encode ${textEncodeMs} ms, restore ${restoreMs} ms`);
console.log(JSON.stringify({ bench: 'kv', ...figures }));
