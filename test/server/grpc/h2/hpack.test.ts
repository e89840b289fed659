// HPACK (RFC 7541): the decoder against the Appendix C examples and against
// a real encoder (nghttp2, inside node:http2), the stateless response encoder,
// and the refusal of malformed blocks.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type AddressInfo, type Socket } from 'node:net';
import { connect, type OutgoingHttpHeaders } from 'node:http2';
import {
  encodeHeaders, HeaderListTooLarge, HpackDecoder, HpackError, STATIC_TABLE_LENGTH,
} from '../../../../src/server/grpc/h2/hpack.js';
import { Prng } from '../../../../src/core/prng.js';

const NO_LIMIT = 1 << 30;
const bytes = (h: string): Buffer => Buffer.from(h.replace(/\s+/g, ''), 'hex');
const pairs = (flat: string[]): [string, string][] => {
  const out: [string, string][] = [];
  for (let i = 0; i < flat.length; i += 2) out.push([flat[i]!, flat[i + 1]!]);
  return out;
};

/** Decodes one block and checks the list, then the dynamic table (newest first) and its size. */
function step(d: HpackDecoder, block: string, list: [string, string][], table: [string, string][], size: number): void {
  assert.deepEqual(pairs(d.decode(bytes(block), NO_LIMIT)), list);
  assert.deepEqual(d.dynamicTable(), table);
  assert.equal(d.dynamicTableSize, size);
}

describe('RFC 7541 C.1: integer representation', () => {
  test('10 and 1337 with a 5-bit prefix (size updates), 1337 with a 7-bit prefix (a string length)', () => {
    const d = new HpackDecoder(4096);
    step(d, '2a 40 01 61 00', [['a', '']], [], 0); // update to 10 (C.1.1); then 'a' (33 bytes) does not fit
    step(d, '3f9a0a 40 01 61 00', [['a', '']], [['a', '']], 33); // update to 1337 (C.1.2)
    const long = 'x'.repeat(1337);
    assert.deepEqual(pairs(d.decode(Buffer.concat([bytes('0001 78 7f ba 09'), Buffer.from(long)]), NO_LIMIT)), [['x', long]]);
  });
});

describe('RFC 7541 C.2: header field representations', () => {
  test('C.2.1 literal with indexing', () => {
    step(new HpackDecoder(), '400a 6375 7374 6f6d 2d6b 6579 0d63 7573 746f 6d2d 6865 6164 6572',
      [['custom-key', 'custom-header']], [['custom-key', 'custom-header']], 55);
  });

  test('C.2.2 literal without indexing', () => {
    step(new HpackDecoder(), '040c 2f73 616d 706c 652f 7061 7468', [[':path', '/sample/path']], [], 0);
  });

  test('C.2.3 literal never indexed', () => {
    step(new HpackDecoder(), '1008 7061 7373 776f 7264 0673 6563 7265 74', [['password', 'secret']], [], 0);
  });

  test('C.2.4 indexed', () => {
    step(new HpackDecoder(), '82', [[':method', 'GET']], [], 0);
  });

  test('Appendix A: the static table ends at 61', () => {
    assert.equal(STATIC_TABLE_LENGTH, 61);
    step(new HpackDecoder(), '81 bd 8f 90', [[':authority', ''], ['www-authenticate', ''], ['accept-charset', ''], ['accept-encoding', 'gzip, deflate']], [], 0);
  });
});

const REQUEST_1: [string, string][] = [[':method', 'GET'], [':scheme', 'http'], [':path', '/'], [':authority', 'www.example.com']];
const REQUEST_2: [string, string][] = [...REQUEST_1, ['cache-control', 'no-cache']];
const REQUEST_3: [string, string][] = [
  [':method', 'GET'], [':scheme', 'https'], [':path', '/index.html'], [':authority', 'www.example.com'], ['custom-key', 'custom-value'],
];
const TABLE_1: [string, string][] = [[':authority', 'www.example.com']];
const TABLE_2: [string, string][] = [['cache-control', 'no-cache'], ...TABLE_1];
const TABLE_3: [string, string][] = [['custom-key', 'custom-value'], ...TABLE_2];

describe('RFC 7541 C.3 and C.4: requests on one connection', () => {
  test('C.3 without Huffman', () => {
    const d = new HpackDecoder();
    step(d, '8286 8441 0f77 7777 2e65 7861 6d70 6c65 2e63 6f6d', REQUEST_1, TABLE_1, 57);
    step(d, '8286 84be 5808 6e6f 2d63 6163 6865', REQUEST_2, TABLE_2, 110);
    step(d, '8287 85bf 400a 6375 7374 6f6d 2d6b 6579 0c63 7573 746f 6d2d 7661 6c75 65', REQUEST_3, TABLE_3, 164);
  });

  test('C.4 with Huffman', () => {
    const d = new HpackDecoder();
    step(d, '8286 8441 8cf1 e3c2 e5f2 3a6b a0ab 90f4 ff', REQUEST_1, TABLE_1, 57);
    step(d, '8286 84be 5886 a8eb 1064 9cbf', REQUEST_2, TABLE_2, 110);
    step(d, '8287 85bf 4088 25a8 49e9 5ba9 7d7f 8925 a849 e95b b8e8 b4bf', REQUEST_3, TABLE_3, 164);
  });
});

const DATE_1 = 'Mon, 21 Oct 2013 20:13:21 GMT';
const DATE_2 = 'Mon, 21 Oct 2013 20:13:22 GMT';
const LOCATION = 'https://www.example.com';
const COOKIE = 'foo=ASDJKHQKBZXOQWEOPIUAXQWEOIU; max-age=3600; version=1';
const RESPONSE_1: [string, string][] = [[':status', '302'], ['cache-control', 'private'], ['date', DATE_1], ['location', LOCATION]];
const RESPONSE_2: [string, string][] = [[':status', '307'], ...RESPONSE_1.slice(1)];
const RESPONSE_3: [string, string][] = [
  [':status', '200'], ['cache-control', 'private'], ['date', DATE_2], ['location', LOCATION],
  ['content-encoding', 'gzip'], ['set-cookie', COOKIE],
];
const RTABLE_1: [string, string][] = [['location', LOCATION], ['date', DATE_1], ['cache-control', 'private'], [':status', '302']];
const RTABLE_2: [string, string][] = [[':status', '307'], ...RTABLE_1.slice(0, 3)];
const RTABLE_3: [string, string][] = [['set-cookie', COOKIE], ['content-encoding', 'gzip'], ['date', DATE_2]];

describe('RFC 7541 C.5 and C.6: responses with a 256-byte table (evictions)', () => {
  test('C.5 without Huffman', () => {
    const d = new HpackDecoder(256);
    step(d, `4803 3330 3258 0770 7269 7661 7465 611d 4d6f 6e2c 2032 3120 4f63 7420 3230 3133
             2032 303a 3133 3a32 3120 474d 546e 1768 7474 7073 3a2f 2f77 7777 2e65 7861 6d70
             6c65 2e63 6f6d`, RESPONSE_1, RTABLE_1, 222);
    step(d, '4803 3330 37c1 c0bf', RESPONSE_2, RTABLE_2, 222);
    step(d, `88c1 611d 4d6f 6e2c 2032 3120 4f63 7420 3230 3133 2032 303a 3133 3a32 3220 474d
             54c0 5a04 677a 6970 7738 666f 6f3d 4153 444a 4b48 514b 425a 584f 5157 454f 5049
             5541 5851 5745 4f49 553b 206d 6178 2d61 6765 3d33 3630 303b 2076 6572 7369 6f6e
             3d31`, RESPONSE_3, RTABLE_3, 215);
  });

  test('C.6 with Huffman', () => {
    const d = new HpackDecoder(256);
    step(d, `4882 6402 5885 aec3 771a 4b61 96d0 7abe 9410 54d4 44a8 2005 9504 0b81 66e0 82a6
             2d1b ff6e 919d 29ad 1718 63c7 8f0b 97c8 e9ae 82ae 43d3`, RESPONSE_1, RTABLE_1, 222);
    step(d, '4883 640e ffc1 c0bf', RESPONSE_2, RTABLE_2, 222);
    step(d, `88c1 6196 d07a be94 1054 d444 a820 0595 040b 8166 e084 a62d 1bff c05a 839b d9ab
             77ad 94e7 821d d7f2 e6c7 b335 dfdf cd5b 3960 d5af 2708 7f36 72c1 ab27 0fb5 291f
             9587 3160 65c0 03ed 4ee5 b106 3d50 07`, RESPONSE_3, RTABLE_3, 215);
  });
});

describe('RFC 7541 §4: the dynamic table', () => {
  test('§4.4 an entry larger than the table empties it and is not added', () => {
    const d = new HpackDecoder(64);
    step(d, '40 01 61 01 62', [['a', 'b']], [['a', 'b']], 34);
    const big = 'v'.repeat(40); // 1 + 40 + 32 > 64
    assert.deepEqual(pairs(d.decode(Buffer.concat([bytes('40 01 61 28'), Buffer.from(big)]), NO_LIMIT)), [['a', big]]);
    assert.deepEqual(d.dynamicTable(), []);
    assert.equal(d.dynamicTableSize, 0);
  });

  test('§4.3 / §6.3 size updates evict, may repeat at the start, and allow growth back to the maximum', () => {
    const d = new HpackDecoder(4096);
    step(d, '40 01 61 01 62 40 01 63 01 64', [['a', 'b'], ['c', 'd']], [['c', 'd'], ['a', 'b']], 68);
    step(d, '3f 17', [], [['c', 'd']], 34); // to 54: the oldest goes
    step(d, '20 3f e1 1f 40 01 65 01 66 be', [['e', 'f'], ['e', 'f']], [['e', 'f']], 34); // to 0 (all go), back to 4096
  });

  test('the ring wraps: many more insertions than slots keep indexes right', () => {
    const d = new HpackDecoder(200); // 6 slots of 32 bytes; entries here are 34 bytes, so 5 fit
    for (let i = 0; i < 40; i++) {
      const name = String.fromCharCode(0x61 + (i % 26));
      const block = Buffer.concat([bytes('40 01'), Buffer.from(name), bytes('01'), Buffer.from(String(i % 10))]);
      d.decode(block, NO_LIMIT);
      const table = d.dynamicTable();
      assert.equal(table.length, Math.min(i + 1, 5));
      assert.deepEqual(table[0], [name, String(i % 10)]);
      assert.equal(d.dynamicTableSize, 34 * table.length);
    }
    // Index 62 is the newest (i = 39: 'n', '9'), 66 the oldest (i = 35: 'j', '5').
    assert.deepEqual(pairs(d.decode(bytes('be c2'), NO_LIMIT)), [['n', '9'], ['j', '5']]);
  });

  test('decodes a Uint8Array view that is not a Buffer', () => {
    const backing = new Uint8Array([0xff, 0x82, 0x40, 0x01, 0x61, 0x01, 0x62, 0xff]);
    const d = new HpackDecoder();
    assert.deepEqual(pairs(d.decode(backing.subarray(1, 7), NO_LIMIT)), [[':method', 'GET'], ['a', 'b']]);
  });
});

describe('the header list limit (RFC 9113 §6.5.2)', () => {
  test('a list above the limit is refused after the whole block, and the table stays in sync', () => {
    const d = new HpackDecoder();
    const value = 'x'.repeat(100);
    const block = Buffer.concat([bytes('82 40 01 61 64'), Buffer.from(value), bytes('40 01 62 01 63')]);
    const limit = 42 + 133; // :method GET fits, a: x... fits, b: c does not
    assert.throws(() => d.decode(block, limit), (e: unknown) => {
      assert.ok(e instanceof HeaderListTooLarge && e instanceof HpackError);
      assert.equal(e.size, 42 + 133 + 34);
      assert.equal(e.limit, limit);
      return true;
    });
    assert.deepEqual(d.dynamicTable(), [['b', 'c'], ['a', value]]);
    assert.deepEqual(pairs(d.decode(bytes('be bf'), limit)), [['b', 'c'], ['a', value]]);
  });

  test('a list exactly at the limit is accepted', () => {
    assert.deepEqual(pairs(new HpackDecoder().decode(bytes('82'), 42)), [[':method', 'GET']]);
  });
});

describe('malformed header blocks are refused with HpackError', () => {
  const refuses = (block: Buffer, message: RegExp, d = new HpackDecoder()): void => {
    assert.throws(() => d.decode(block, NO_LIMIT), (e: unknown) => e instanceof HpackError && !(e instanceof HeaderListTooLarge) && message.test(e.message));
  };

  test('index 0 (§6.1), as a field and as a name', () => {
    refuses(bytes('80'), /index 0 /);
    // A literal's index 0 means "new name", so index 0 is only an error for indexed fields.
    assert.deepEqual(pairs(new HpackDecoder().decode(bytes('00 01 61 01 62'), NO_LIMIT)), [['a', 'b']]);
  });

  test('an index beyond the static and dynamic tables', () => {
    refuses(bytes('be'), /index 62 is beyond the static and dynamic tables \(61 \+ 0 entries\)/);
    const d = new HpackDecoder();
    d.decode(bytes('40 01 61 01 62 40 01 63 01 64 40 01 65 01 66'), NO_LIMIT);
    refuses(bytes('bf c6'), /index 70 is beyond the static and dynamic tables \(61 \+ 3 entries\)/, d);
    refuses(bytes('41'), /header block ends inside an integer/); // the value is missing
    refuses(bytes('7f 00 01 61'), /index 63 is beyond/, new HpackDecoder()); // as a literal's name
  });

  test('a truncated integer', () => {
    refuses(bytes('ff'), /ends inside an integer/);
    refuses(bytes('ff 80 80'), /ends inside an integer/);
    refuses(bytes('00 7f'), /ends inside an integer/);
  });

  test('an integer that overflows or has too many continuation bytes', () => {
    refuses(bytes('ff ff ff ff ff 0f'), /above 2\^31 - 1/); // 127 + 2^32 - 1
    refuses(bytes('ff 80 80 80 80 08'), /above 2\^31 - 1/); // 127 + 2^31
    refuses(bytes('ff 80 80 80 80 80 00'), /more than 5 continuation bytes/);
    // 2^31 - 1 itself is a valid integer (here, an index far beyond the table).
    refuses(bytes('ff 80 ff ff ff 07'), /index 2147483647 is beyond/);
  });

  test('a string longer than the rest of the block', () => {
    refuses(bytes('00 05 61 62'), /string of 5 bytes overruns the header block \(2 left\)/);
    refuses(bytes('00 01 61 85 ff'), /string of 5 bytes overruns/);
  });

  test('bad Huffman strings (§5.2)', () => {
    refuses(bytes('00 01 61 82 1f ff'), /padding is longer than 7 bits/); // value 'a' + 11 one bits
    refuses(bytes('00 01 61 81 18'), /padding is not a prefix of EOS/);
    refuses(bytes('00 84 ff ff ff ff 00'), /EOS/);
  });

  test('a table size update above our maximum (§6.3)', () => {
    refuses(bytes('3f e2 1f'), /table size update to 4097 is above the maximum of 4096/); // 31 + 4066
    refuses(bytes('3f 01'), /update to 32 is above the maximum of 0/, new HpackDecoder(0));
  });

  test('a table size update after a header field (§4.2)', () => {
    refuses(bytes('82 20'), /size update after a header field/);
  });
});

describe('encodeHeaders: stateless response blocks', () => {
  test('static :status matches are one indexed byte; other fields are literals without indexing (§6.2.2)', () => {
    const block = encodeHeaders([
      [':status', '200'], ['content-type', 'application/grpc'], ['grpc-status', '0'],
    ]);
    assert.equal(block.toString('hex'), [
      '88', // :status 200 = static 8
      '0f10', '10', Buffer.from('application/grpc').toString('hex'), // name index 31 = 15 + 16
      '00', '0b', Buffer.from('grpc-status').toString('hex'), '01', '30',
    ].join(''));
    assert.equal(encodeHeaders([[':status', '404']]).toString('hex'), '8d');
    assert.equal(encodeHeaders([[':status', '302']]).toString('hex'), '0803333032'); // name index 8
  });

  test('blocks decode back to the same list and leave the peer table empty', () => {
    const prng = new Prng(9113);
    for (let n = 0; n < 300; n++) {
      const fields: [string, string][] = [[':status', prng.pick(['200', '204', '206', '304', '400', '404', '500', '302', '503'])]];
      for (let i = prng.int(0, 8); i > 0; i--) {
        const name = prng.pick(['content-type', 'grpc-status', 'grpc-message', 'date', 'www-authenticate', 'x-' + 'n'.repeat(prng.int(0, 200))]);
        let value = '';
        for (let j = prng.int(0, prng.chance(0.1) ? 5000 : 40); j > 0; j--) value += String.fromCharCode(prng.int(0, 255));
        fields.push([name, value]);
      }
      const d = new HpackDecoder();
      assert.deepEqual(pairs(d.decode(encodeHeaders(fields), NO_LIMIT)), fields);
      assert.equal(d.dynamicTableSize, 0);
    }
  });

  test('refuses upper-case names and chars above 0xff', () => {
    assert.throws(() => encodeHeaders([['Content-Type', 'x']]), RangeError);
    assert.throws(() => encodeHeaders([['x', '\u20ac']]), RangeError);
  });
});

// --- Cross-check against nghttp2's encoder (node:http2) ---

/** Header blocks (HEADERS + CONTINUATION payloads, joined) from a client's raw bytes (RFC 9113 §4, §6.2, §6.10). */
class BlockCollector {
  private buf = Buffer.alloc(0);
  private prefaceSeen = false;
  private pending: Buffer[] | undefined;
  readonly blocks: Buffer[] = [];

  push(chunk: Buffer): void {
    this.buf = Buffer.concat([this.buf, chunk]);
    if (!this.prefaceSeen) {
      if (this.buf.length < 24) return;
      assert.equal(this.buf.subarray(0, 24).toString('latin1'), 'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n');
      this.buf = this.buf.subarray(24);
      this.prefaceSeen = true;
    }
    while (this.buf.length >= 9) {
      const length = this.buf.readUIntBE(0, 3);
      if (this.buf.length < 9 + length) return;
      this.frame(this.buf[3]!, this.buf[4]!, this.buf.subarray(9, 9 + length));
      this.buf = this.buf.subarray(9 + length);
    }
  }

  private frame(type: number, flags: number, payload: Buffer): void {
    if (type === 1) {
      let start = 0;
      let end = payload.length;
      if (flags & 0x8) end -= payload[start++]!; // PADDED
      if (flags & 0x20) start += 5; // PRIORITY
      this.pending = [payload.subarray(start, end)];
    } else if (type === 9) {
      assert.ok(this.pending, 'CONTINUATION without HEADERS');
      this.pending.push(payload);
    } else {
      return;
    }
    if (flags & 0x4) {
      this.blocks.push(Buffer.concat(this.pending));
      this.pending = undefined;
    }
  }
}

/** Sends requests from a node:http2 client to a raw TCP server; returns the header blocks it received. */
async function captureBlocks(requests: OutgoingHttpHeaders[]): Promise<{ blocks: Buffer[]; port: number }> {
  const collector = new BlockCollector();
  const sockets: Socket[] = [];
  let done!: () => void;
  const allIn = new Promise<void>((resolve) => (done = resolve));
  const server = createServer((socket) => {
    sockets.push(socket);
    socket.on('error', () => {});
    // An empty SETTINGS and an ACK of the client's, so the client has nothing to wait for.
    socket.write(Buffer.from('000000040000000000' + '000000040100000000', 'hex'));
    socket.on('data', (chunk: Buffer) => {
      collector.push(chunk);
      if (collector.blocks.length >= requests.length) done();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  const client = connect(`http://127.0.0.1:${port}`);
  client.on('error', () => {});
  try {
    for (const headers of requests) client.request(headers, { endStream: true }).on('error', () => {});
    await allIn;
  } finally {
    client.destroy();
    for (const s of sockets) s.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
  return { blocks: collector.blocks, port };
}

describe('cross-check: decoding what nghttp2 (node:http2) encodes', () => {
  test('many requests with varied, repeated and long headers decode to what was sent', async () => {
    const prng = new Prng(7540);
    // Field values may hold 0x20-0x7e and 0x80-0xff (RFC 9110 §5.5; node refuses DEL).
    const text = (length: number, low = 0x20, high = 0x7e): string => {
      let s = '';
      for (let i = 0; i < length; i++) {
        const c = prng.int(low, high);
        s += String.fromCharCode(c === 0x7f ? 0x7e : c);
      }
      return s.trim() || 'v';
    };
    const add = (fields: [string, string][], name: string, value: string): void => {
      if (!fields.some(([n]) => n === name)) fields.push([name, value]); // sent as an object: names are distinct
    };
    const reused = Array.from({ length: 12 }, (_, i) => [`x-reused-${i}`, text(prng.int(10, 300))] as const);
    const requests: [string, string][][] = [];
    for (let n = 0; n < 60; n++) {
      const fields: [string, string][] = [[':method', prng.pick(['GET', 'POST', 'PUT'])], [':path', `/etcdserverpb.KV/${text(prng.int(1, 30), 0x61, 0x7a)}`]];
      fields.push(['content-type', 'application/grpc'], ['te', 'trailers']);
      for (let i = prng.int(0, 6); i > 0; i--) add(fields, ...prng.pick(reused)); // the client indexes and refers back
      for (let i = prng.int(0, 3); i > 0; i--) add(fields, `x-fresh-${n}-${i}`, text(prng.int(0, 400))); // fills the table, evicting
      if (prng.chance(0.3)) add(fields, 'x-all-bytes', text(prng.int(50, 300), 0x20, 0xff));
      requests.push(fields);
    }
    requests.push([[':method', 'GET'], [':path', '/big'], ['x-big', text(40000)]]); // needs CONTINUATION frames
    const { blocks, port } = await captureBlocks(requests.map((fields) => Object.fromEntries(fields)));
    assert.equal(blocks.length, requests.length);

    const d = new HpackDecoder();
    let encodedBytes = 0;
    let listBytes = 0;
    const everIndexed = new Map<string, number>();
    blocks.forEach((block, i) => {
      const got = pairs(d.decode(block, NO_LIMIT));
      const want: [string, string][] = [...requests[i]!, [':scheme', 'http'], [':authority', `127.0.0.1:${port}`]];
      const sort = (l: readonly (readonly [string, string])[]): string[] => l.map(([k, v]) => `${k}: ${v}`).sort();
      assert.deepEqual(sort(got), sort(want), `request ${i}`);
      if (i === blocks.length - 1) return; // x-big: random text that barely compresses
      encodedBytes += block.length;
      listBytes += got.reduce((sum, [k, v]) => sum + k.length + v.length, 0);
      assert.ok(d.dynamicTableSize <= 4096);
      for (const [k, v] of d.dynamicTable()) everIndexed.set(`${k}: ${v}`, k.length + v.length + 32);
    });
    // The client used its dynamic table and Huffman: fewer bytes on the wire than in
    // the lists (a plain literal takes more); and it indexed more than fits, so evicted.
    assert.ok(encodedBytes < listBytes * 0.75, `${encodedBytes} encoded bytes for ${listBytes} list bytes`);
    const indexedBytes = [...everIndexed.values()].reduce((a, b) => a + b, 0);
    assert.ok(indexedBytes > 3 * 4096, `only ${indexedBytes} bytes were ever indexed`);
  });
});
