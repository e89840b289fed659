// The playground in a real headless Chromium (playwright-core, Debian's
// /usr/bin/chromium), served by `synod play`'s server on port 0. Builds
// web/dist first when it is missing or older than its sources (vite build).
// Screenshots go to test-artifacts/ (gitignored); frames per second under
// load are printed, not asserted.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { servePlayground, type Playground } from '../../src/cli/play.js';

// The page's globals, as the functions given to page.evaluate see them (they run
// in the browser; this project compiles without the DOM library).
interface PageElement {
  readonly dataset: Record<string, string | undefined>;
  readonly textContent: string | null;
  readonly parentElement: PageElement | null;
  readonly innerHTML: string;
}
interface PlaygroundHandle {
  scrubTo(n: number): void;
  play(on: boolean): void;
  setSpeed(s: number): void;
  state(): { session: { events: number; sim: { inFlight(): unknown[] } } };
}
declare const document: { body: PageElement; querySelector(s: string): PageElement | null };
declare const location: { hash: string };
declare const window: { synod: PlaygroundHandle };
declare function requestAnimationFrame(f: () => void): number;

const CHROMIUM = '/usr/bin/chromium';
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const WEB = join(ROOT, 'web');
const DIST = join(WEB, 'dist');
const ARTIFACTS = join(ROOT, 'test-artifacts');
const skip = existsSync(CHROMIUM) ? false : `${CHROMIUM} is missing (apt-get install -y chromium): browser tests skipped`;

function newest(path: string): number {
  const s = statSync(path);
  if (!s.isDirectory()) return s.mtimeMs;
  let m = 0;
  for (const e of readdirSync(path)) if (e !== 'dist' && e !== 'node_modules') m = Math.max(m, newest(join(path, e)));
  return m;
}

/** Builds web/dist unless it is newer than web/ and the pure folders of src/ it bundles. */
function buildIfStale(): void {
  const built = join(DIST, 'index.html');
  const sources = Math.max(newest(WEB), ...['core', 'raft', 'paxos', 'commit', 'kv', 'sim', 'check'].map((d) => newest(join(ROOT, 'src', d))));
  if (existsSync(built) && statSync(built).mtimeMs >= sources) return;
  execFileSync(join(ROOT, 'node_modules', '.bin', 'vite'), ['build', WEB, '--logLevel', 'warn'], { cwd: ROOT, stdio: 'inherit' });
}

describe('playground in Chromium', { skip, timeout: 120_000 }, () => {
  let server: Playground;
  let context: BrowserContext;
  let profile: string;
  const errors: string[] = [];

  before(async () => {
    buildIfStale();
    mkdirSync(ARTIFACTS, { recursive: true });
    server = await servePlayground({ dir: DIST, port: 0 });
    profile = mkdtempSync(join(tmpdir(), 'synod-chromium-'));
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      viewport: { width: 1500, height: 900 },
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
  });

  after(async () => {
    await context?.close();
    await server?.close();
    if (profile !== undefined) rmSync(profile, { recursive: true, force: true });
  });

  async function open(hash: string): Promise<Page> {
    const page = await context.newPage();
    page.on('pageerror', (e) => errors.push(`${hash}: ${e.message}`));
    await page.goto(`${server.url}${hash}`);
    await page.waitForSelector('#picture g.node');
    return page;
  }

  /** Node attributes as the picture shows them. */
  function nodes(page: Page): Promise<{ id: number; role: string; status: string; commit: number; last: number }[]> {
    return page.$$eval('#picture g.node', (gs) =>
      gs.map((g) => ({ id: Number(g.getAttribute('data-node')), role: g.getAttribute('data-role') ?? '', status: g.getAttribute('data-status') ?? '', commit: Number(g.getAttribute('data-commit')), last: Number(g.getAttribute('data-last')) })),
    );
  }

  async function fastForward(page: Page, times: number): Promise<void> {
    for (let k = 0; k < times; k++) await page.click('#ff');
  }

  test('the page loads with five Raft nodes and the safety panel', async () => {
    const page = await open('');
    assert.equal(await page.title(), 'synod playground');
    assert.equal((await nodes(page)).length, 5);
    const invariants = await page.$$eval('#invariants li', (ls) => ls.map((l) => l.textContent));
    assert.ok(invariants.includes('election-safety'), `invariants shown: ${invariants.join(', ')}`);
    await page.screenshot({ path: join(ARTIFACTS, 'playground-start.png') });
    await page.close();
    assert.deepEqual(errors, []);
  });

  test('the Raft tour, driven with the arrow keys, reaches the committed step and the cluster agrees', async () => {
    const page = await open('#t=raft.0');
    const caption = () => page.$eval('#tour-caption', (c) => ({ step: Number((c as unknown as PageElement).dataset['step']), text: c.textContent ?? '' }));
    assert.match((await caption()).text, /start as followers/);
    assert.ok((await nodes(page)).every((n) => n.role === 'follower'));
    for (let k = 0; k < 9; k++) await page.keyboard.press('ArrowRight');
    const c = await caption();
    assert.equal(c.step, 9);
    assert.match(c.text, /committed/);
    const ns = await nodes(page);
    const leader = ns.find((n) => n.role === 'leader');
    assert.ok(leader !== undefined, 'a leader');
    assert.ok(leader.commit >= 3 && leader.commit === leader.last, `leader commit ${leader.commit}, last ${leader.last}`);
    assert.ok(ns.some((n) => n.role === 'follower' && n.last >= 3 && n.commit < 3), 'a follower holds the entry, not yet committed');
    assert.match(await page.$eval(`g[data-panel="${leader.id}"]`, (g) => g.textContent ?? ''), /x="v\d+"/);
    await page.screenshot({ path: join(ARTIFACTS, 'tour-raft-committed.png') });
    await page.keyboard.press('ArrowRight');
    await page.keyboard.press('ArrowRight');
    assert.equal((await caption()).step, 11);
    assert.ok((await nodes(page)).every((n) => n.commit >= 3), 'every node committed the entry');
    await page.keyboard.press('ArrowLeft');
    assert.equal((await caption()).step, 10);
    await page.click('#lang');
    assert.match((await caption()).text, /[\u4e00-\u9fff]/, 'the caption in Chinese');
    await page.close();
    assert.deepEqual(errors, []);
  });

  test('a message in flight shows its content on hover and is dropped on click', async () => {
    const page = await open('#t=raft.2');
    const before = await page.$$eval('#picture circle.msg', (cs) => cs.map((c) => c.textContent ?? ''));
    assert.ok(before.length > 0 && before.every((t) => /RequestVote/.test(t) && /"term":\d+/.test(t)), before.join(' | '));
    const id = await page.$eval('#picture circle.msg', (c) => (c as unknown as { getAttribute(n: string): string }).getAttribute('data-msg'));
    await page.click(`#picture circle.msg[data-msg="${id}"]`, { force: true });
    assert.equal((await page.$$(`#picture circle.msg[data-msg="${id}"]`)).length, 0, 'dropped');
    const hash = await page.evaluate(() => location.hash);
    assert.match(hash, new RegExp(`a=\\d+d${id}`));
    assert.doesNotMatch(hash, /t=raft/, 'acting by hand leaves the tour');
    assert.match(await page.$eval('#event-log', (e) => e.textContent ?? ''), new RegExp(`message ${id} .* dropped by hand`));
    await page.close();
    assert.deepEqual(errors, []);
  });

  test('every tour reaches its last step', async () => {
    for (const [tour, last] of [['paxos', 8], ['multipaxos', 6], ['2pc', 6], ['3pc', 6], ['paxos-commit', 5]] as const) {
      const page = await open(`#t=${tour}.${last}`);
      const step = await page.$eval('#tour-caption', (c) => Number((c as unknown as PageElement).dataset['step']));
      assert.equal(step, last, `${tour}: ${await page.$eval('#tour-caption', (c) => c.textContent)}`);
      await page.screenshot({ path: join(ARTIFACTS, `tour-${tour}-last.png`) });
      if (tour === '3pc' || tour === 'paxos-commit') {
        const ns = await nodes(page);
        assert.equal(ns[0]?.status, 'down', `${tour}: decided while the coordinator is down`);
        assert.doesNotMatch(await page.$eval('#picture', (s) => s.textContent ?? ''), /in doubt/);
      }
      if (tour === '2pc') {
        await page.keyboard.press('ArrowLeft');
        const ns = await nodes(page);
        assert.equal(ns[0]?.status, 'down', 'the coordinator is down while the participants block');
        assert.match(await page.$eval('#picture', (s) => s.textContent ?? ''), /in doubt/);
        await page.screenshot({ path: join(ARTIFACTS, 'tour-2pc-blocked.png') });
      }
      await page.close();
    }
    assert.deepEqual(errors, []);
  });

  let shared = '';

  test('crashing the leader by clicking it: a new leader appears', async () => {
    const page = await open('#p=raft&n=5&s=7&c=1&e=0');
    await fastForward(page, 1);
    const first = (await nodes(page)).find((n) => n.role === 'leader');
    assert.ok(first !== undefined, 'a leader after 1 s');
    await page.click(`g.node[data-node="${first.id}"]`);
    await page.click('#node-menu button:text-is("crash")');
    assert.equal((await nodes(page))[first.id]?.status, 'down');
    await fastForward(page, 2);
    const ns = await nodes(page);
    const second = ns.find((n) => n.role === 'leader');
    assert.ok(second !== undefined && second.id !== first.id, `new leader: ${JSON.stringify(ns)}`);
    assert.equal(await page.isVisible('#violation'), false);
    shared = await page.evaluate(() => location.hash);
    assert.match(shared, new RegExp(`a=\\d+c${first.id}`));
    await page.screenshot({ path: join(ARTIFACTS, 'raft-leader-crashed.png') });
    await page.close();
  });

  test('dragging a node away partitions it off; dragging it back heals', async () => {
    const page = await open('#p=raft&n=5&s=7&c=0&e=0');
    await fastForward(page, 1);
    const box = async (n: number) => {
      const b = await page.$eval(`g.node[data-node="${n}"] circle.body`, (c) => {
        const r = (c as unknown as { getBoundingClientRect(): { x: number; y: number; width: number; height: number } }).getBoundingClientRect();
        return { x: r.x + r.width / 2, y: r.y + r.height / 2 };
      });
      return b;
    };
    const drag = async (from: { x: number; y: number }, to: { x: number; y: number }) => {
      await page.mouse.move(from.x, from.y);
      await page.mouse.down();
      await page.mouse.move((from.x + to.x) / 2, (from.y + to.y) / 2, { steps: 4 });
      await page.mouse.move(to.x, to.y, { steps: 4 });
      await page.mouse.up();
    };
    const start = await box(0);
    await drag(start, { x: start.x, y: start.y + 330 });
    assert.equal((await page.$$('#picture line.wall')).length, 1, 'a wall between node 0 and the 4 others');
    assert.match(await page.evaluate(() => location.hash), /a=\d+x(0-1\.2\.3\.4|1\.2\.3\.4-0)/);
    await fastForward(page, 1);
    await page.screenshot({ path: join(ARTIFACTS, 'raft-partition-dragged.png') });
    await drag(await box(0), await box(1));
    await page.screenshot({ path: join(ARTIFACTS, 'raft-partition-healed.png') });
    assert.equal((await page.$$('#picture line.wall, #picture line.cut')).length, 0, 'healed');
    assert.match(await page.evaluate(() => location.hash), /\d+h/);
    await page.close();
    assert.deepEqual(errors, []);
  });

  test('a shared URL reproduces the same state', async () => {
    assert.notEqual(shared, '');
    const a = await open(shared);
    const b = await open(shared);
    const state = (p: Page) => p.evaluate(() => ({ events: document.body.dataset['events'], picture: document.querySelector('#picture g')?.parentElement?.innerHTML.replace(/<g class="messages">[\s\S]*$/, '') }));
    const sa = await state(a);
    assert.equal(sa.events, new URLSearchParams(shared.slice(1)).get('e'));
    assert.deepEqual(await state(b), sa);
    // Scrubbing back and forth lands on the same state again.
    const e = Number(sa.events);
    await a.evaluate((n) => window.synod.scrubTo(n), Math.floor(e / 2));
    await a.waitForFunction((n) => document.body.dataset['events'] === String(n), Math.floor(e / 2));
    await a.evaluate((n) => window.synod.scrubTo(n), e);
    await a.waitForFunction((n) => document.body.dataset['events'] === String(n), e);
    assert.deepEqual(await state(a), sa);
    await a.close();
    await b.close();
    assert.deepEqual(errors, []);
  });

  test('one smoke run per protocol (5 nodes, 2 clients, 2 s): no violation, progress made', async () => {
    for (const p of ['raft', 'paxos', 'multipaxos', '2pc', '3pc', 'paxos-commit']) {
      const page = await open(`#p=${p}&n=5&s=2&c=2&e=0`);
      await fastForward(page, 2);
      const events = Number(await page.evaluate(() => document.body.dataset['events']));
      assert.ok(events > 200, `${p}: ${events} events`);
      assert.equal(await page.isVisible('#violation'), false, `${p}: ${await page.$eval('#violation', (v) => v.textContent)}`);
      await page.screenshot({ path: join(ARTIFACTS, `smoke-${p}.png`) });
      await page.close();
    }
    assert.deepEqual(errors, []);
  });

  test('a mutant is caught: the run stops and the safety panel names the event', async () => {
    const page = await open('#p=2pc&n=4&s=1&c=3&m=commit-without-all-votes&o=noProbability:0.5&e=0');
    for (let k = 0; k < 5 && !(await page.isVisible('#violation')); k++) await fastForward(page, 1);
    assert.equal(await page.isVisible('#violation'), true, 'violation shown');
    assert.match(await page.$eval('#violation', (v) => v.textContent ?? ''), /VIOLATION at event \d+/);
    assert.equal(await page.$$eval('#invariants li.bad', (l) => l.length), 1);
    await page.screenshot({ path: join(ARTIFACTS, 'mutant-2pc.png') });
    await page.close();
  });

  test('frames per second with 5 Raft nodes under load (reported)', async () => {
    const page = await open('#p=raft&n=5&s=3&c=5&e=0');
    await fastForward(page, 1);
    const fps = await page.evaluate(async () => {
      window.synod.setSpeed(0.3);
      window.synod.play(true);
      const start = performance.now();
      let frames = 0;
      await new Promise<void>((done) => {
        const tick = (): void => {
          frames++;
          if (performance.now() - start < 3000) requestAnimationFrame(tick);
          else done();
        };
        requestAnimationFrame(tick);
      });
      window.synod.play(false);
      return { fps: (frames * 1000) / (performance.now() - start), events: window.synod.state().session.events, inFlight: window.synod.state().session.sim.inFlight().length };
    });
    process.stdout.write(`playground: ${fps.fps.toFixed(1)} frames/s over 3 s with 5 Raft nodes, 5 clients, 0.3x real time (${fps.events} events, ${fps.inFlight} messages in flight at the end)\n`);
    assert.ok(fps.fps > 0);
    await page.screenshot({ path: join(ARTIFACTS, 'raft-under-load.png') });
    await page.close();
  });
});
