// etcdctl's output formats: simple, json, table.
import { UsageError } from './errors.js';

export type OutputFormat = 'simple' | 'json' | 'table';

export function parseFormat(value: string): OutputFormat {
  if (value === 'simple' || value === 'json' || value === 'table') return value;
  throw new UsageError(`--write-out must be simple, json or table, got '${value}'`);
}

/** A response object as etcdctl's json shows it: bytes in base64, 64-bit numbers as numbers, empty fields left out. */
export function toJson(value: unknown): unknown {
  if (Buffer.isBuffer(value)) return value.length === 0 ? undefined : value.toString('base64');
  if (Array.isArray(value)) return value.length === 0 ? undefined : value.map(toJson);
  if (typeof value === 'string' && /^-?\d+$/.test(value) && value.length < 20) {
    const n = Number(value);
    return n === 0 ? undefined : n;
  }
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      const j = toJson(v);
      if (j !== undefined && j !== false && j !== '') out[k] = j;
    }
    return out;
  }
  if (value === 0) return undefined;
  return value;
}

export function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = '+' + widths.map((w) => '-'.repeat(w + 2)).join('+') + '+';
  const fmt = (cells: readonly string[], center: boolean): string =>
    '|' + cells.map((c, i) => {
      const w = widths[i] ?? 0;
      if (!center) return ` ${c.padEnd(w)} `;
      const left = Math.floor((w - c.length) / 2);
      return ` ${' '.repeat(left)}${c}${' '.repeat(w - c.length - left)} `;
    }).join('|') + '|';
  return [line, fmt(header, true), line, ...rows.map((r) => fmt(r, false)), line].join('\n');
}

export function hexId(id: string | number): string {
  return BigInt(id).toString(16);
}
