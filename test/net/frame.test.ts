import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { encodeFrame, FrameDecoder, FrameError, FRAME_HELLO, FRAME_MESSAGE } from '../../src/net/frame.js';
import { SendQueue } from '../../src/net/send-queue.js';

describe('frame codec', () => {
  test('frames survive any split of the byte stream into chunks (property)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.constantFrom(FRAME_HELLO, FRAME_MESSAGE), fc.uint8Array({ maxLength: 300 })), { maxLength: 20 }),
        fc.array(fc.integer({ min: 1, max: 64 }), { minLength: 1, maxLength: 50 }),
        (frames, cuts) => {
          const stream = Buffer.concat(frames.map(([k, b]) => encodeFrame(k, b, 1024)));
          const dec = new FrameDecoder(1024);
          const out: { kind: number; body: Buffer }[] = [];
          let at = 0;
          for (let i = 0; at < stream.length; i++) {
            const n = cuts[i % cuts.length]!;
            out.push(...dec.push(stream.subarray(at, at + n)));
            at += n;
          }
          assert.deepEqual(out.map((f) => [f.kind, Buffer.from(f.body)]), frames.map(([k, b]) => [k, Buffer.from(b)]));
        },
      ),
    );
  });

  test('a length over the limit is refused from the 4-byte header alone', () => {
    const dec = new FrameDecoder(100);
    assert.throws(() => dec.push(Buffer.from([0, 0, 0, 101])), (e: unknown) => e instanceof FrameError && /frame of 101 bytes exceeds the frame-size limit of 100/.test(e.message));
  });

  test('a frame of exactly the limit is accepted', () => {
    const dec = new FrameDecoder(100);
    const f = encodeFrame(FRAME_MESSAGE, new Uint8Array(99), 100);
    assert.equal(dec.push(f).length, 1);
    assert.throws(() => encodeFrame(FRAME_MESSAGE, new Uint8Array(100), 100), FrameError);
  });

  test('an unknown kind and an empty frame are refused', () => {
    assert.throws(() => new FrameDecoder(100).push(Buffer.from([0, 0, 0, 1, 9])), /unknown frame kind 9/);
    assert.throws(() => new FrameDecoder(100).push(Buffer.from([0, 0, 0, 0])), /empty frame/);
  });
});

describe('send queue', () => {
  test('behaves like a bounded array that drops its oldest (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 20 }),
        fc.array(fc.oneof(fc.integer({ min: 1, max: 50 }).map((n) => ({ push: n })), fc.integer({ min: 1, max: 120 }).map((b) => ({ take: b }))), { maxLength: 3000 }),
        (bound, ops) => {
          const q = new SendQueue(bound);
          const model: Buffer[] = [];
          let dropped = 0;
          let id = 0;
          for (const op of ops) {
            if ('push' in op) {
              const b = Buffer.alloc(op.push, id++ & 0xff);
              q.push(b);
              model.push(b);
              if (model.length > bound) {
                model.shift();
                dropped++;
              }
            } else {
              const got = q.takeBatch(op.take);
              let size = 0;
              const want: Buffer[] = [];
              while (model.length > 0 && (want.length === 0 || size + model[0]!.length <= op.take)) {
                size += model[0]!.length;
                want.push(model.shift()!);
              }
              assert.deepEqual(got, want);
            }
            assert.equal(q.length, model.length);
            assert.equal(q.bytes, model.reduce((a, b) => a + b.length, 0));
            assert.equal(q.dropped, dropped);
          }
        },
      ),
      { numRuns: 50 },
    );
  });
});
