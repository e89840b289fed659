// Guided tours: each step is a real simulator state, reached by driving the
// simulation (stepping events, and at some steps acting as a user would:
// a client request, a crash) until the step's condition holds. Captions in
// English and Chinese.

import type { InFlightMessage } from '../../src/sim/simulation.js';
import type { TraceEvent } from '../../src/sim/trace.js';
import type { Session } from './session.js';
import type { Action, ActionInput, RunSetup } from './url.js';

export interface TourStep {
  readonly en: string;
  readonly zh: string;
  /** Actions taken on entering the step (as a user would). */
  readonly enter?: (t: TourContext) => void;
  /** The step is reached when this holds (checked after every event). */
  readonly until: (t: TourContext) => boolean;
}

export interface Tour {
  readonly id: string;
  readonly title: string;
  readonly setup: RunSetup;
  readonly steps: readonly TourStep[];
}

type Rec = Record<string, unknown>;

/** What a tour's steps read and do; remembers what the trace showed (by message id, so re-runs count once). */
export class TourContext {
  private readonly sent = new Map<string, Set<number>>();
  private readonly protocol = new Map<string, Set<string>>();
  /** Values a tour keeps between steps (the index of the client's entry...). */
  readonly memo = new Map<string, number>();

  constructor(readonly session: Session) {
    session.watch((e) => this.observe(e));
  }

  private observe(e: TraceEvent): void {
    if (e.type === 'send') {
      const type = (e.msg as { type: string }).type;
      for (const key of [type, `${type}@${e.from}`]) {
        let s = this.sent.get(key);
        if (s === undefined) this.sent.set(key, (s = new Set()));
        s.add(e.id);
      }
    } else if (e.type === 'protocol') {
      let s = this.protocol.get(e.event.kind);
      if (s === undefined) this.protocol.set(e.event.kind, (s = new Set()));
      s.add(`${e.i}:${e.node}:${JSON.stringify(e.event.detail ?? {})}`);
    } else if (e.type === 'request') {
      this.memo.set(`request-at-${e.node}`, e.i);
    }
  }

  /** Messages of `type` sent so far (by node `from`, if given). */
  sentCount(type: string, from?: number): number {
    return this.sent.get(from === undefined ? type : `${type}@${from}`)?.size ?? 0;
  }

  eventCount(kind: string): number {
    return this.protocol.get(kind)?.size ?? 0;
  }

  views(): Rec[] {
    return this.session.sim.views() as unknown as Rec[];
  }

  inFlight(type: string): InFlightMessage[] {
    return this.session.sim.inFlight().filter((m) => m.msg.type === type);
  }

  leader(): number | null {
    const k = this.views().findIndex((v) => v['role'] === 'leader');
    return k < 0 ? null : k;
  }

  act(a: ActionInput): void {
    this.session.act({ ...a, at: this.session.events } as Action);
  }

  now(): number {
    return this.session.sim.now();
  }
}

const num = (x: unknown): number => (typeof x === 'number' ? x : 0);

const raftTour: Tour = {
  id: 'raft',
  title: 'Raft: election and one committed change',
  setup: { protocol: 'raft', nodes: 5, seed: 1, clients: 0, mutant: null, options: { preVote: false } },
  steps: [
    { en: 'All five nodes start as followers, with no leader; each log holds only the initial configuration (entry 1). Each node runs an election timer (the ring around it) with a random timeout.', zh: '五个节点都以跟随者身份启动，没有领导者；每个日志中只有初始配置（条目 1）。每个节点都运行一个随机超时的选举计时器（外圈）。', until: () => true },
    { en: 'One node heard no leader before its timer ran out: it becomes a candidate, moves to the next term and votes for itself.', zh: '一个节点在计时器到期前没有收到领导者的消息：它成为候选人，进入下一个任期，并投票给自己。', until: (t) => t.views().some((v) => v['role'] === 'candidate') },
    { en: 'It asks every other node for its vote: RequestVote messages (orange) are in flight. Hover over one to read it.', zh: '它向其他所有节点请求投票：RequestVote 消息（橙色）正在传输中。把鼠标悬停在消息上可查看内容。', until: (t) => t.inFlight('RequestVote').length > 0 },
    { en: 'Votes come back: each node grants at most one vote per term, to a candidate whose log is at least as up to date as its own.', zh: '投票返回：每个节点在一个任期内最多投一票，只投给日志至少和自己一样新的候选人。', until: (t) => t.inFlight('RequestVoteResponse').length > 0 },
    { en: 'A majority (3 of 5, its own vote included) makes it leader. It appends an empty entry of its term and sends heartbeats, which reset the others\' timers.', zh: '获得多数票（5 票中的 3 票，包括自己的一票）后它成为领导者。它追加一条本任期的空条目并发送心跳，重置其他节点的计时器。', until: (t) => t.leader() !== null },
    {
      en: 'A client sends a change, x = v…, to the leader.',
      zh: '一个客户端把修改 x = v… 发送给领导者。',
      enter: (t) => t.act({ kind: 'request', node: t.leader() ?? 0 }),
      until: () => true,
    },
    {
      en: 'The leader appends the change to its log, not yet committed (dashed cell). Nothing is applied yet.',
      zh: '领导者把修改追加到自己的日志中，尚未提交（虚线格子），还没有应用到状态机。',
      until: (t) => {
        const l = t.leader();
        if (l === null || !t.memo.has(`request-at-${l}`)) return false;
        if (!t.memo.has('target')) t.memo.set('target', num(t.views()[l]?.['lastIndex']));
        return true;
      },
    },
    { en: 'The leader replicates it: AppendEntries (green) carry the entry; each follower appends it to its own log, still uncommitted.', zh: '领导者复制这条条目：AppendEntries（绿色）把它带给跟随者；每个跟随者把它追加到自己的日志中，仍未提交。', until: (t) => t.views().some((v, i) => i !== t.leader() && num(v['lastIndex']) >= (t.memo.get('target') ?? 1)) },
    { en: 'The leader waits for a majority: followers acknowledge with AppendEntriesResponse (dark green), reporting how far their log matches.', zh: '领导者等待多数派：跟随者用 AppendEntriesResponse（深绿色）确认，报告它们的日志匹配到哪里。', until: (t) => t.inFlight('AppendEntriesResponse').length > 0 },
    { en: 'Stored on a majority, the entry is committed: the leader marks it (solid cell), applies it, and x = v… appears in its key-value state.', zh: '条目已保存在多数节点上，于是被提交：领导者将其标记为已提交（实心格子）并应用，x = v… 出现在它的键值状态中。', until: (t) => { const l = t.leader(); return l !== null && num(t.views()[l]?.['commitIndex']) >= (t.memo.get('target') ?? 1); } },
    { en: 'The leader tells the followers the new commit index in its next AppendEntries or heartbeat; they commit and apply too.', zh: '领导者在下一条 AppendEntries 或心跳中告诉跟随者新的提交索引；跟随者也随之提交并应用。', until: (t) => t.views().some((v, i) => i !== t.leader() && num(v['commitIndex']) >= (t.memo.get('target') ?? 1)) },
    { en: 'The cluster agrees: every node has committed and applied the change, and all key-value states are the same.', zh: '集群达成一致：每个节点都已提交并应用这次修改，所有键值状态都相同。', until: (t) => t.views().every((v) => num(v['commitIndex']) >= (t.memo.get('target') ?? 1) && num(v['applied']) >= (t.memo.get('target') ?? 1)) },
  ],
};

const paxosTour: Tour = {
  id: 'paxos',
  title: 'Paxos: two phases, dueling proposers, a leader',
  setup: { protocol: 'paxos', nodes: 5, seed: 4, clients: 0, mutant: null, options: { duelRounds: 4 } },
  steps: [
    { en: 'Five nodes; each one is a proposer, an acceptor and a learner. Nothing has been proposed and nobody leads.', zh: '五个节点；每个节点同时是提议者、接受者和学习者。还没有任何提议，也没有领导者。', until: () => true },
    {
      en: 'Five clients each propose a different value, one to every node, at the same moment.',
      zh: '五个客户端同时各自提出一个不同的值，每个节点收到一个。',
      enter: (t) => {
        for (let i = 0; i < t.session.sim.n; i++) t.act({ kind: 'request', node: i });
      },
      until: () => true,
    },
    { en: 'Phase 1a: a proposer picks a ballot (round.node), higher than any it has seen, and sends prepare (purple) to every acceptor.', zh: '阶段 1a：提议者选择一个比它见过的都大的选票号（轮次.节点），向所有接受者发送 prepare（紫色）。', until: (t) => t.sentCount('prepare') > 0 },
    { en: 'Phase 1b: an acceptor promises (lilac) to ignore every lower ballot, and reports the value it accepted, if any.', zh: '阶段 1b：接受者承诺（淡紫色）忽略所有更小的选票，并报告它已接受的值（如果有）。', until: (t) => t.sentCount('promise') > 0 },
    { en: 'Phase 2a: a proposer with promises from a majority sends accept(ballot, value) (green) — the value reported under the highest ballot, or its own.', zh: '阶段 2a：获得多数派承诺的提议者发送 accept(选票, 值)（绿色）——值取报告中最高选票的那个值，若无则用自己的值。', until: (t) => t.sentCount('accept') > 0 },
    { en: 'Dueling proposers: a rival\'s higher ballot got there first, so acceptors refuse (nack, red); the refused proposer starts again, higher.', zh: '提议者决斗：对手更大的选票先到，接受者拒绝（nack，红色）；被拒绝的提议者用更大的选票重新开始。', until: (t) => t.sentCount('nack') > 0 && t.eventCount('ballot') >= 6 },
    { en: 'The duel goes on: every new prepare outbids the accepts of the last one. A dozen ballots and still nothing is chosen — Paxos is safe, but not live, without a leader.', zh: '决斗继续：每个新的 prepare 都压过上一个提议的 accept。已经十几个选票了，仍然没有值被选定——没有领导者，Paxos 是安全的，但不保证活性。', until: (t) => t.eventCount('ballot') >= 12 },
    {
      en: 'The leader that ends it: after too many refusals the nodes stop proposing on their own and elect a distinguished proposer by heartbeats. Only it runs ballots now, after a random back-off, so the last accept is no longer outbid.',
      zh: '终结决斗的领导者：被拒绝太多次后，节点不再各自提议，而是通过心跳选出一个特定的提议者。现在只有它在随机退避后发起选票，最后一个 accept 不再被压过。',
      until: (t) => t.leader() !== null,
    },
    { en: 'Chosen: a majority of acceptors accepted the same ballot and value and told the learners (accepted, dark green). Every learner learns it; any later ballot\'s phase 1 finds this value, so no other value can ever be chosen.', zh: '值被选定：多数接受者接受了同一选票和值，并通知了学习者（accepted，深绿色）。每个学习者都学到了它；之后任何选票在阶段 1 都会发现这个值，因此不可能再选定其他值。', until: (t) => t.views().every((v) => v['learned'] !== null && v['learned'] !== undefined) },
  ],
};

function allVotedYes(t: TourContext, participants: number): boolean {
  return t.eventCount('voted') >= participants;
}

function allDecided(t: TourContext, from: number): boolean {
  return t.views().slice(from).every((v) => {
    const p = v['participant'];
    return Array.isArray(p) && p.length > 0 && (p as Rec[]).every((x) => x['outcome'] !== null);
  });
}

const twoPcTour: Tour = {
  id: '2pc',
  title: '2PC: a coordinator crash blocks',
  setup: { protocol: '2pc', nodes: 4, seed: 1, clients: 0, mutant: null, options: { noProbability: 0 } },
  steps: [
    { en: 'n0 is the coordinator; n1, n2 and n3 are the participants (resource managers).', zh: 'n0 是协调者；n1、n2、n3 是参与者（资源管理器）。', until: () => true },
    { en: 'A client asks the coordinator to commit a transaction.', zh: '一个客户端请求协调者提交一个事务。', enter: (t) => t.act({ kind: 'request', node: 0 }), until: (t) => t.memo.has('request-at-0') },
    { en: 'Phase 1: the coordinator sends vote-request (purple) to every participant.', zh: '阶段 1：协调者向每个参与者发送 vote-request（紫色）。', until: (t) => t.sentCount('vote-request') > 0 },
    { en: 'Each participant makes its prepared record durable and votes yes. From now on it is in doubt: it may neither commit nor abort alone.', zh: '每个参与者把 prepared 记录写入磁盘后投赞成票。从此它处于不确定状态：不能自行提交或中止。', until: (t) => allVotedYes(t, 3) },
    { en: 'The coordinator crashes before the votes reach it.', zh: '在投票到达之前，协调者崩溃了。', enter: (t) => { t.act({ kind: 'crash', node: 0 }); t.memo.set('crashAt', t.now()); }, until: () => true },
    { en: 'Blocked: the participants ask the coordinator and each other (decision-request, red), but nobody knows the outcome. They wait, holding their locks, for as long as the coordinator is down.', zh: '阻塞：参与者询问协调者和彼此（decision-request，红色），但没有人知道结果。只要协调者不恢复，它们就一直等待并持有锁。', until: (t) => t.now() >= (t.memo.get('crashAt') ?? 0) + 1500 },
    { en: 'Only when the coordinator restarts is the transaction resolved: it has no commit record, so (presumed abort) the answer is abort.', zh: '只有协调者重启后事务才得以解决：它没有提交记录，因此（假定中止）结果是中止。', enter: (t) => t.act({ kind: 'restart', node: 0 }), until: (t) => allDecided(t, 1) },
  ],
};

const paxosCommitTour: Tour = {
  id: 'paxos-commit',
  title: 'Paxos Commit: the same crash does not block',
  setup: { protocol: 'paxos-commit', nodes: 4, seed: 1, clients: 0, mutant: null, options: { noProbability: 0 } },
  steps: [
    { en: 'n0 is the transaction manager (TM); n1–n3 are the resource managers (RMs). Acceptors run on n0–n2 (2F+1 = 3, tolerating F = 1 failure).', zh: 'n0 是事务管理器（TM）；n1–n3 是资源管理器（RM）。接受者运行在 n0–n2 上（2F+1 = 3，容忍 F = 1 个故障）。', until: () => true },
    { en: 'A client asks the TM to commit a transaction; the TM asks every RM to prepare.', zh: '客户端请求 TM 提交事务；TM 请求每个 RM 进行准备。', enter: (t) => t.act({ kind: 'request', node: 0 }), until: (t) => t.sentCount('vote-request') > 0 },
    { en: 'Each RM\'s vote is a Paxos instance of its own: it sends "prepared" as a ballot-0 accept to the acceptors, which record it durably.', zh: '每个 RM 的投票都是一个独立的 Paxos 实例：它把 “prepared” 作为选票 0 的 accept 发送给接受者，接受者将其持久化。', until: (t) => allVotedYes(t, 3) && t.sentCount('accepted') > 0 },
    { en: 'The TM crashes, as in the 2PC tour.', zh: 'TM 崩溃了，和 2PC 导览中一样。', enter: (t) => t.act({ kind: 'crash', node: 0 }), until: () => true },
    { en: 'Not blocked: after a timeout another node takes over as leader, runs phase 1 for every instance at a higher ballot, and learns from a majority of acceptors that every RM prepared.', zh: '没有阻塞：超时后另一个节点接管成为领导者，用更大的选票为每个实例运行阶段 1，从多数接受者处得知每个 RM 都已准备好。', until: (t) => t.eventCount('take-over') > 0 },
    { en: 'The decision is reached without the TM: every RM learns the outcome while n0 is still down.', zh: '无需 TM 即可做出决定：在 n0 仍然宕机时，每个 RM 都得知了结果。', until: (t) => allDecided(t, 1) },
  ],
};

const multiPaxosTour: Tour = {
  id: 'multipaxos',
  title: 'Multi-Paxos: phase 1 once, then one round trip per command',
  setup: { protocol: 'multipaxos', nodes: 3, seed: 1, clients: 0, mutant: null, options: {} },
  steps: [
    { en: 'Three nodes, all followers, no leader. Each slot of the log is a separate Paxos instance.', zh: '三个节点，都是跟随者，没有领导者。日志的每个槽位都是一个独立的 Paxos 实例。', until: () => true },
    { en: 'A node heard no leader for a while: it runs phase 1 once for every slot from its first unchosen one — prepare(ballot, fromSlot).', zh: '一个节点一段时间没有收到领导者的消息：它为从第一个未选定槽位开始的所有槽位一次性运行阶段 1——prepare(选票, 起始槽位)。', until: (t) => t.sentCount('prepare') > 0 },
    { en: 'Promises from a majority make it leader for all those slots at once. From now on it skips phase 1.', zh: '获得多数派的承诺后，它一次性成为所有这些槽位的领导者。此后它跳过阶段 1。', until: (t) => t.leader() !== null },
    {
      en: 'A client sends a change, x = v…, to the leader.',
      zh: '一个客户端把修改 x = v… 发送给领导者。',
      enter: (t) => t.act({ kind: 'request', node: t.leader() ?? 0 }),
      until: (t) => {
        const l = t.leader();
        if (l === null || !t.memo.has(`request-at-${l}`)) return false;
        t.memo.set('target', num(t.views()[l]?.['lastIndex']));
        return true;
      },
    },
    { en: 'Phase 2 only: the leader puts the command in the next slot and sends accept (green) for it; acceptors accept and answer (accepted).', zh: '只需阶段 2：领导者把命令放入下一个槽位并为它发送 accept（绿色）；接受者接受并回复（accepted）。', until: (t) => t.inFlight('accepted').length > 0 },
    { en: 'Accepted by a majority, the slot is chosen: the leader applies the command (x = v… in its state).', zh: '被多数派接受后，该槽位被选定：领导者应用该命令（它的状态中出现 x = v…）。', until: (t) => { const l = t.leader(); return l !== null && num(t.views()[l]?.['commitIndex']) >= (t.memo.get('target') ?? 1); } },
    { en: 'The followers learn how far the log is chosen from the leader\'s next message, and apply it too.', zh: '跟随者从领导者的下一条消息得知日志已选定到哪里，也随之应用。', until: (t) => t.views().every((v) => num(v['commitIndex']) >= (t.memo.get('target') ?? 1)) },
  ],
};

const threePcTour: Tour = {
  id: '3pc',
  title: '3PC: a coordinator crash after pre-commit does not block',
  setup: { protocol: '3pc', nodes: 4, seed: 1, clients: 0, mutant: null, options: { noProbability: 0 } },
  steps: [
    { en: 'n0 is the coordinator; n1, n2 and n3 are the participants. 3PC adds a phase between the vote and the commit.', zh: 'n0 是协调者；n1、n2、n3 是参与者。3PC 在投票和提交之间增加了一个阶段。', until: () => true },
    { en: 'A client asks to commit; the coordinator asks every participant whether it can commit (can-commit).', zh: '客户端请求提交；协调者询问每个参与者能否提交（can-commit）。', enter: (t) => t.act({ kind: 'request', node: 0 }), until: (t) => t.sentCount('can-commit') > 0 },
    { en: 'Every participant votes yes.', zh: '每个参与者都投赞成票。', until: (t) => allVotedYes(t, 3) },
    { en: 'All voted yes: the coordinator sends pre-commit — "everyone agreed; get ready". Participants acknowledge (ack).', zh: '全部赞成：协调者发送 pre-commit——“所有人都同意了，准备提交”。参与者确认（ack）。', until: (t) => t.sentCount('ack') > 0 },
    { en: 'The coordinator crashes before it sends do-commit.', zh: '协调者在发送 do-commit 之前崩溃了。', enter: (t) => t.act({ kind: 'crash', node: 0 }), until: () => true },
    { en: 'Termination protocol: after a timeout a participant takes the lead and asks the others for their state (state-request).', zh: '终止协议：超时后，一个参与者接手，询问其他参与者的状态（state-request）。', until: (t) => t.sentCount('state-request') > 0 },
    { en: 'Someone is pre-committed, so nobody can have aborted: they commit, with the coordinator still down. (Under a network partition, this same rule can go wrong.)', zh: '有人已处于预提交状态，因此不可能有人中止：在协调者仍然宕机时它们提交了。（若发生网络分区，同样的规则可能出错。）', until: (t) => allDecided(t, 1) },
  ],
};

export const TOURS: readonly Tour[] = [raftTour, paxosTour, multiPaxosTour, twoPcTour, threePcTour, paxosCommitTour];

/** Limit on events between two steps: a step whose condition never holds is reported, not looped on. */
export const MAX_EVENTS_PER_STEP = 300_000;

/** Drives a tour: reaches step k from step k-1 by running the simulation; remembers where each step was. */
export class TourRun {
  readonly ctx: TourContext;
  /** Event index of each step reached so far. */
  readonly marks: number[] = [];
  step = -1;
  error: string | null = null;

  constructor(readonly tour: Tour, readonly session: Session) {
    this.ctx = new TourContext(session);
  }

  /** Goes to step k (forward by driving, backward by replay). Returns false if a step could not be reached. */
  goTo(k: number): boolean {
    const target = Math.max(0, Math.min(k, this.tour.steps.length - 1));
    if (target < this.marks.length) {
      this.session.goTo(this.marks[target] as number);
      this.step = target;
      return true;
    }
    if (this.marks.length > 0) this.session.goTo(this.marks[this.marks.length - 1] as number);
    while (this.marks.length <= target) {
      const s = this.tour.steps[this.marks.length] as TourStep;
      s.enter?.(this.ctx);
      let n = 0;
      while (!s.until(this.ctx)) {
        if (n++ > MAX_EVENTS_PER_STEP || !this.session.stepOne()) {
          this.error = `step ${this.marks.length + 1} was not reached within ${MAX_EVENTS_PER_STEP} events`;
          return false;
        }
      }
      this.marks.push(this.session.events);
      this.step = this.marks.length - 1;
    }
    return true;
  }
}
