// Parsing of the simulator's command-line values (pure; the CLI turns an
// OptionError into a usage error, exit code 2).

export class OptionError extends Error {
  override readonly name = 'OptionError';
}

/** Largest seed accepted: seeds are safe integers. */
const MAX_SEED = Number.MAX_SAFE_INTEGER;

function parseSeed(text: string, what: string): number {
  if (!/^\d+$/.test(text)) throw new OptionError(`${what} must be a non-negative integer, got '${text}'`);
  const n = Number(text);
  if (!Number.isSafeInteger(n) || n > MAX_SEED) throw new OptionError(`${what} is too large: ${text}`);
  return n;
}

/** `--seed N` */
export function parseSeedOption(text: string): number {
  return parseSeed(text.trim(), '--seed');
}

/** `--seeds A..B` (inclusive); a single number is one seed. */
export function parseSeedRange(text: string): { from: number; to: number } {
  const t = text.trim();
  const m = /^(\d+)\.\.(\d+)$/.exec(t);
  if (m === null) {
    if (/^\d+$/.test(t)) {
      const s = parseSeed(t, '--seeds');
      return { from: s, to: s };
    }
    throw new OptionError(`--seeds must look like A..B (e.g. 1..100), got '${text}'`);
  }
  const from = parseSeed(m[1] as string, '--seeds start');
  const to = parseSeed(m[2] as string, '--seeds end');
  if (to < from) throw new OptionError(`--seeds ${text}: the end is before the start`);
  return { from, to };
}

const UNITS: Readonly<Record<string, number>> = { ms: 1, s: 1000, m: 60_000 };

/** `--duration 10s | 500ms | 2m | 1.5s` -> virtual milliseconds (an integer, 1 ms to 1 hour). */
export function parseDuration(text: string, what = '--duration'): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m)$/.exec(text.trim());
  if (m === null) throw new OptionError(`${what} must be a number with a unit ms, s or m (e.g. 10s, 500ms), got '${text}'`);
  const ms = Math.round(Number(m[1]) * (UNITS[m[2] as string] as number));
  if (ms < 1 || ms > 3_600_000) throw new OptionError(`${what} must be between 1ms and 60m, got '${text}'`);
  return ms;
}

export function parseCount(text: string, what: string, min: number, max: number): number {
  const t = text.trim();
  if (!/^\d+$/.test(t)) throw new OptionError(`${what} must be an integer, got '${text}'`);
  const n = Number(t);
  if (n < min || n > max) throw new OptionError(`${what} must be between ${min} and ${max}, got ${n}`);
  return n;
}

/** `--mutant a,b` checked against the protocol's mutants. */
export function parseMutants(text: string | undefined, known: Readonly<Record<string, string>>, protocol: string): Set<string> {
  const out = new Set<string>();
  if (text === undefined) return out;
  for (const part of text.split(',')) {
    const name = part.trim();
    if (name === '') continue;
    if (!Object.hasOwn(known, name)) {
      const list = Object.keys(known);
      throw new OptionError(`protocol '${protocol}' has no mutant '${name}' (${list.length === 0 ? 'it has none' : `known: ${list.join(', ')}`})`);
    }
    out.add(name);
  }
  return out;
}

/** `--option key=value` (repeatable): protocol options; 'true'/'false' become booleans, decimal numbers numbers, the rest strings. */
export function parseProtocolOptions(items: readonly string[], known: Readonly<Record<string, string>> | undefined, protocol: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const item of items) {
    const m = /^([A-Za-z][A-Za-z0-9_.-]*)=(.*)$/.exec(item.trim());
    if (m === null) throw new OptionError(`--option must look like key=value (e.g. checkQuorum=false), got '${item}'`);
    const key = m[1] as string;
    const text = (m[2] as string).trim();
    if (known !== undefined && !Object.hasOwn(known, key)) {
      throw new OptionError(`protocol '${protocol}' has no option '${key}' (known: ${Object.keys(known).join(', ')})`);
    }
    if (Object.hasOwn(out, key)) throw new OptionError(`--option ${key} given twice`);
    out[key] = text === 'true' ? true : text === 'false' ? false : /^-?\d+(\.\d+)?$/.test(text) ? Number(text) : text;
  }
  return out;
}

/** Formats protocol options back into `--option key=value` words (the replay command). */
export function formatProtocolOptions(options: Readonly<Record<string, unknown>>): string[] {
  return Object.keys(options).sort().map((k) => `--option ${k}=${String(options[k])}`);
}
