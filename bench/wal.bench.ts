// WAL and transport figures: durable appends per second and p50/p99 latency
// with 1 and 64 concurrent appenders (group commit), raw fdatasync latency of
// a small write on this disk, and TCP transport messages per second over
// loopback. Prints figures and one JSON line. Directory: $SYNOD_BENCH_DIR or
// the OS temp dir (it must be on the disk you mean to measure).

import { mkdtemp, open, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import pino from 'pino';
import { NodeId } from '../src/core/ids.js';
import { Wal } from '../src/storage/wal.js';
import { TcpTransport } from '../src/net/tcp-transport.js';

const RECORD_BYTES = 256;
const SECONDS = Number(process.env['SYNOD_BENCH_SECONDS'] ?? 3);

interface Latency {
  readonly p50Ms: number;
  readonly p99Ms: number;
}

function percentiles(samples: number[]): Latency {
  samples.sort((a, b) => a - b);
  const at = (q: number): number => samples[Math.min(samples.length - 1, Math.floor(q * samples.length))] ?? NaN;
  return { p50Ms: round(at(0.5)), p99Ms: round(at(0.99)) };
}

function round(x: number, digits = 3): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

async function rawFdatasync(dir: string): Promise<Latency & { readonly syncsPerSec: number }> {
  const fh = await open(join(dir, 'raw.dat'), 'w');
  const buf = Buffer.alloc(RECORD_BYTES, 7);
  const samples: number[] = [];
  const until = performance.now() + SECONDS * 1000;
  let pos = 0;
  while (performance.now() < until) {
    const t0 = performance.now();
    await fh.write(buf, 0, buf.length, pos);
    await fh.datasync();
    samples.push(performance.now() - t0);
    pos += buf.length;
  }
  await fh.close();
  return { ...percentiles(samples), syncsPerSec: Math.round(samples.length / SECONDS) };
}

interface WalFigures extends Latency {
  readonly appenders: number;
  readonly appendsPerSec: number;
  readonly recordsPerFdatasync: number;
}

async function walAppenders(dir: string, appenders: number): Promise<WalFigures> {
  const { log } = await Wal.open(join(dir, `wal-${appenders}`));
  const payload = Buffer.alloc(RECORD_BYTES, 1);
  const samples: number[] = [];
  const until = performance.now() + SECONDS * 1000;
  const loop = async (): Promise<void> => {
    while (performance.now() < until) {
      const t0 = performance.now();
      await log.append(1, payload);
      samples.push(performance.now() - t0);
    }
  };
  const start = performance.now();
  await Promise.all(Array.from({ length: appenders }, loop));
  const elapsed = (performance.now() - start) / 1000;
  const stats = log.stats();
  await log.close();
  return {
    appenders,
    appendsPerSec: Math.round(samples.length / elapsed),
    ...percentiles(samples),
    recordsPerFdatasync: round(stats.appends / stats.flushes, 1),
  };
}

/** Start-up cost: time to open (scan, check every CRC, collect) a WAL of `n` 256-byte records. */
async function replay(dir: string, n: number): Promise<{ readonly records: number; readonly openMs: number; readonly recordsPerSec: number }> {
  const path = join(dir, 'replay');
  const { log } = await Wal.open(path);
  const payload = Buffer.alloc(RECORD_BYTES, 2);
  for (let done = 0; done < n; done += 1000) await Promise.all(Array.from({ length: Math.min(1000, n - done) }, () => log.append(1, payload)));
  await log.close();
  const t0 = performance.now();
  const opened = await Wal.open(path);
  const openMs = performance.now() - t0;
  if (opened.records.length !== n) throw new Error(`replayed ${opened.records.length} of ${n} records`);
  await opened.log.close();
  return { records: n, openMs: round(openMs, 1), recordsPerSec: Math.round(n / (openMs / 1000)) };
}

async function transportThroughput(): Promise<{ readonly messagesPerSec: number; readonly dropped: number; readonly bytesPerMessage: number }> {
  const logger = pino({ level: 'silent' });
  const mk = (id: number): TcpTransport<unknown> =>
    new TcpTransport<unknown>({ id: NodeId(id), clusterId: 'bench', listen: { host: '127.0.0.1', port: 0 }, peers: new Map([[NodeId(3 - id), null]]), logger, maxQueuedMessages: 200_000 });
  const a = mk(1);
  const b = mk(2);
  await a.start();
  await b.start();
  a.setPeer(NodeId(2), b.address());
  b.setPeer(NodeId(1), a.address());
  let received = 0;
  b.onMessage(() => void received++);
  const msg = { type: 'AppendEntriesResponse', term: 12, index: 123456, success: true, from: 1 };
  a.send(NodeId(2), msg);
  while (received < 1) await new Promise((r) => setTimeout(r, 1));
  received = 0;
  let sent = 0;
  const window = 50_000;
  const start = performance.now();
  const until = start + SECONDS * 1000;
  while (performance.now() < until) {
    while (sent - received < window) {
      a.send(NodeId(2), msg);
      sent++;
    }
    await new Promise((r) => setImmediate(r));
  }
  while (received < sent) await new Promise((r) => setImmediate(r));
  const elapsed = (performance.now() - start) / 1000;
  const dropped = a.stats().peers[0]!.dropped;
  await a.stop();
  await b.stop();
  const { Packr } = await import('msgpackr');
  return { messagesPerSec: Math.round(received / elapsed), dropped, bytesPerMessage: new Packr({ structuredClone: true }).pack(msg).length + 5 };
}

async function main(): Promise<void> {
  const dir = await mkdtemp(join(process.env['SYNOD_BENCH_DIR'] ?? tmpdir(), 'synod-walbench-'));
  try {
    const raw = await rawFdatasync(dir);
    console.log(`raw write(${RECORD_BYTES} B)+fdatasync: p50 ${raw.p50Ms} ms, p99 ${raw.p99Ms} ms, ${raw.syncsPerSec}/s`);
    const one = await walAppenders(dir, 1);
    console.log(`WAL, 1 appender:   ${one.appendsPerSec} appends/s, durable latency p50 ${one.p50Ms} ms, p99 ${one.p99Ms} ms, ${one.recordsPerFdatasync} records/fdatasync`);
    const many = await walAppenders(dir, 64);
    console.log(`WAL, 64 appenders: ${many.appendsPerSec} appends/s, durable latency p50 ${many.p50Ms} ms, p99 ${many.p99Ms} ms, ${many.recordsPerFdatasync} records/fdatasync`);
    const rep = await replay(dir, 200_000);
    console.log(`WAL start-up: open and check ${rep.records} records of ${RECORD_BYTES} B in ${rep.openMs} ms (${rep.recordsPerSec} records/s)`);
    const net = await transportThroughput();
    console.log(`TCP transport, loopback, one peer pair: ${net.messagesPerSec} messages/s (${net.bytesPerMessage} B/frame, ${net.dropped} dropped)`);
    console.log(JSON.stringify({ bench: 'wal', recordBytes: RECORD_BYTES, seconds: SECONDS, rawFdatasync: raw, wal1: one, wal64: many, replay: rep, transport: net }));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
