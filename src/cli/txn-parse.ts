// etcdctl's transaction text format (`etcdctl txn` reading stdin):
//
//   mod("key1") > "0"          compares, one a line
//   <blank line>
//   put key1 "overwrote-key1"  success requests: get, put, del
//   <blank line>
//   put key1 "created-key1"    failure requests
//
// Parsed into an etcd TxnRequest (field names as in rpc.proto).

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Any = any;

const TARGETS: Record<string, { target: string; field: string; numeric: boolean }> = {
  c: { target: 'CREATE', field: 'create_revision', numeric: true },
  create: { target: 'CREATE', field: 'create_revision', numeric: true },
  m: { target: 'MOD', field: 'mod_revision', numeric: true },
  mod: { target: 'MOD', field: 'mod_revision', numeric: true },
  val: { target: 'VALUE', field: 'value', numeric: false },
  value: { target: 'VALUE', field: 'value', numeric: false },
  ver: { target: 'VERSION', field: 'version', numeric: true },
  version: { target: 'VERSION', field: 'version', numeric: true },
  lease: { target: 'LEASE', field: 'lease', numeric: true },
};
const RESULTS: Record<string, string> = { '=': 'EQUAL', '==': 'EQUAL', '!=': 'NOT_EQUAL', '<': 'LESS', '>': 'GREATER' };

/** Splits a line into words, honouring double quotes with backslash escapes. */
export function words(line: string): string[] {
  const out: string[] = [];
  let i = 0;
  while (i < line.length) {
    if (line[i] === ' ' || line[i] === '\t') { i++; continue; }
    if (line[i] === '"') {
      let s = '';
      i++;
      while (i < line.length && line[i] !== '"') {
        if (line[i] === '\\' && i + 1 < line.length) {
          const next = line[i + 1] as string;
          s += next === 'n' ? '\n' : next === 't' ? '\t' : next;
          i += 2;
        } else s += line[i++];
      }
      if (i >= line.length) throw new Error(`unterminated quote in '${line}'`);
      i++;
      out.push(s);
    } else {
      let s = '';
      while (i < line.length && line[i] !== ' ' && line[i] !== '\t') s += line[i++];
      out.push(s);
    }
  }
  return out;
}

export function parseCompare(line: string): Any {
  const m = /^\s*(\w+)\(\s*"((?:[^"\\]|\\.)*)"\s*\)\s*(=|==|!=|<|>)\s*(.+?)\s*$/.exec(line);
  if (m === null) throw new Error(`bad compare '${line}' (expected e.g. mod("key") > "0")`);
  const t = TARGETS[m[1] as string];
  if (t === undefined) throw new Error(`bad compare target '${m[1]}' (expected one of ${Object.keys(TARGETS).join(', ')})`);
  const [raw] = words(m[4] as string);
  if (raw === undefined) throw new Error(`compare '${line}' has no value`);
  if (t.numeric && !/^\d+$/.test(raw)) throw new Error(`compare '${line}': ${m[1]} needs a whole number, got '${raw}'`);
  const key = Buffer.from(words(`"${m[2]}"`)[0] ?? '');
  return { result: RESULTS[m[3] as string], target: t.target, key, [t.field]: t.numeric ? raw : Buffer.from(raw) };
}

function prefixEndOf(key: Buffer): Buffer {
  const end = Buffer.from(key);
  for (let i = end.length - 1; i >= 0; i--) {
    if ((end[i] as number) < 0xff) {
      end[i] = (end[i] as number) + 1;
      return end.subarray(0, i + 1);
    }
  }
  return Buffer.from([0]);
}

export function parseRequest(line: string): Any {
  const w = words(line);
  const prefix = w.includes('--prefix');
  const args = w.filter((x) => x !== '--prefix');
  const [verb, key, third] = args;
  if (key === undefined) throw new Error(`request '${line}' names no key`);
  const k = Buffer.from(key);
  const end = prefix ? prefixEndOf(k) : third !== undefined ? Buffer.from(third) : Buffer.alloc(0);
  switch (verb) {
    case 'put':
      if (third === undefined || args.length !== 3) throw new Error(`put needs a key and a value: '${line}'`);
      return { request_put: { key: k, value: Buffer.from(third) } };
    case 'get':
      return { request_range: { key: k, range_end: end } };
    case 'del':
    case 'delete':
      return { request_delete_range: { key: k, range_end: end } };
    default:
      throw new Error(`unknown request '${verb ?? ''}' (expected get, put or del)`);
  }
}

export function parseTxn(text: string): Any {
  // Each blank line ends a section, as etcdctl reads it: a leading blank line means "no compares".
  const sections: string[][] = [[], [], []];
  let at = 0;
  for (const raw of text.split('\n')) {
    const line = raw.replace(/\r$/, '');
    if (line.trim() === '') {
      at++;
      continue;
    }
    const section = sections[at];
    if (section === undefined) throw new Error(`text after the failure requests: '${line}'`);
    section.push(line);
  }
  const [compares = [], success = [], failure = []] = sections;
  return {
    compare: compares.map(parseCompare),
    success: success.map(parseRequest),
    failure: failure.map(parseRequest),
  };
}
