// The playground's page: builds a Session from the URL hash (or a tour),
// runs it in virtual time under requestAnimationFrame, draws it, and wires
// the controls. Everything the page shows comes from the simulator.

import { inspect } from './inspect.js';
import { parsePartition, partitionGroups, regroup, wireDrag } from './partition-ui.js';
import { messageColour, Picture } from './render.js';
import { Session, type Linearizability } from './session.js';
import { TOURS, TourRun, type Tour } from './tours.js';
import { decodeState, DEFAULT_SETUP, encodeState, MAX_NODES, MIN_NODES, PROTOCOLS, type Action, type ActionInput, type ProtocolName, type RunSetup } from './url.js';

const $ = <T extends HTMLElement>(id: string): T => {
  const el = document.getElementById(id);
  if (el === null) throw new Error(`missing #${id}`);
  return el as T;
};

interface State {
  session: Session;
  tour: TourRun | null;
  playing: boolean;
  /** Virtual time shown, ms (>= the time of the last event run). */
  vt: number;
  /** Virtual ms per real ms. */
  speed: number;
  lang: 'en' | 'zh';
  drawnEvent: number;
  lin: Linearizability;
  linCheckedAt: number;
  linEvent: number;
  pendingScrub: number | null;
}

/** Protocols whose clients run the kv workload, checked for linearizability. */
const KV_PROTOCOLS: readonly string[] = ['raft', 'multipaxos'];

const picture = new Picture($('stage'), (id) => dropMessage(id));
let st = undefined as unknown as State;

function speedFromSlider(): number {
  return 10 ** Number($<HTMLInputElement>('speed').value);
}

function newState(session: Session, tour: TourRun | null): State {
  return { session, tour, playing: false, vt: session.sim.now(), speed: speedFromSlider(), lang: st?.lang ?? 'en', drawnEvent: -1, lin: { result: 'none', detail: '' }, linCheckedAt: 0, linEvent: -1, pendingScrub: null };
}

// ---- loading --------------------------------------------------------------

function load(hash: string): void {
  const u = decodeState(hash);
  const tourId = u.tour?.split('.')[0] ?? null;
  const tour = TOURS.find((t) => t.id === tourId);
  if (tour !== undefined) {
    startTour(tour, Number(u.tour?.split('.')[1] ?? 0));
    return;
  }
  let session: Session;
  try {
    session = new Session(u.setup, u.actions);
  } catch {
    session = new Session(DEFAULT_SETUP, []);
  }
  session.goTo(u.event);
  st = newState(session, null);
  syncInputs();
  redraw();
}

function startTour(tour: Tour, step: number): void {
  const session = new Session(tour.setup, [], true);
  const run = new TourRun(tour, session);
  st = newState(session, run);
  run.goTo(step);
  st.vt = session.sim.now();
  syncInputs();
  redraw();
}

function startRun(setup: RunSetup): void {
  st = newState(new Session(setup, []), null);
  picture.clearMessages();
  syncInputs();
  redraw();
}

// ---- inputs ---------------------------------------------------------------

function fillSelect(sel: HTMLSelectElement, items: readonly (readonly [string, string])[]): void {
  sel.innerHTML = items.map(([v, label]) => `<option value="${v}">${label}</option>`).join('');
}

function syncInputs(): void {
  const s = st.session.setup;
  $<HTMLSelectElement>('protocol').value = s.protocol;
  $<HTMLSelectElement>('nodes').value = String(s.nodes);
  $<HTMLInputElement>('seed').value = String(s.seed);
  $<HTMLSelectElement>('clients').value = String(s.clients);
  fillMutants(s.protocol);
  $<HTMLSelectElement>('mutant').value = s.mutant ?? '';
  $<HTMLSelectElement>('tour').value = st.tour?.tour.id ?? '';
  const names = st.session.spec.invariants().map((i) => i.name);
  $('invariants').innerHTML = names.map((n) => `<li data-invariant="${n}" class="ok">${n}</li>`).join('');
  $('tour-panel').hidden = st.tour === null;
  $('violation').hidden = true;
}

function fillMutants(protocol: string): void {
  const spec = new Session({ ...DEFAULT_SETUP, protocol: protocol as ProtocolName, clients: 0 }, []).spec;
  fillSelect($('mutant'), [['', 'none'], ...Object.keys(spec.mutants).map((m) => [m, m] as const)]);
  $<HTMLSelectElement>('mutant').title = Object.entries(spec.mutants).map(([k, v]) => `${k}: ${v}`).join('\n');
}

function setupFromInputs(): RunSetup {
  const protocol = $<HTMLSelectElement>('protocol').value as ProtocolName;
  const mutant = $<HTMLSelectElement>('mutant').value;
  return {
    protocol,
    nodes: Number($<HTMLSelectElement>('nodes').value),
    seed: Math.max(0, Math.floor(Number($<HTMLInputElement>('seed').value) || 0)),
    clients: Number($<HTMLSelectElement>('clients').value),
    mutant: mutant === '' ? null : mutant,
    options: {},
  };
}

// ---- actions --------------------------------------------------------------

function act(a: ActionInput): void {
  // Acting by hand leaves the tour: the run (tour actions included) is the user's now, and its URL says so.
  if (st.tour !== null) endTour();
  st.session.act({ ...a, at: st.session.events } as Action);
  st.vt = Math.max(st.vt, st.session.sim.now());
  redraw();
}

function endTour(): void {
  st.tour = null;
  $('tour-panel').hidden = true;
  $<HTMLSelectElement>('tour').value = '';
}

function dropMessage(id: number): void {
  if (st.session.sim.inFlight().some((m) => m.id === id)) act({ kind: 'drop', id });
}

function leaderOrZero(): number {
  const v = st.session.sim.views().findIndex((x) => x.role === 'leader');
  return v < 0 ? 0 : v;
}

function showNodeMenu(node: number, x: number, y: number): void {
  const menu = $('node-menu');
  const status = st.session.sim.status(node);
  const items: [string, () => void][] = [];
  if (status === 'down') items.push(['restart', () => act({ kind: 'restart', node })]);
  else {
    items.push(['crash', () => act({ kind: 'crash', node })]);
    if (status === 'paused') items.push(['resume', () => act({ kind: 'resume', node })]);
    else items.push(['pause', () => act({ kind: 'pause', node })]);
    items.push(['force timeout', () => act({ kind: 'timeout', node })], ['one tick', () => act({ kind: 'tick', node })]);
  }
  items.push(['client request here', () => act({ kind: 'request', node })]);
  items.push(['isolate', () => act({ kind: 'partition', groups: [[node], st.session.sim.members.filter((m) => m !== node).map(Number)] })]);
  menu.innerHTML = `<div class="menu-title">n${node} (${status})</div>` + items.map(([label], k) => `<button data-k="${k}">${label}</button>`).join('');
  menu.querySelectorAll('button').forEach((b) =>
    b.addEventListener('click', () => {
      items[Number(b.dataset['k'])]?.[1]();
      menu.hidden = true;
    }),
  );
  menu.style.left = `${x}px`;
  menu.style.top = `${y}px`;
  menu.hidden = false;
}

// ---- drawing --------------------------------------------------------------

let layoutKey = '';

function redraw(): void {
  st.drawnEvent = -1;
  picture.invalidate();
  draw();
}

function draw(): void {
  const s = st.session;
  const sim = s.sim;
  if (st.drawnEvent !== s.events) {
    const groups = partitionGroups(sim);
    const key = JSON.stringify(groups);
    if (key !== layoutKey) {
      picture.setLayout(sim.n, groups);
      picture.clearMessages();
      layoutKey = key;
    }
    picture.drawNodes(inspect(sim, s.setup.protocol));
    picture.drawLinks(sim.n, groups?.length ?? 0, (a, b) => sim.network.isBlocked(a, b));
    $('event-log').textContent = s.logLines(60).join('\n');
    const tl = $<HTMLInputElement>('timeline');
    tl.max = String(s.maxEvent);
    tl.value = String(s.events);
    drawSafety();
    drawTour();
    st.drawnEvent = s.events;
    history.replaceState(null, '', `#${encodeState({ setup: s.setup, actions: s.allActions, event: s.events, tour: st.tour === null ? null : `${st.tour.tour.id}.${st.tour.step}` })}`);
  }
  picture.drawMessages(sim.inFlight(), sim.n, st.vt);
  $('clock').textContent = `event ${s.events} · ${st.vt.toFixed(1)} ms`;
  $('play').textContent = st.playing ? '❚❚ pause' : '▶ play';
  document.body.dataset['events'] = String(s.events);
}

function drawSafety(): void {
  const v = st.session.sim.violation;
  for (const li of $('invariants').querySelectorAll('li')) {
    const bad = v !== null && v.invariant === li.dataset['invariant'];
    li.className = bad ? 'bad' : 'ok';
  }
  const box = $('violation');
  if (v !== null) {
    box.hidden = false;
    box.innerHTML = '';
    const head = document.createElement('div');
    head.textContent = `VIOLATION at event ${v.event} (${v.timeMs.toFixed(1)} ms): ${v.invariant}`;
    const msg = document.createElement('pre');
    msg.textContent = v.message;
    const before = document.createElement('button');
    before.textContent = `show event ${v.event - 1} (just before)`;
    before.addEventListener('click', () => scrubTo(v.event - 1));
    box.append(head, msg, before);
  } else if (st.lin.result === 'illegal') {
    box.hidden = false;
    box.textContent = `VIOLATION: linearizability (checked at event ${st.linEvent}): ${st.lin.detail}`;
  } else box.hidden = true;
  const lin = $('linearizability');
  lin.className = `lin-${st.lin.result}`;
  const kvProtocol = KV_PROTOCOLS.includes(st.session.setup.protocol);
  lin.textContent = !kvProtocol
    ? 'linearizability: not a key-value protocol (its invariants above are its safety checks)'
    : st.session.workload === null
      ? 'linearizability: no clients in this run'
      : st.lin.result === 'none'
        ? 'linearizability: checking…'
        : `linearizability: ${st.lin.result} — ${st.lin.detail}`;
}

function drawTour(): void {
  const t = st.tour;
  if (t === null) return;
  const step = t.tour.steps[t.step];
  $('tour-title').textContent = t.tour.title;
  $('tour-progress').innerHTML = t.tour.steps.map((_, k) => `<span class="${k === t.step ? 'now' : k < t.step ? 'done' : ''}" data-step="${k}"></span>`).join('') + `<em>${t.step + 1} / ${t.tour.steps.length}</em>`;
  const caption = $('tour-caption');
  caption.textContent = t.error ?? (step === undefined ? '' : st.lang === 'en' ? step.en : step.zh);
  caption.dataset['step'] = String(t.step);
}

function tourGo(delta: number): void {
  const t = st.tour;
  if (t === null) return;
  st.playing = false;
  t.goTo(t.step + delta);
  st.vt = st.session.sim.now();
  redraw();
}

function scrubTo(n: number): void {
  st.playing = false;
  st.pendingScrub = n;
}

function checkLinearizability(now: number): void {
  const s = st.session;
  if (s.workload === null || !KV_PROTOCOLS.includes(s.setup.protocol)) return;
  if (now - st.linCheckedAt < 1500 || st.linEvent === s.events) return;
  st.linCheckedAt = now;
  st.linEvent = s.events;
  st.lin = s.linearizability();
  if (st.lin.result === 'illegal') st.playing = false;
  st.drawnEvent = -1;
}

// ---- the loop ---------------------------------------------------------------

let lastFrame = performance.now();

function frame(now: number): void {
  const dt = Math.min(100, now - lastFrame);
  lastFrame = now;
  if (st.pendingScrub !== null) {
    st.session.goTo(st.pendingScrub);
    st.pendingScrub = null;
    st.vt = st.session.sim.now();
  }
  if (st.playing) {
    st.vt += dt * st.speed;
    if (!st.session.runTo(st.vt)) st.playing = false;
    // After a budget cut, do not let the picture run ahead of the simulation.
    const next = st.session.sim.nextEventTime();
    if (next !== null && next < st.vt) st.vt = next;
    if (st.session.sim.violation !== null) st.playing = false;
  }
  checkLinearizability(now);
  draw();
  requestAnimationFrame(frame);
}

// ---- wiring -----------------------------------------------------------------

function wire(): void {
  fillSelect($('protocol'), PROTOCOLS.map((p) => [p, p] as const));
  fillSelect($('nodes'), Array.from({ length: MAX_NODES - MIN_NODES + 1 }, (_, k) => [String(k + MIN_NODES), String(k + MIN_NODES)] as const));
  fillSelect($('clients'), [0, 1, 2, 3, 5].map((c) => [String(c), String(c)] as const));
  fillSelect($('tour'), [['', '—'], ...TOURS.map((t) => [t.id, t.title] as const)]);
  $('legend-items').innerHTML = ['RequestVote', 'AppendEntries', 'AppendEntriesResponse', 'prepare', 'promise', 'accept', 'accepted', 'nack', 'vote-request', 'vote', 'decision', 'decision-request']
    .map((t) => `<span><i style="background:${messageColour(t)}"></i>${t}</span>`)
    .join('');
  $('protocol').addEventListener('change', () => fillMutants($<HTMLSelectElement>('protocol').value));
  $('new-run').addEventListener('click', () => startRun(setupFromInputs()));
  $('tour').addEventListener('change', () => {
    const t = TOURS.find((x) => x.id === $<HTMLSelectElement>('tour').value);
    if (t !== undefined) startTour(t, 0);
  });
  $('tour-prev').addEventListener('click', () => tourGo(-1));
  $('tour-next').addEventListener('click', () => tourGo(1));
  $('tour-close').addEventListener('click', () => {
    endTour();
    redraw();
  });
  $('tour-progress').addEventListener('click', (ev) => {
    const k = (ev.target as HTMLElement).dataset['step'];
    if (k !== undefined && st.tour !== null) tourGo(Number(k) - st.tour.step);
  });
  $('lang').addEventListener('click', () => {
    st.lang = st.lang === 'en' ? 'zh' : 'en';
    $('lang').textContent = st.lang === 'en' ? '中文' : 'English';
    redraw();
  });
  $('play').addEventListener('click', () => togglePlay());
  $('step').addEventListener('click', () => stepOnce());
  $('ff').addEventListener('click', () => {
    st.session.runTo(st.session.sim.now() + 1000, 500_000);
    st.vt = st.session.sim.now();
    redraw();
  });
  $('speed').addEventListener('input', () => {
    if (st !== undefined) st.speed = speedFromSlider();
    const v = speedFromSlider();
    $('speed-text').textContent = `${v < 0.01 ? v.toFixed(3) : v.toFixed(2)}× real time`;
  });
  $('speed').dispatchEvent(new Event('input'));
  $('timeline').addEventListener('input', () => scrubTo(Number($<HTMLInputElement>('timeline').value)));
  $('request').addEventListener('click', () => act({ kind: 'request', node: leaderOrZero() }));
  $('apply-partition').addEventListener('click', () => {
    const g = parsePartition($<HTMLInputElement>('partition').value, st.session.sim.n);
    if (g === null) $<HTMLInputElement>('partition').setCustomValidity('groups of node numbers, e.g. 0,1|2,3,4 (each node once)');
    else {
      $<HTMLInputElement>('partition').setCustomValidity('');
      act({ kind: 'partition', groups: g });
    }
    $<HTMLInputElement>('partition').reportValidity();
  });
  $('heal').addEventListener('click', () => act({ kind: 'heal' }));
  $('share').addEventListener('click', () => void navigator.clipboard?.writeText(location.href).catch(() => undefined));
  wireDrag(picture.svg, {
    background: () => ($('node-menu').hidden = true),
    click: (node, ev) => {
      const host = $('stage').getBoundingClientRect();
      showNodeMenu(node, ev.clientX - host.left + 8, ev.clientY - host.top + 8);
    },
    drop: (node, at) => {
      const sim = st.session.sim;
      const groups = regroup(partitionGroups(sim), sim.n, node, at, picture.positions());
      if (groups !== null) act({ kind: 'partition', groups });
      else if (sim.network.partition !== null) act({ kind: 'heal' });
      redraw();
    },
  });
  document.addEventListener('keydown', (ev) => {
    if ((ev.target as HTMLElement).tagName === 'INPUT' && (ev.target as HTMLInputElement).type !== 'range') return;
    if (ev.key === 'ArrowRight' && st.tour !== null) tourGo(1);
    else if (ev.key === 'ArrowLeft' && st.tour !== null) tourGo(-1);
    else if (ev.key === ' ') togglePlay();
    else if (ev.key === '.') stepOnce();
    else return;
    ev.preventDefault();
  });
  window.addEventListener('hashchange', () => {
    if (decodeURIComponent(location.hash) !== decodeURIComponent(`#${encodeState({ setup: st.session.setup, actions: st.session.allActions, event: st.session.events, tour: st.tour === null ? null : `${st.tour.tour.id}.${st.tour.step}` })}`)) load(location.hash);
  });
}

function togglePlay(): void {
  st.playing = !st.playing && st.session.sim.violation === null;
  lastFrame = performance.now();
}

function stepOnce(): void {
  st.playing = false;
  st.session.stepOne();
  st.vt = st.session.sim.now();
  redraw();
}

/** For tests and the console: the run as data. */
declare global {
  interface Window {
    synod: { state: () => State; act: (a: ActionInput) => void; scrubTo: (n: number) => void; play: (on: boolean) => void; setSpeed: (s: number) => void };
  }
}
window.synod = {
  state: () => st,
  act,
  scrubTo,
  play: (on) => {
    st.playing = on;
    lastFrame = performance.now();
  },
  setSpeed: (s) => {
    st.speed = s;
  },
};

wire();
load(location.hash);
requestAnimationFrame(frame);
