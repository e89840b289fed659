// Member start-up and log compaction with the key-value state in the WAL (the
// old path: every compaction writes the whole state into the log as a snapshot
// summary, and start-up decodes it) and in LMDB (the new path: the log keeps a
// snapshot marker, and start-up opens LMDB and rebuilds the in-memory index
// from its small index records).
//
// One history, then two data directories that hold what a member's would after
// it: the state of SYNOD_BENCH_KEYS keys (default 100,000) with 256-byte
// values, after SYNOD_BENCH_HISTORY puts (default 1,000,000; the store
// compacted every 10,000 revisions, as etcd's auto-compaction would), and the
// last SYNOD_BENCH_TAIL entries (default 5,000) after the last snapshot still
// in the log. Start-up is measured as a member does it (src/server/member-storage.ts
// for the new path): open the WAL, recover the Raft core, open the state, and
// apply what the log hands over, until the state machine is at the last entry.
// Each path runs SYNOD_BENCH_RUNS times (default 3); the median is reported.

import { mkdtemp, rm, readdir, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import pino from 'pino';
import { ClientId, LogIndex, NodeId, Term } from '../src/core/ids.js';
import { Prng } from '../src/core/prng.js';
import { KvNode } from '../src/kv/adapter.js';
import type { KvCommand } from '../src/kv/command.js';
import { kvCommandBytes, kvSnapshotTextCodec } from '../src/kv/codec.js';
import { snapshotMarker, type KvLogSnapshot, type KvSnapshot } from '../src/kv/snapshot.js';
import { KvStateMachine } from '../src/kv/state-machine.js';
import { RaftNode } from '../src/raft/node.js';
import type { Entry, RaftWrite } from '../src/raft/types.js';
import { persistAndCompact, RaftFold } from '../src/server/durable-fold.js';
import { openMemberStorage } from '../src/server/member-storage.js';
import { LmdbBackend } from '../src/storage/lmdb-backend.js';
import { openDurableLog } from '../src/storage/open-durable-log.js';

const KEYS = Number(process.env['SYNOD_BENCH_KEYS'] ?? 100_000);
const HISTORY = Number(process.env['SYNOD_BENCH_HISTORY'] ?? 1_000_000);
const TAIL = Number(process.env['SYNOD_BENCH_TAIL'] ?? 5_000);
const RUNS = Number(process.env['SYNOD_BENCH_RUNS'] ?? 3);
const VALUE_BYTES = 256;
const COMPACT_EVERY = 10_000;
const ID = NodeId(1);
const silent = pino({ level: 'silent' });
type W = RaftWrite<KvCommand, KvLogSnapshot>;

const conf = { voters: [ID], outgoing: [], learners: [], learnersNext: [] };

function put(i: number, rng: Prng): KvCommand {
  const value = new Uint8Array(VALUE_BYTES);
  value.fill(i & 0xff);
  const key = i <= KEYS ? i - 1 : rng.int(0, KEYS - 1);
  return { client: ClientId(`c${i % 64}`), seq: Math.ceil(i / 64), op: { type: 'put', key: new TextEncoder().encode(`key/${key.toString().padStart(8, '0')}`), value } };
}

/** Runs the history in memory: the state at the last snapshot, and the tail of entries after it. */
function history(): { snap: KvSnapshot; tail: Entry<KvCommand>[]; last: KvStateMachine } {
  const rng = new Prng(1);
  const sm = new KvStateMachine({ fingerprint: false });
  const snapAt = HISTORY - TAIL;
  let snap: KvSnapshot | null = null;
  const tail: Entry<KvCommand>[] = [];
  for (let i = 1; i <= HISTORY; i++) {
    // etcd's auto-compaction keeps the last few revisions of history.
    const command: KvCommand = i % COMPACT_EVERY === 0 ? { client: ClientId('compactor'), seq: i, op: { type: 'compact', revision: sm.revision - 100 } } : put(i, rng);
    sm.apply(LogIndex(i), command);
    if (i >= snapAt && snap === null) snap = sm.snapshot();
    else if (snap !== null) tail.push({ type: 'command', index: LogIndex(i), term: Term(1), bytes: kvCommandBytes(command), command });
  }
  if (snap === null) throw new Error('no snapshot taken');
  return { snap, tail, last: sm };
}

function logWrites(snapshotData: KvLogSnapshot, snapIndex: number, tail: readonly Entry<KvCommand>[]): W[] {
  const writes: W[] = [{ type: 'snapshot', snapshot: { meta: { index: LogIndex(snapIndex), term: Term(1), conf }, data: snapshotData } }];
  for (let i = 0; i < tail.length; i += 1024) writes.push({ type: 'entries', entries: tail.slice(i, i + 1024) });
  const lastIndex = tail.at(-1)?.index ?? snapIndex;
  writes.push({ type: 'hard-state', term: Term(1), vote: ID, commit: LogIndex(lastIndex) });
  return writes;
}

async function dirBytes(dir: string): Promise<number> {
  let n = 0;
  for (const e of await readdir(dir, { withFileTypes: true, recursive: true })) if (e.isFile()) n += (await stat(join(e.parentPath, e.name))).size;
  return n;
}

/** Writes a data directory; returns the time and bytes of the compaction that wrote its summary. */
async function writeDataDir(dir: string, snap: KvSnapshot, tail: readonly Entry<KvCommand>[], lmdb: KvSnapshot | null): Promise<{ compactMs: number }> {
  const index = snap.meta.appliedIndex;
  const { log: durable } = await openDurableLog<W>(join(dir, 'wal'));
  let compactMs: number;
  if (lmdb !== null) {
    const backend = LmdbBackend.open(join(dir, 'state'));
    backend.reset(lmdb);
    // A member's store has committed what it applied since the last compaction by then (lmdb-js commits each turn).
    await backend.flush();
    const t0 = performance.now();
    await persistAndCompact(durable, new RaftFold<KvCommand, KvLogSnapshot>(), logWrites(snapshotMarker(index), index, tail), silent, { flush: () => backend.flush(), marker: snapshotMarker });
    compactMs = performance.now() - t0;
    await backend.close();
  } else {
    const t0 = performance.now();
    await persistAndCompact(durable, new RaftFold<KvCommand, KvLogSnapshot>(), logWrites(snap, index, tail), silent);
    compactMs = performance.now() - t0;
  }
  await durable.close();
  return { compactMs };
}

/** A member's start-up, up to the state machine at the log's last entry. Returns milliseconds. */
async function startUp(dir: string, lmdb: boolean, lastIndex: number): Promise<number> {
  const t0 = performance.now();
  const options = { id: ID, peers: [ID], rng: new Prng(2), commandBytes: kvCommandBytes, snapshotCodec: kvSnapshotTextCodec as never };
  let close: () => Promise<void>;
  let node: KvNode<W, never>;
  if (lmdb) {
    const storage = await openMemberStorage(dir, silent);
    node = KvNode.recover(RaftNode.recover<KvCommand, KvLogSnapshot>(options, storage.recovered as W[]), { stateMachine: storage.sm, snapshotMarkers: true }) as KvNode<W, never>;
    close = () => storage.close();
  } else {
    const { log, recovered } = await openDurableLog<W>(join(dir, 'wal'));
    node = KvNode.recover(RaftNode.recover<KvCommand, KvLogSnapshot>(options, recovered), { stateMachine: { fingerprint: false } }) as KvNode<W, never>;
    close = () => log.close();
  }
  for (let fx = node.ready(); fx !== null && node.sm.appliedIndex < lastIndex; fx = node.ready()) node.advance();
  const ms = performance.now() - t0;
  if (node.sm.appliedIndex !== lastIndex) throw new Error(`start-up reached index ${node.sm.appliedIndex}, expected ${lastIndex}`);
  await close();
  return ms;
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;

async function main(): Promise<void> {
  const base = await mkdtemp(join(process.env['SYNOD_BENCH_DIR'] ?? tmpdir(), 'synod-startup-'));
  try {
    const t0 = performance.now();
    const { snap, tail, last } = history();
    const lastIndex = last.appliedIndex;
    console.log(`history: ${HISTORY.toLocaleString()} puts over ${KEYS.toLocaleString()} keys in ${((performance.now() - t0) / 1000).toFixed(1)} s; ${snap.versions.length.toLocaleString()} versions retained at the snapshot (index ${snap.meta.appliedIndex}), ${tail.length} entries after it`);
    const result: Record<string, number> = {};
    // LMDB as of the snapshot (the tail is replayed, as from the WAL), and as of the last entry (a member's usual case).
    const paths = [
      { name: 'wal', lmdb: null, label: 'state as a snapshot in the WAL          ' },
      { name: 'lmdb', lmdb: snap, label: 'state in LMDB as of the snapshot       ' },
      { name: 'lmdbCurrent', lmdb: last.snapshot(), label: 'state in LMDB as of the last entry     ' },
    ] as const;
    for (const { name, lmdb: state, label } of paths) {
      const lmdb = state !== null;
      const dir = join(base, name);
      const { compactMs } = await writeDataDir(dir, snap, tail, state);
      const bytes = await dirBytes(dir);
      const walBytes = await dirBytes(join(dir, 'wal'));
      const times: number[] = [];
      for (let r = 0; r < RUNS; r++) {
        (globalThis as { gc?: () => void }).gc?.();
        times.push(await startUp(dir, lmdb, lastIndex));
      }
      const ms = median(times);
      console.log(`${label}: start-up ${ms.toFixed(0)} ms (runs: ${times.map((t) => t.toFixed(0)).join(', ')}); a compaction ${compactMs.toFixed(0)} ms, WAL ${(walBytes / 2 ** 20).toFixed(1)} MiB, data dir ${(bytes / 2 ** 20).toFixed(1)} MiB`);
      Object.assign(result, { [`${name}StartupMs`]: Math.round(ms), [`${name}CompactMs`]: Math.round(compactMs), [`${name}WalBytes`]: walBytes, [`${name}DirBytes`]: bytes });
    }
    console.log(`start-up: LMDB path ${(result['walStartupMs']! / result['lmdbStartupMs']!).toFixed(1)}x faster (${(result['walStartupMs']! / result['lmdbCurrentStartupMs']!).toFixed(1)}x with LMDB current); compaction ${(result['walCompactMs']! / result['lmdbCompactMs']!).toFixed(0)}x cheaper`);
    console.log(JSON.stringify({ bench: 'startup', keys: KEYS, history: HISTORY, tail: TAIL, versions: snap.versions.length, ...result }));
  } finally {
    await rm(base, { recursive: true, force: true });
  }
}

await main();
