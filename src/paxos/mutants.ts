// Deliberate bugs (VOPR-style): each one breaks a rule of Paxos, and the
// simulator's invariants must catch it. Switched on by NodeContext.mutants.

export const PAXOS_MUTANTS = {
  acceptLowerBallot: 'accept-lower-ballot',
  ignoreAcceptedValue: 'ignore-accepted-value',
  learnMixedBallots: 'learn-mixed-ballots',
  forgetPromise: 'forget-promise',
  transferKeepsLease: 'transfer-keeps-lease',
} as const;

export const PAXOS_MUTANT_DESCRIPTIONS: Readonly<Record<string, string>> = {
  [PAXOS_MUTANTS.acceptLowerBallot]: 'an acceptor accepts a proposal below its promise (breaks P1a); agreement fails',
  [PAXOS_MUTANTS.ignoreAcceptedValue]: 'a proposer proposes its own value despite a promise reporting an accepted one (breaks P2c); agreement fails',
  [PAXOS_MUTANTS.learnMixedBallots]: 'a learner counts acceptances of one value under different ballots together; it can learn a value never chosen',
  [PAXOS_MUTANTS.forgetPromise]: 'an acceptor does not persist its promise, so after a restart it breaks it; promised ballots go down',
  [PAXOS_MUTANTS.transferKeepsLease]: 'Multi-Paxos: a leader that hands leadership over (releasing the acceptors from its lease) goes on answering reads from that lease until it would have run out; with leaseReads, reads go stale',
};
