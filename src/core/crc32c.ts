// CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), the checksum of every
// WAL record and snapshot file, and of HashKV. Slicing-by-8: eight 256-entry tables let the
// inner loop consume eight bytes per step. Written here rather than taken from
// a package because the WAL's integrity rests on it; test vectors are in
// test/storage/crc32c.test.ts (RFC 3720 appendix B.4 and the "123456789" check value).

const POLY = 0x82f63b78;

function buildTables(): Uint32Array[] {
  const tables: Uint32Array[] = [];
  const t0 = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ POLY : c >>> 1;
    t0[n] = c >>> 0;
  }
  tables.push(t0);
  for (let t = 1; t < 8; t++) {
    const prev = tables[t - 1]!;
    const cur = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      const p = prev[n]!;
      cur[n] = ((p >>> 8) ^ t0[p & 0xff]!) >>> 0;
    }
    tables.push(cur);
  }
  return tables;
}

const [T0, T1, T2, T3, T4, T5, T6, T7] = buildTables() as [
  Uint32Array, Uint32Array, Uint32Array, Uint32Array, Uint32Array, Uint32Array, Uint32Array, Uint32Array,
];

/**
 * Continues a CRC-32C over `data[start, end)`. Pass the result of a previous call as
 * `crc` to checksum several pieces as one; start from 0.
 */
export function crc32c(data: Uint8Array, crc = 0, start = 0, end = data.length): number {
  let c = ~crc >>> 0;
  let i = start;
  // Byte-at-a-time until eight bytes remain aligned to the loop's stride.
  const stop8 = end - ((end - i) & 7);
  while (i < stop8) {
    const lo = (c ^ (data[i]! | (data[i + 1]! << 8) | (data[i + 2]! << 16) | (data[i + 3]! << 24))) >>> 0;
    c =
      T7[lo & 0xff]! ^
      T6[(lo >>> 8) & 0xff]! ^
      T5[(lo >>> 16) & 0xff]! ^
      T4[lo >>> 24]! ^
      T3[data[i + 4]!]! ^
      T2[data[i + 5]!]! ^
      T1[data[i + 6]!]! ^
      T0[data[i + 7]!]!;
    i += 8;
  }
  while (i < end) {
    c = (c >>> 8) ^ T0[(c ^ data[i]!) & 0xff]!;
    i++;
  }
  return ~c >>> 0;
}

/** The simple bytewise algorithm, kept as the reference the fast path is tested against. */
export function crc32cBytewise(data: Uint8Array, crc = 0): number {
  let c = ~crc >>> 0;
  for (let i = 0; i < data.length; i++) c = (c >>> 8) ^ T0[(c ^ data[i]!) & 0xff]!;
  return ~c >>> 0;
}
