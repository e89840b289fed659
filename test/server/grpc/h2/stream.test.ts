// H2Stream against a recording owner: what a stream asks of its connection.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { H2Stream, type StreamOwner } from '../../../../src/server/grpc/h2/stream.js';

function recorder(): StreamOwner & { consumedBytes: number; resets: number[] } {
  return {
    sendWindow: 65_535, maxFrameSize: 16_384, consumedBytes: 0, resets: [],
    sendHeaders: () => undefined,
    sendData: () => undefined,
    sendReset(_s, code) { this.resets.push(code); },
    wantsPump: () => undefined,
    consumed(_s, bytes) { this.consumedBytes += bytes; },
    closed: () => undefined,
  };
}

describe('H2Stream', () => {
  test('data held for a paused call is credited when it is delivered, or when the stream closes', () => {
    const owner = recorder();
    const got: number[] = [];
    const s = new H2Stream(1, {}, owner, 65_535, 65_535);
    s.sink = { onData: (c) => got.push(c.length), onEnd: () => undefined, onStreamClosed: () => undefined };
    s.pause();
    s.received(Buffer.alloc(100), false);
    s.received(Buffer.alloc(50), false);
    assert.equal(owner.consumedBytes, 0, 'nothing credited while paused');
    s.resume();
    assert.deepEqual(got, [100, 50]);
    assert.equal(owner.consumedBytes, 150);
    s.pause();
    s.received(Buffer.alloc(70), false);
    s.close();
    assert.equal(owner.consumedBytes, 220, 'a closed stream gives its held bytes back');
    assert.deepEqual(got, [100, 50], 'and does not deliver them');
  });

  test('a complete response to a client still sending ends with RST_STREAM NO_ERROR', () => {
    const owner = recorder();
    const s = new H2Stream(1, {}, owner, 65_535, 65_535);
    s.respond(Buffer.from([0x88]), true);
    assert.deepEqual(owner.resets, [0]);
    assert.equal(s.closed, true);
  });
});
