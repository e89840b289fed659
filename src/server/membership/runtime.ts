// Membership at runtime on one member: the peer transport follows the
// configuration in force, changes asked on a follower are forwarded to the
// leader, a member removed from the cluster stops, and a member that was added
// publishes its name through the log once it runs.

import type { Logger } from 'pino';
import type { NodeId } from '../../core/ids.js';
import type { LogStatus } from '../../core/replicated-log.js';
import { members } from '../../raft/membership.js';
import type { ConfState } from '../../raft/types.js';
import type { MemberConfig } from '../config.js';
import type { PeerAddress } from '../../net/tcp-transport.js';
import type { MemberChange } from './changes.js';
import { directoryOf, findMember, type Directory } from './directory.js';
import type { ChangeOutcome, ConfLog, MembershipHooks, MembershipNode, TransferOutcome } from './node.js';

/** Peer frames of membership: changes forwarded to the leader, and the notice to a removed member. */
export type MembershipFrame =
  | { readonly type: 'member-change'; readonly id: number; readonly change: MemberChange; readonly timeoutMs: number }
  | { readonly type: 'member-change-reply'; readonly id: number; readonly outcome: ChangeOutcome }
  | { readonly type: 'member-removed'; readonly member: NodeId };

export function isMembershipFrame(f: { readonly type: string }): f is MembershipFrame {
  return f.type === 'member-change' || f.type === 'member-change-reply' || f.type === 'member-removed';
}

/** The transport as membership uses it (TcpTransport). */
export interface PeerLinks {
  setPeer(id: NodeId, addr: PeerAddress | null): void;
  removePeer(id: NodeId): void;
  send(to: NodeId, frame: MembershipFrame): void;
  connected(peer: NodeId): boolean;
}

export interface RuntimeOptions {
  readonly cfg: MemberConfig;
  /** Null on Multi-Paxos: changes are refused there. */
  readonly raft: ConfLog | null;
  readonly transport: PeerLinks;
  /** The member's own peer table (its announcements go to every entry): kept in step with the transport's. */
  readonly peers: Map<NodeId, PeerAddress>;
  readonly logger: Logger;
  readonly tickMs: number;
  /** Stops this member (it was removed from the cluster). */
  readonly stopMember: () => void;
}

/** How long a removed member's connection is kept, so that the notice of its removal reaches it. */
const REMOVED_LINGER_MS = 3000;
const PUBLISH_RETRY_MS = 1000;
/** Most changes forwarded to the leader and waiting for its answer. */
const MAX_FORWARDED = 256;

export function peerAddress(url: string): PeerAddress {
  const u = new URL(url);
  return { host: u.hostname === 'localhost' ? '127.0.0.1' : u.hostname.replace(/^\[|\]$/g, ''), port: Number(u.port) };
}

export class MembershipRuntime {
  node: MembershipNode<unknown, { readonly type: string }> | null = null;
  /** On Multi-Paxos: the node that carries out MoveLeader. */
  transferNode: { transfer(to: NodeId, timeoutMs: number): Promise<TransferOutcome> } | null = null;
  private nextFrameId = 1;
  private readonly waiting = new Map<number, { resolve(o: ChangeOutcome): void; timer: NodeJS.Timeout }>();
  private wasMember: boolean;
  private removed = false;
  private publishTimer: NodeJS.Timeout | null = null;
  private publishing = false;
  private readonly lingering = new Set<NodeJS.Timeout>();

  constructor(private readonly o: RuntimeOptions) {
    this.wasMember = o.raft !== null && members(o.raft.configuration()).includes(o.cfg.memberId);
  }

  get cfg(): MemberConfig {
    return this.o.cfg;
  }

  directory(conf: ConfState | null = this.o.raft?.configuration() ?? null): Directory {
    return directoryOf(conf?.context, this.o.cfg);
  }

  /** The node's hooks: how it finds the directory, and what happens when a configuration applies. */
  hooks(): MembershipHooks {
    return {
      directoryOf: (conf) => this.directory(conf),
      plan: {
        token: this.o.cfg.initialClusterToken,
        ...(this.o.cfg.maxLearners === undefined ? {} : { maxLearners: this.o.cfg.maxLearners }),
        // The leader reaches itself and the members it holds a peer connection to.
        ...(this.o.cfg.strictReconfigCheck === false ? {} : { reachable: (id: NodeId) => id === this.o.cfg.memberId || this.o.transport.connected(id) }),
      },
      onConfApplied: (conf) => this.onConfApplied(conf),
      now: () => Date.now(),
    };
  }

  start(): void {
    this.schedulePublish(0);
  }

  stop(): void {
    if (this.publishTimer !== null) clearTimeout(this.publishTimer);
    this.publishTimer = null;
    for (const t of this.lingering) clearTimeout(t);
    this.lingering.clear();
    for (const w of this.waiting.values()) {
      clearTimeout(w.timer);
      w.resolve({ ok: false, code: 'unknown', message: 'synod: the member is stopping' });
    }
    this.waiting.clear();
  }

  // ------------------------------------------------------------ configuration applied

  private onConfApplied(conf: ConfState): void {
    const dir = this.directory(conf);
    const self = this.o.cfg.memberId;
    const now = members(conf);
    for (const m of dir.members) {
      if (m.id === self || m.peerUrls[0] === undefined) continue;
      const addr = peerAddress(m.peerUrls[0]);
      const known = this.o.peers.get(m.id);
      if (known !== undefined && known.host === addr.host && known.port === addr.port) continue;
      this.o.logger.info({ peer: m.id.toString(16), name: m.name, url: m.peerUrls[0] }, known === undefined ? 'member added: connecting' : 'member peer URL updated');
      this.o.peers.set(m.id, addr);
      this.o.transport.setPeer(m.id, addr);
    }
    for (const id of dir.removed) if (id !== self && !now.includes(id) && this.o.peers.has(id)) this.dropRemoved(id);
    if (now.includes(self)) this.wasMember = true;
    else if (this.wasMember && dir.removed.includes(self)) this.onRemoved('the configuration applied here no longer has this member');
  }

  /** True for a member the configuration in force removed (and did not add back): its hello gets a refusal that says so. */
  isRemoved(id: NodeId): boolean {
    const conf = this.o.raft?.configuration();
    if (conf === undefined) return false;
    return this.directory(conf).removed.includes(id) && !members(conf).includes(id);
  }

  /** A peer refused this member's connection because the cluster removed it: it missed its own removal. */
  removedByPeer(peer: NodeId): void {
    this.onRemoved(`member ${peer.toString(16)} refused its connection: the cluster removed this member while it was away`);
  }

  /** Tells a removed member so (it may not learn the commit otherwise), then forgets it. */
  private dropRemoved(id: NodeId): void {
    this.o.logger.info({ peer: id.toString(16) }, 'member removed: disconnecting');
    this.o.peers.delete(id);
    try {
      this.o.transport.send(id, { type: 'member-removed', member: id });
    } catch { /* already gone */ }
    const t = setTimeout(() => {
      this.lingering.delete(t);
      // Re-added meanwhile (the same peer URLs give the same id): keep it.
      if (this.o.raft !== null && members(this.o.raft.configuration()).includes(id)) return;
      this.o.transport.removePeer(id);
    }, REMOVED_LINGER_MS);
    this.lingering.add(t);
  }

  private onRemoved(why: string): void {
    if (this.removed) return;
    this.removed = true;
    this.o.logger.error({ member: this.o.cfg.memberId.toString(16), why }, 'this member has been removed from the cluster; stopping');
    // Let the batch that applied the removal (and the answer to a MemberRemove asked here) go out first.
    const t = setTimeout(() => this.o.stopMember(), 4 * this.o.tickMs + 200);
    t.unref();
  }

  // ------------------------------------------------------------ changes

  /** Carries out a change at the leader (forwarded there when this member is not it). */
  async change(change: MemberChange, timeoutMs: number): Promise<ChangeOutcome> {
    const node = this.node;
    if (node === null || this.o.raft === null) return { ok: false, code: 'invalid', message: 'synod: membership changes at runtime need --protocol raft (Multi-Paxos reconfiguration is not offered through the Cluster API)' };
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const left = deadline - Date.now();
      if (left <= 0) return { ok: false, code: 'timeout', message: 'etcdserver: request timed out' };
      let outcome = await node.change(change, left);
      if (!outcome.ok && outcome.code === 'not-leader' && outcome.leader !== null && outcome.leader !== this.o.cfg.memberId) {
        outcome = await this.forward(outcome.leader, change, left);
      }
      if (outcome.ok || outcome.code !== 'not-leader') return outcome;
      await new Promise((r) => setTimeout(r, this.o.tickMs));
    }
  }

  /** etcd's MoveLeader: only the leader moves its leadership (etcdctl sends it there); never forwarded. */
  moveLeader(to: NodeId, timeoutMs: number): Promise<TransferOutcome> {
    const node = this.node ?? this.transferNode;
    if (node === null) return Promise.resolve({ ok: false, code: 'not-leader', message: 'etcdserver: not leader' });
    return node.transfer(to, timeoutMs);
  }

  private forward(to: NodeId, change: MemberChange, timeoutMs: number): Promise<ChangeOutcome> {
    const notLeader: ChangeOutcome = { ok: false, code: 'not-leader', leader: null, message: 'etcdserver: no leader' };
    if (!this.o.transport.connected(to)) return Promise.resolve(notLeader);
    if (this.waiting.size >= MAX_FORWARDED) return Promise.resolve({ ok: false, code: 'busy', message: 'etcdserver: too many membership changes waiting; retry later' });
    const id = this.nextFrameId++;
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.waiting.delete(id);
        resolve({ ok: false, code: 'timeout', message: 'etcdserver: request timed out (the leader did not answer; the change may or may not take effect)' });
      }, timeoutMs);
      this.waiting.set(id, { resolve, timer });
      try {
        this.o.transport.send(to, { type: 'member-change', id, change, timeoutMs });
      } catch {
        clearTimeout(timer);
        this.waiting.delete(id);
        resolve(notLeader);
      }
    });
  }

  /** A membership frame from a peer. */
  onFrame(from: NodeId, frame: MembershipFrame): void {
    switch (frame.type) {
      case 'member-change': {
        const answer = (outcome: ChangeOutcome): void => {
          try {
            this.o.transport.send(from, { type: 'member-change-reply', id: frame.id, outcome });
          } catch { /* the asking member left; it times out */ }
        };
        // Only the leader's own queue: a change is forwarded at most once.
        if (this.node === null) return answer({ ok: false, code: 'invalid', message: 'synod: membership changes at runtime need --protocol raft' });
        void this.node.change(frame.change, frame.timeoutMs).then(answer);
        return;
      }
      case 'member-change-reply': {
        const w = this.waiting.get(frame.id);
        if (w === undefined) return;
        this.waiting.delete(frame.id);
        clearTimeout(w.timer);
        w.resolve(frame.outcome);
        return;
      }
      case 'member-removed':
        if (frame.member === this.o.cfg.memberId) this.onRemoved(`member ${from.toString(16)} says so`);
        return;
    }
  }

  // ------------------------------------------------------------ publish

  private schedulePublish(delayMs: number): void {
    if (this.o.raft === null || this.removed) return;
    this.publishTimer = setTimeout(() => void this.publish(), delayMs);
    this.publishTimer.unref();
  }

  /** etcd's publish: a started member records its name in the directory (through the log) once it is a member. */
  private async publish(): Promise<void> {
    this.publishTimer = null;
    const self = this.o.cfg.memberId;
    const conf = this.o.raft?.configuration();
    if (conf === undefined || this.publishing) return;
    const known = findMember(this.directory(conf), self);
    if (members(conf).includes(self) && known !== undefined && known.name === this.o.cfg.name) return; // nothing to publish, and nothing will change that
    if (members(conf).includes(self) && this.statusOk()) {
      this.publishing = true;
      try {
        const outcome = await this.change({ type: 'publish', id: self, name: this.o.cfg.name }, 5000);
        if (outcome.ok) {
          this.o.logger.info({ name: this.o.cfg.name }, 'published this member\'s name to the cluster');
          return;
        }
        this.o.logger.debug({ outcome }, 'publish failed; retrying');
      } finally {
        this.publishing = false;
      }
    }
    this.schedulePublish(PUBLISH_RETRY_MS);
  }

  private statusOk(): boolean {
    const s: LogStatus | undefined = this.o.raft?.status();
    return s !== undefined && s.leader !== null;
  }
}
