// The SVG picture: nodes on a circle (role, term or ballot, election timer,
// votes, log with committed and uncommitted entries, the leader's next/match
// per follower, key-value state or transactions), cut links of a partition,
// and the messages in flight, moving from sender to receiver as virtual time
// passes, coloured by type, their content on hover, dropped on click.

import type { InFlightMessage } from '../../src/sim/simulation.js';
import type { NodeDisplay } from './inspect.js';

export const WIDTH = 1000;
export const HEIGHT = 720;
const CX = WIDTH / 2;
const CY = HEIGHT / 2 - 10;
const NODE_R = 40;

const SVG_NS = 'http://www.w3.org/2000/svg';

const ROLE_COLOURS: Readonly<Record<string, string>> = {
  leader: '#f2b632',
  candidate: '#f07c3c',
  precandidate: '#f7b27a',
  follower: '#5b8fd6',
  learner: '#9bb7dd',
  proposer: '#f07c3c',
  acceptor: '#5b8fd6',
  down: '#9a9a9a',
};

const MESSAGE_COLOURS: Readonly<Record<string, string>> = {
  RequestVote: '#f07c3c', RequestVoteResponse: '#c2571a', PreVote: '#f7b27a', PreVoteResponse: '#d88c4c',
  AppendEntries: '#2c9c5a', AppendEntriesResponse: '#1c6b3c', Heartbeat: '#8fc9a3', HeartbeatResponse: '#6aa07e',
  prepare: '#7b4fd6', promise: '#b58cf0', accept: '#2c9c5a', accepted: '#1c6b3c', nack: '#d43c3c', chosen: '#f2b632', heartbeat: '#8fc9a3', 'heartbeat-ack': '#6aa07e', release: '#e07bb0', ask: '#999',
  'vote-request': '#7b4fd6', vote: '#b58cf0', decision: '#f2b632', 'decision-request': '#d43c3c', 'pre-commit': '#2c9c5a', ack: '#1c6b3c',
};

export function messageColour(type: string): string {
  const known = MESSAGE_COLOURS[type];
  if (known !== undefined) return known;
  let h = 0;
  for (let i = 0; i < type.length; i++) h = (h * 31 + type.charCodeAt(i)) >>> 0;
  return `hsl(${h % 360} 55% 45%)`;
}

export function roleColour(role: string): string {
  // Commit protocols: a node hosting a resource manager is a participant; the others coordinate.
  if (role.includes('+') || role === 'participant' || role === 'coordinator') return role.includes('participant') ? ROLE_COLOURS['follower'] as string : ROLE_COLOURS['leader'] as string;
  return ROLE_COLOURS[role] ?? '#5b8fd6';
}

const SHORT_ROLES: Readonly<Record<string, string>> = { leader: 'ldr', acceptor: 'acc', participant: 'rm', coordinator: 'coord' };

/** A role that fits in the node: "leader+acceptor+participant" -> "ldr·acc·rm". */
function roleLabel(role: string): string {
  if (role.length <= 12) return role;
  return role.split('+').map((r) => SHORT_ROLES[r] ?? r).join('·');
}

export interface Point {
  readonly x: number;
  readonly y: number;
}

/**
 * Where the nodes go: one circle, or (during a partition) one circle per group
 * of nodes that reach each other, side by side, so the split is seen at once.
 */
export function layout(n: number, groups: readonly (readonly number[])[] | null): { pos: Point[]; centres: Point[] } {
  const pos: Point[] = new Array<Point>(n);
  const parts = groups === null || groups.length < 2 ? [[...Array(n).keys()]] : groups;
  const centres: Point[] = [];
  parts.forEach((g, k) => {
    const c = { x: (WIDTH * (k + 0.5)) / parts.length, y: CY };
    const r = parts.length === 1 ? 255 : g.length === 1 ? 0 : Math.min(200, WIDTH / (2 * parts.length) - 110);
    centres.push(c);
    g.forEach((node, j) => {
      const a = -Math.PI / 2 + (2 * Math.PI * j) / g.length;
      pos[node] = { x: c.x + Math.cos(a) * r, y: c.y + Math.sin(a) * r };
    });
  });
  return { pos, centres };
}

export function nodePosition(i: number, n: number): Point {
  return layout(n, null).pos[i] as Point;
}

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

const TERM_HUES = [210, 30, 140, 280, 0, 90, 330, 180];

function termColour(term: number | null, committed: boolean): string {
  const hue = TERM_HUES[(term ?? 0) % TERM_HUES.length] as number;
  return committed ? `hsl(${hue} 55% 55%)` : `hsl(${hue} 55% 92%)`;
}

/** Where a node's side panel (log, state) goes: outside the circle. */
function panelAnchor(p: Point, centre: Point): { x: number; y: number; left: boolean } {
  // Outside the node's group circle, but never off the picture.
  const left = p.x > WIDTH - 230 || (p.x >= 230 && (p.x < centre.x - 20 || (p.x <= centre.x + 20 && centre.x > CX)));
  return { x: left ? p.x - 60 - 170 : p.x + 60, y: p.y - 22, left };
}

function logSvg(d: NodeDisplay, x: number, y: number): string {
  let out = '';
  const w = 16;
  d.log.forEach((c, k) => {
    const cx = x + k * (w + 2);
    out += `<rect class="log-cell ${c.committed ? 'committed' : 'uncommitted'}" x="${cx}" y="${y}" width="${w}" height="16" rx="2" fill="${termColour(c.term, c.committed)}" stroke="${c.committed ? '#333' : '#888'}" stroke-dasharray="${c.committed ? '' : '3 2'}"><title>index ${c.index}${c.term === null ? '' : `, term ${c.term}`}, ${c.committed ? 'committed' : 'not committed'}</title></rect>`;
    if (c.term !== null) out += `<text x="${cx + w / 2}" y="${y + 12}" class="cell-text">${c.term}</text>`;
  });
  return out;
}

function nodeSvg(d: NodeDisplay, p: Point): string {
  const colour = d.status === 'down' ? ROLE_COLOURS['down'] : roleColour(d.role);
  let g = `<g class="node" data-node="${d.id}" data-role="${esc(d.role)}" data-status="${d.status}" data-commit="${d.commitIndex}" data-last="${d.lastIndex}" transform="translate(${p.x},${p.y})">`;
  if (d.timer !== null && d.status !== 'down') {
    const c = 2 * Math.PI * (NODE_R + 7);
    g += `<circle class="timer-bg" r="${NODE_R + 7}" />`;
    g += `<circle class="timer" r="${NODE_R + 7}" stroke-dasharray="${(c * (1 - d.timer)).toFixed(1)} ${c.toFixed(1)}" transform="rotate(-90)"><title>election timer: ${Math.round(d.timer * 100)}% run down</title></circle>`;
  }
  g += `<circle class="body${d.status === 'paused' ? ' paused' : ''}" r="${NODE_R}" fill="${colour}" />`;
  g += `<text class="node-id" y="-12">n${d.id}</text>`;
  g += `<title>n${d.id}: ${esc(d.role)}${d.status === 'paused' ? ' (paused)' : ''} — click for actions, drag to partition</title>`;
  g += `<text class="node-role" y="4">${esc(d.status === 'paused' ? `${roleLabel(d.role)} (paused)` : roleLabel(d.role))}</text>`;
  g += `<text class="node-badge" y="18">${esc(d.badge)}</text>`;
  if (d.votedFor !== null && d.status !== 'down') g += `<text class="node-vote" y="${NODE_R + 22}">voted n${d.votedFor}</text>`;
  d.votesGranted.forEach((v, k) => {
    g += `<g transform="translate(${-NODE_R + k * 15},${-NODE_R - 14})"><circle r="6" class="vote-dot"/><text class="vote-text" y="3">${v}</text></g>`;
  });
  return g + '</g>';
}

function panelSvg(d: NodeDisplay, p: Point, centre: Point): string {
  if (d.status === 'down') return '';
  const a = panelAnchor(p, centre);
  let out = `<g class="panel" data-panel="${d.id}">`;
  let y = a.y;
  if (d.log.length > 0 || d.lastIndex > 0) {
    out += `<text class="panel-text" x="${a.x}" y="${y - 4}">log last ${d.lastIndex} · commit ${d.commitIndex}</text>`;
    out += logSvg(d, a.x, y);
    y += 30;
  }
  // The leader's next/match index per follower (Raft §5.3), two followers a line.
  for (let k = 0; k < d.progress.length; k += 2) {
    const line = d.progress.slice(k, k + 2).map((p) => `n${p.node} next ${p.next} match ${p.match}`).join(' · ');
    out += `<text class="panel-text small progress" x="${a.x}" y="${y}">${esc(line)}</text>`;
    y += 13;
  }
  if (d.kv !== null) {
    const kv = Object.entries(d.kv).map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(' ');
    out += `<text class="panel-text small kv" x="${a.x}" y="${y}">${esc(kv === '' ? 'kv: {}' : `kv: ${kv.length > 48 ? kv.slice(0, 47) + '…' : kv}`)}</text>`;
    y += 14;
  }
  for (const line of d.lines) {
    out += `<text class="panel-text small" x="${a.x}" y="${y}">${esc(line)}</text>`;
    y += 14;
  }
  for (const t of d.txs) {
    const cls = t.outcome === 'commit' ? 'tx-commit' : t.outcome === 'abort' ? 'tx-abort' : t.inDoubt ? 'tx-doubt' : 'tx-open';
    out += `<text class="panel-text small ${cls}" x="${a.x}" y="${y}">${esc(`${t.tx}: ${t.state}${t.inDoubt ? ' (in doubt)' : ''}`)}</text>`;
    y += 14;
  }
  return out + '</g>';
}

export class Picture {
  readonly svg: SVGSVGElement;
  private readonly links: SVGGElement;
  private readonly nodes: SVGGElement;
  private readonly messages: SVGGElement;
  private readonly pool = new Map<number, SVGCircleElement>();
  private lastNodesHtml: string | null = null;
  private lastLinks: string | null = null;

  constructor(host: HTMLElement, private readonly onMessageClick: (id: number) => void) {
    this.svg = document.createElementNS(SVG_NS, 'svg');
    this.svg.setAttribute('viewBox', `0 0 ${WIDTH} ${HEIGHT}`);
    this.svg.setAttribute('id', 'picture');
    this.links = document.createElementNS(SVG_NS, 'g');
    this.nodes = document.createElementNS(SVG_NS, 'g');
    this.messages = document.createElementNS(SVG_NS, 'g');
    this.messages.setAttribute('class', 'messages');
    this.svg.append(this.links, this.nodes, this.messages);
    host.append(this.svg);
    this.messages.addEventListener('click', (ev) => {
      const id = (ev.target as Element).getAttribute('data-msg');
      if (id !== null) this.onMessageClick(Number(id));
    });
  }

  /** Forget what was drawn: the next draw rebuilds the nodes and links (e.g. after a drag moved one). */
  invalidate(): void {
    this.lastNodesHtml = null;
    this.lastLinks = null;
  }

  /** Node positions now, and the centre of each node's group. */
  private pos: Point[] = [];
  private centreOf: Point[] = [];

  /** Lays the nodes out: one circle, or one per group of a partition. */
  setLayout(n: number, groups: readonly (readonly number[])[] | null): void {
    const l = layout(n, groups);
    this.pos = l.pos;
    const parts = groups === null || groups.length < 2 ? [[...Array(n).keys()]] : groups;
    this.centreOf = new Array<Point>(n);
    parts.forEach((g, k) => g.forEach((node) => (this.centreOf[node] = l.centres[k] as Point)));
  }

  positions(): readonly Point[] {
    return this.pos;
  }

  drawNodes(displays: readonly NodeDisplay[]): void {
    if (this.pos.length !== displays.length) this.setLayout(displays.length, null);
    const html = displays.map((d) => nodeSvg(d, this.pos[d.id] as Point)).join('') + displays.map((d) => panelSvg(d, this.pos[d.id] as Point, this.centreOf[d.id] as Point)).join('');
    if (html !== this.lastNodesHtml) {
      this.nodes.innerHTML = html;
      this.lastNodesHtml = html;
    }
  }

  /**
   * A partition: a wall between the groups when they are laid out side by
   * side, else (one-way or overlapping cuts) each cut link as a dashed line.
   */
  drawLinks(n: number, groups: number, blocked: (a: number, b: number) => boolean): void {
    let html = '';
    if (groups >= 2) {
      for (let k = 1; k < groups; k++) {
        const x = (WIDTH * k) / groups;
        html += `<line class="wall" x1="${x}" y1="20" x2="${x}" y2="${HEIGHT - 20}"><title>partition: no message crosses</title></line>`;
      }
    } else {
      for (let a = 0; a < n; a++) {
        for (let b = a + 1; b < n; b++) {
          if (!blocked(a, b) && !blocked(b, a)) continue;
          const p = this.pos[a] ?? nodePosition(a, n);
          const q = this.pos[b] ?? nodePosition(b, n);
          html += `<line class="cut" x1="${p.x}" y1="${p.y}" x2="${q.x}" y2="${q.y}"><title>link n${a}–n${b} cut${blocked(a, b) && blocked(b, a) ? '' : ' one way'}</title></line>`;
        }
      }
    }
    if (html !== this.lastLinks) {
      this.links.innerHTML = html;
      this.lastLinks = html;
    }
  }

  /** Moves every message in flight to where it is at virtual time `t`. */
  drawMessages(msgs: readonly InFlightMessage[], n: number, t: number): void {
    const seen = new Set<number>();
    for (const m of msgs) {
      seen.add(m.id);
      let c = this.pool.get(m.id);
      if (c === undefined) {
        c = document.createElementNS(SVG_NS, 'circle');
        c.setAttribute('r', '7');
        c.setAttribute('class', 'msg');
        c.setAttribute('data-msg', String(m.id));
        c.setAttribute('data-type', m.msg.type);
        c.setAttribute('fill', messageColour(m.msg.type));
        const title = document.createElementNS(SVG_NS, 'title');
        title.textContent = `#${m.id} n${m.from} → n${m.to} ${summarise(m.msg)}\n(click to drop)`;
        c.append(title);
        this.messages.append(c);
        this.pool.set(m.id, c);
      }
      const p = this.pos[m.from] ?? nodePosition(m.from, n);
      const q = this.pos[m.to] ?? nodePosition(m.to, n);
      const span = m.deliverAt - m.sentAt;
      const f = span <= 0 ? 1 : Math.max(0, Math.min(1, (t - m.sentAt) / span));
      // Start and end at the node's rim, not its centre.
      const dx = q.x - p.x;
      const dy = q.y - p.y;
      const len = Math.hypot(dx, dy) || 1;
      const r0 = NODE_R / len;
      const g = r0 + f * (1 - 2 * r0);
      c.setAttribute('cx', (p.x + dx * g).toFixed(1));
      c.setAttribute('cy', (p.y + dy * g).toFixed(1));
    }
    for (const [id, c] of this.pool) {
      if (!seen.has(id)) {
        c.remove();
        this.pool.delete(id);
      }
    }
  }

  clearMessages(): void {
    for (const c of this.pool.values()) c.remove();
    this.pool.clear();
  }
}

/** A message's content for the hover text, with long arrays shortened. */
export function summarise(msg: unknown): string {
  const text = JSON.stringify(msg, (_k, v: unknown) => (Array.isArray(v) && v.length > 4 ? [...v.slice(0, 4), `…${v.length - 4} more`] : v));
  return text.length > 400 ? text.slice(0, 399) + '…' : text;
}
