// The deterministic simulator (after TigerBeetle's VOPR): a SimulationEngine
// plus the controls that faults, scenarios and the playground use — crash,
// restart, pause, resume, force a tick, drop a message, partition and heal,
// link and disk faults, client requests by hand, the workload. Every control
// called from outside an event is an event of its own (numbered, followed by
// an invariant check).

import { NodeId } from '../core/ids.js';
import type { FaultControl } from './faults.js';
import { SimulationEngine } from './engine.js';
import type { AnyNode } from './host.js';
import { blockedLinks, groups as groupPartition, type Partition } from './partitions.js';
import type { ScenarioControl } from './scenario.js';
import { EventKind } from './queue.js';
import { roundUs } from './network.js';
import type { Workload, WorkloadContext } from './workload.js';

export { MAX_NODES, SimulationEngine, type AnySpec, type InFlightMessage, type SimulationConfig, type Violation } from './engine.js';

export class Simulation extends SimulationEngine implements FaultControl, ScenarioControl {
  /** Attaches the client workload and starts it now. */
  attachWorkload(workload: Workload<unknown, unknown>): void {
    this.workload = workload;
    const ctx: WorkloadContext<unknown> = {
      members: this.members,
      rng: this.workloadRng,
      now: () => this.time,
      send: (node, req) => this.sendRequest(node, req),
      setTimer: (delayMs, tag) => this.queue.push(this.queue.alloc(roundUs(this.time + delayMs), EventKind.ClientTimer, -1, tag, 0, null)),
      invoke: (process, op) => this.emitIf('invoke', () => ({ type: 'invoke', i: this.eventNo, t: this.time, process, op })),
      complete: (process, outcome, result) => this.emitIf('complete', () => ({ type: 'complete', i: this.eventNo, t: this.time, process, outcome, result })),
    };
    this.perform(() => workload.start(ctx));
  }

  // ---- controls (nemesis, scenarios, playground) ----------------------------

  crash(node: number): void {
    this.perform(() => {
      const h = this.host(node);
      if (h.status === 'down') return;
      const out = h.crash(this.tornWrites);
      this.bump('crash');
      if (out.tornKept > 0) this.bump('torn-write');
      this.emitIf('crash', () => ({ type: 'crash', i: this.eventNo, t: this.time, node, lostWrites: out.lost, tornKept: out.tornKept }));
    });
  }

  restart(node: number): void {
    this.perform(() => {
      const h = this.host(node);
      if (h.status !== 'down') return;
      this.bump('restart');
      const durable = h.disk.durable;
      this.emitIf('restart', () => ({ type: 'restart', i: this.eventNo, t: this.time, node, durableWrites: durable.length }));
      h.start(this.spec.recover(this.context(node), durable.slice()));
      this.scheduleTick(node, this.time + this.tickRng.float() * this.spec.tickMs);
    });
  }

  pause(node: number): void {
    this.perform(() => {
      const h = this.host(node);
      if (h.status !== 'up') return;
      h.pause();
      this.bump('pause');
      this.emitIf('pause', () => ({ type: 'pause', i: this.eventNo, t: this.time, node }));
    });
  }

  resume(node: number): void {
    this.perform(() => {
      const h = this.host(node);
      if (h.status !== 'paused') return;
      this.bump('resume');
      this.emitIf('resume', () => ({ type: 'resume', i: this.eventNo, t: this.time, node }));
      h.resume();
    });
  }

  /** Forces one tick of a node now (besides its regular ticks). */
  tickNode(node: number): void {
    this.perform(() => {
      const h = this.host(node);
      if (h.status === 'down') return;
      this.emitIf('tick', () => ({ type: 'tick', i: this.eventNo, t: this.time, node }));
      h.tick();
    });
  }

  /** Drops one in-flight message by id. Returns false when it is not in flight. */
  dropMessage(id: number): boolean {
    const e = this.queue.pending().find((x) => x.kind === EventKind.Deliver && x.a === id);
    if (e === undefined) return false;
    this.perform(() => {
      e.kind = EventKind.Cancelled;
      this.bump('drop:manual');
      this.emitIf('drop', () => ({ type: 'drop', i: this.eventNo, t: this.time, id, from: e.b, to: e.node, reason: 'manual' }));
    });
    return true;
  }

  setPartition(p: Partition | null): void {
    this.perform(() => {
      this.network.setPartition(p);
      if (p === null) {
        this.bump('heal');
        this.emitIf('heal', () => ({ type: 'heal', i: this.eventNo, t: this.time }));
      } else {
        this.bump(`partition:${p.shape}`);
        this.emitIf('partition', () => ({ type: 'partition', i: this.eventNo, t: this.time, shape: p.shape, blocked: blockedLinks(p) }));
      }
    });
  }

  partition(parts: readonly (readonly number[])[]): void {
    this.setPartition(groupPartition(this.n, parts));
  }

  heal(): void {
    if (this.network.partition !== null) this.setPartition(null);
  }

  setLinkFaults(node: number | null, loss: number, dup: number): void {
    this.perform(() => {
      this.network.setFaultRates(node, loss, dup);
      this.networkChanged();
    });
  }

  setExtraDelay(ms: number): void {
    this.perform(() => {
      this.network.setExtraDelay(ms);
      this.networkChanged();
    });
  }

  setSlowDisk(node: number, factor: number): void {
    this.perform(() => {
      this.host(node).disk.slowFactor = factor;
      if (factor > 1) this.bump('slow-disk');
      this.emitIf('disk', () => ({ type: 'disk', i: this.eventNo, t: this.time, node, slowFactor: factor }));
    });
  }

  /** Ends every fault: heal, restore the network and disks, restart and resume every node. */
  healAll(): void {
    this.heal();
    const rates = this.network.maxRates();
    if (rates.loss > 0 || rates.dup > 0) this.setLinkFaults(null, 0, 0);
    if (this.network.extraDelay > 0) this.setExtraDelay(0);
    for (let i = 0; i < this.n; i++) {
      if (this.host(i).disk.slowFactor !== 1) this.setSlowDisk(i, 1);
      if (this.status(i) === 'down') this.restart(i);
      else if (this.status(i) === 'paused') this.resume(i);
    }
  }

  /** An administrator's call on a node, as one of its inputs (src/sim/operator.ts); nothing happens while it is down. */
  operate(node: number, call: (node: AnyNode) => void): void {
    this.perform(() => {
      const h = this.host(node);
      if (h.status === 'down') return;
      if (!h.operate(call)) this.bump('operator:call-lost');
    });
  }

  /** Adds to the counter `operator:<key>` of the run summary. */
  countOperator(key: string): void {
    this.bump(`operator:${key}`);
  }

  /** A client request from outside the workload (the playground); its reply lands in `replies`. */
  submit(node: number, req: unknown): number {
    const id = this.sendRequest(NodeId(node), req);
    this.manualRequests.add(id);
    return id;
  }

}
