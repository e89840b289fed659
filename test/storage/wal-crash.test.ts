// Crash tests with real processes: a child appends and syncs in a loop and is
// killed with SIGKILL; the parent reopens the WAL and checks that every record
// the child saw acknowledged as durable is there, intact and in order.
//
// The same file is the child: with SYNOD_WAL_CRASH_CHILD set it runs the
// append loop instead of defining tests.

import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';
import { Wal } from '../../src/storage/wal.js';
import { crc32c } from '../../src/core/crc32c.js';

const SEGMENT_BYTES = 64 * 1024;
const IN_FLIGHT = 32;

/** The payload of record `seq`: its length and bytes follow from seq, so the parent can check it. */
function payloadFor(seq: number): Buffer {
  const len = 8 + ((seq * 7919) % 600);
  const b = Buffer.alloc(len);
  b.writeUInt32LE(seq, 0);
  for (let i = 8; i < len; i++) b[i] = (seq * 31 + i) & 0xff;
  b.writeUInt32LE(crc32c(b, 0, 8, len), 4);
  return b;
}

async function child(dir: string): Promise<void> {
  const { log } = await Wal.open(dir, { segmentBytes: SEGMENT_BYTES });
  const out = process.stdout;
  out.write(`ready ${log.nextSeq}\n`);
  // Keep IN_FLIGHT appends outstanding; report each acknowledgement.
  const one = async (): Promise<void> => {
    for (;;) {
      const seq = log.nextSeq;
      const got = await log.append(1, payloadFor(seq));
      if (got !== seq) throw new Error(`append got ${got}, expected ${seq}`);
      out.write(`ack ${got}\n`);
    }
  };
  await Promise.all(Array.from({ length: IN_FLIGHT }, one));
}

/** The child must not think it runs under the test runner. */
function childEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, ...extra };
  delete env['NODE_TEST_CONTEXT'];
  return env;
}

interface Round {
  readonly acked: number;
  readonly maxAcked: number;
}

/** Runs the child until it has acknowledged at least `minAcks` records, then SIGKILLs it. */
function runAndKill(dir: string, minAcks: number): Promise<Round> {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, [fileURLToPath(import.meta.url)], {
      env: childEnv({ SYNOD_WAL_CRASH_CHILD: dir }),
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let acked = 0;
    let maxAcked = 0;
    let killed = false;
    createInterface({ input: proc.stdout }).on('line', (line) => {
      const m = /^ack (\d+)$/.exec(line);
      if (m === null) return;
      acked++;
      maxAcked = Math.max(maxAcked, Number(m[1]));
      if (acked >= minAcks && !killed) {
        killed = true;
        proc.kill('SIGKILL');
      }
    });
    proc.on('error', reject);
    proc.on('exit', (code, signal) => {
      if (signal !== 'SIGKILL') reject(new Error(`child exited with ${code ?? signal} before it was killed`));
      else resolve({ acked, maxAcked });
    });
  });
}

if (process.env['SYNOD_WAL_CRASH_CHILD'] !== undefined) {
  child(process.env['SYNOD_WAL_CRASH_CHILD']).catch((e: unknown) => {
    console.error(e);
    process.exit(3);
  });
} else {
  describe('WAL under SIGKILL (real processes)', () => {
    test('every acknowledged record survives repeated kills; the log stays intact and continues', async () => {
      const dir = await mkdtemp(join(tmpdir(), 'synod-wal-crash-'));
      try {
        let everAcked = 0;
        for (let round = 0; round < 4; round++) {
          const r = await runAndKill(dir, 400 + round * 150);
          everAcked = Math.max(everAcked, r.maxAcked);
          const { log, records, report } = await Wal.open(dir, { segmentBytes: SEGMENT_BYTES });
          assert.ok(records.length >= everAcked, `round ${round}: ${records.length} records, but ${everAcked} were acknowledged`);
          records.forEach((rec, i) => {
            assert.equal(rec.seq, i + 1, 'contiguous from 1');
            assert.ok(Buffer.from(rec.payload).equals(payloadFor(rec.seq)), `record ${rec.seq} intact`);
          });
          assert.ok(report.tornTail === null || report.tornTail.offset > 0);
          assert.ok(log.stats().segments > 1 || round === 0, 'the run crossed segment boundaries');
          await log.close();
        }
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    });
  });
}
