// Branded identifiers and counters. Values that must never be mixed (a term is
// not a log index, a slot is not a ballot round) get distinct brands, so the
// compiler refuses to pass one where the other is expected.

declare const brand: unique symbol;
export type Brand<T, B extends string> = T & { readonly [brand]: B };

/** A member of a cluster. Small non-negative integers in the simulator; 53-bit safe integers in the server. */
export type NodeId = Brand<number, 'NodeId'>;
/** Raft §5.1: a term number. */
export type Term = Brand<number, 'Term'>;
/** Raft §5.3: a position in the replicated log, 1-based; 0 means "before the first entry". */
export type LogIndex = Brand<number, 'LogIndex'>;
/** Multi-Paxos: a position in the sequence of decrees, 1-based. */
export type Slot = Brand<number, 'Slot'>;
/** Atomic commit: a transaction. */
export type TxId = Brand<string, 'TxId'>;
/** A client session (for exactly-once application of retried requests). */
export type ClientId = Brand<string, 'ClientId'>;

function checkInteger(n: number, what: string): void {
  if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`${what} must be a non-negative safe integer, got ${n}`);
}

export const NodeId = (n: number): NodeId => (checkInteger(n, 'NodeId'), n as NodeId);
export const Term = (n: number): Term => (checkInteger(n, 'Term'), n as Term);
export const LogIndex = (n: number): LogIndex => (checkInteger(n, 'LogIndex'), n as LogIndex);
export const Slot = (n: number): Slot => (checkInteger(n, 'Slot'), n as Slot);
export const TxId = (s: string): TxId => s as TxId;
export const ClientId = (s: string): ClientId => s as ClientId;
