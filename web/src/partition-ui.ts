// Partitions in the picture: the groups a partition makes (nodes that reach
// each other both ways), regrouping when a node is dragged, the text form
// "0,1|2,3,4", and the pointer handling that tells a click from a drag.

import type { Simulation } from '../../src/sim/simulation.js';
import type { Point } from './render.js';

/** A node dropped closer than this to a member of a group joins that group. */
const JOIN_DISTANCE = 170;

/** Groups of nodes that reach each other both ways (the sides of a partition), or null when all do. */
export function partitionGroups(sim: Simulation): number[][] | null {
  if (sim.network.partition === null) return null;
  const side = [...Array(sim.n).keys()];
  const find = (x: number): number => (side[x] === x ? x : (side[x] = find(side[x] as number)));
  for (let a = 0; a < sim.n; a++) {
    for (let b = a + 1; b < sim.n; b++) if (!sim.network.isBlocked(a, b) && !sim.network.isBlocked(b, a)) side[find(a)] = find(b);
  }
  const groups = new Map<number, number[]>();
  for (let a = 0; a < sim.n; a++) groups.set(find(a), [...(groups.get(find(a)) ?? []), a]);
  return groups.size < 2 ? null : [...groups.values()];
}

/**
 * The groups after `node` is dropped at `at`: it joins the group of the
 * nearest node within reach, or forms a group of its own. null: one group (heal).
 */
export function regroup(current: readonly (readonly number[])[] | null, n: number, node: number, at: Point, pos: readonly Point[]): number[][] | null {
  const groups = (current ?? [[...Array(n).keys()]]).map((g) => g.filter((x) => x !== node));
  let best = -1;
  let bestDist = Infinity;
  groups.forEach((g, k) =>
    g.forEach((m) => {
      const p = pos[m];
      const d = p === undefined ? Infinity : Math.hypot(p.x - at.x, p.y - at.y);
      if (d < bestDist) [best, bestDist] = [k, d];
    }),
  );
  if (best >= 0 && bestDist < JOIN_DISTANCE) groups[best]?.push(node);
  else groups.push([node]);
  const parts = groups.filter((g) => g.length > 0).map((g) => g.sort((a, b) => a - b));
  return parts.length < 2 ? null : parts;
}

/** "0,1|2,3,4" -> [[0,1],[2,3,4]]; null unless every group is non-empty and each node appears once. */
export function parsePartition(text: string, n: number): number[][] | null {
  const groups = text.split('|').map((g) => g.split(/[ ,]+/).filter((x) => x !== '').map(Number));
  const all = groups.flat();
  if (groups.length < 2 || groups.some((g) => g.length === 0) || all.some((x) => !Number.isInteger(x) || x < 0 || x >= n) || new Set(all).size !== all.length) return null;
  return groups;
}

function svgPoint(svg: SVGSVGElement, ev: PointerEvent): Point {
  const m = svg.getScreenCTM();
  if (m === null) return { x: 0, y: 0 };
  const p = new DOMPoint(ev.clientX, ev.clientY).matrixTransform(m.inverse());
  return { x: p.x, y: p.y };
}

export interface DragHandlers {
  /** A press outside every node. */
  background(): void;
  click(node: number, ev: PointerEvent): void;
  drop(node: number, at: Point): void;
}

/** A press and release on a node is a click; a press, a move of 8 units or more and a release is a drag. */
export function wireDrag(svg: SVGSVGElement, on: DragHandlers): void {
  let drag: { node: number; el: SVGGElement; from: Point; moved: boolean } | null = null;
  svg.addEventListener('pointerdown', (ev) => {
    const g = (ev.target as Element).closest('g.node');
    if (g === null) {
      on.background();
      return;
    }
    drag = { node: Number(g.getAttribute('data-node')), el: g as SVGGElement, from: svgPoint(svg, ev), moved: false };
    svg.setPointerCapture(ev.pointerId);
  });
  svg.addEventListener('pointermove', (ev) => {
    if (drag === null) return;
    const p = svgPoint(svg, ev);
    if (!drag.moved && Math.hypot(p.x - drag.from.x, p.y - drag.from.y) < 8) return;
    drag.moved = true;
    drag.el.setAttribute('transform', `translate(${p.x},${p.y})`);
    drag.el.classList.add('dragging');
  });
  svg.addEventListener('pointerup', (ev) => {
    const d = drag;
    drag = null;
    if (d === null) return;
    if (d.moved) on.drop(d.node, svgPoint(svg, ev));
    else on.click(d.node, ev);
  });
}
