// The shareable state of a playground run, kept in the URL hash: the seed,
// protocol, node count, mutant, clients, protocol options and every user
// action with the simulator event index at which it happened. Re-running the
// same seed and applying the same actions at the same event indexes reproduces
// the run exactly (the simulator is deterministic), so a hash is a run.
//
//   #p=raft&n=5&s=7&c=1&m=double-vote&o=preVote:false&a=120c2,300r2&e=450&t=raft.6
//
// Actions (`a`, comma separated): <event><code><args>
//   c<n> crash   r<n> restart   p<n> pause   u<n> resume   t<n> force timeout
//   k<n> one tick   d<id> drop message   q<n> client request to node n
//   x<g> partition into groups g = "0.1-2.3.4"   h heal

export const PROTOCOLS = ['raft', 'paxos', 'multipaxos', '2pc', '3pc', 'paxos-commit'] as const;
export type ProtocolName = (typeof PROTOCOLS)[number];

export type Action =
  | { readonly at: number; readonly kind: 'crash' | 'restart' | 'pause' | 'resume' | 'timeout' | 'tick' | 'request'; readonly node: number }
  | { readonly at: number; readonly kind: 'drop'; readonly id: number }
  | { readonly at: number; readonly kind: 'partition'; readonly groups: readonly (readonly number[])[] }
  | { readonly at: number; readonly kind: 'heal' };

export interface RunSetup {
  readonly protocol: ProtocolName;
  readonly nodes: number;
  readonly seed: number;
  /** Simulated clients running the protocol's workload (0: none). */
  readonly clients: number;
  readonly mutant: string | null;
  readonly options: Readonly<Record<string, string | number | boolean>>;
}

export interface UrlState {
  readonly setup: RunSetup;
  readonly actions: readonly Action[];
  /** The event the run was showing. */
  readonly event: number;
  /** A tour and its step, e.g. "raft.6". */
  readonly tour: string | null;
}

export const MIN_NODES = 3;
export const MAX_NODES = 7;

export const DEFAULT_SETUP: RunSetup = { protocol: 'raft', nodes: 5, seed: 1, clients: 1, mutant: null, options: {} };

const NODE_CODES: Readonly<Record<string, Action['kind']>> = { c: 'crash', r: 'restart', p: 'pause', u: 'resume', t: 'timeout', k: 'tick', q: 'request' };
const CODE_OF: Readonly<Record<string, string>> = Object.fromEntries(Object.entries(NODE_CODES).map(([c, k]) => [k, c]));

export function encodeAction(a: Action): string {
  switch (a.kind) {
    case 'drop':
      return `${a.at}d${a.id}`;
    case 'partition':
      return `${a.at}x${a.groups.map((g) => g.join('.')).join('-')}`;
    case 'heal':
      return `${a.at}h`;
    default:
      return `${a.at}${CODE_OF[a.kind] as string}${a.node}`;
  }
}

export function decodeAction(text: string): Action | null {
  const m = /^(\d+)([a-z])([\d.-]*)$/.exec(text);
  if (m === null) return null;
  const at = Number(m[1]);
  const code = m[2] as string;
  const arg = m[3] as string;
  if (code === 'h') return { at, kind: 'heal' };
  if (code === 'd') return /^\d+$/.test(arg) ? { at, kind: 'drop', id: Number(arg) } : null;
  if (code === 'x') {
    const groups = arg.split('-').map((g) => g.split('.').filter((x) => x !== '').map(Number));
    return groups.every((g) => g.length > 0 && g.every((x) => Number.isInteger(x))) ? { at, kind: 'partition', groups } : null;
  }
  const kind = NODE_CODES[code];
  if (kind === undefined || !/^\d+$/.test(arg)) return null;
  return { at, kind, node: Number(arg) } as Action;
}

function encodeOptions(o: RunSetup['options']): string {
  return Object.entries(o)
    .map(([k, v]) => `${k}:${String(v)}`)
    .join(';');
}

function decodeOptions(text: string): Record<string, string | number | boolean> {
  const out: Record<string, string | number | boolean> = {};
  for (const part of text.split(';')) {
    const k = part.indexOf(':');
    if (k <= 0) continue;
    const raw = part.slice(k + 1);
    out[part.slice(0, k)] = raw === 'true' ? true : raw === 'false' ? false : /^-?\d+(\.\d+)?$/.test(raw) ? Number(raw) : raw;
  }
  return out;
}

export function encodeState(s: UrlState): string {
  const p = new URLSearchParams();
  p.set('p', s.setup.protocol);
  p.set('n', String(s.setup.nodes));
  p.set('s', String(s.setup.seed));
  p.set('c', String(s.setup.clients));
  if (s.setup.mutant !== null) p.set('m', s.setup.mutant);
  const o = encodeOptions(s.setup.options);
  if (o !== '') p.set('o', o);
  if (s.actions.length > 0) p.set('a', s.actions.map(encodeAction).join(','));
  p.set('e', String(s.event));
  if (s.tour !== null) p.set('t', s.tour);
  // URLSearchParams escapes ',' ':' and ';' which are safe in a hash: keep the hash readable.
  return p.toString().replace(/%2C/g, ',').replace(/%3A/g, ':').replace(/%3B/g, ';');
}

function intIn(text: string | null, lo: number, hi: number, fallback: number): number {
  if (text === null || !/^\d+$/.test(text)) return fallback;
  const n = Number(text);
  return n >= lo && n <= hi ? n : fallback;
}

/** Reads a hash; anything missing or malformed falls back to the defaults. */
export function decodeState(hash: string): UrlState {
  const p = new URLSearchParams(hash.replace(/^#/, ''));
  const proto = p.get('p');
  const protocol = (PROTOCOLS as readonly string[]).includes(proto ?? '') ? (proto as ProtocolName) : DEFAULT_SETUP.protocol;
  const setup: RunSetup = {
    protocol,
    nodes: intIn(p.get('n'), MIN_NODES, MAX_NODES, DEFAULT_SETUP.nodes),
    seed: intIn(p.get('s'), 0, Number.MAX_SAFE_INTEGER, DEFAULT_SETUP.seed),
    clients: intIn(p.get('c'), 0, 20, DEFAULT_SETUP.clients),
    mutant: p.get('m'),
    options: decodeOptions(p.get('o') ?? ''),
  };
  const actions: Action[] = [];
  for (const part of (p.get('a') ?? '').split(',')) {
    const a = part === '' ? null : decodeAction(part);
    if (a !== null) actions.push(a);
  }
  actions.sort((x, y) => x.at - y.at);
  return { setup, actions, event: intIn(p.get('e'), 0, Number.MAX_SAFE_INTEGER, 0), tour: p.get('t') };
}

/** An action before it is given its event index. */
export type ActionInput = Action extends infer A ? (A extends Action ? Omit<A, 'at'> : never) : never;
