// Client histories, Jepsen-style: one event per line, an invoke followed later
// by its completion from the same process. This is the format `synod check`
// reads (JSON Lines) and the simulator's workload records.
//
//   {"process": 3, "type": "invoke" | "ok" | "fail" | "info", "f": "read" | "write" | "cas", "key": "x", "value": ...}
//
// A read's invoke has value null and its ok carries the value read (null when
// the key is absent). A cas has value [expected, new] and completes with "fail"
// when the expected value did not match. "info" means the outcome is unknown:
// the operation may or may not have taken effect. `time` (ns) is optional.

export type OpFunction = 'read' | 'write' | 'cas';
export type EventType = 'invoke' | 'ok' | 'fail' | 'info';
/** Values are JSON scalars; null is "absent". */
export type Value = string | number | boolean | null;

export interface HistoryEvent {
  readonly process: number;
  readonly type: EventType;
  readonly f: OpFunction;
  readonly key: string;
  readonly value: Value | readonly [Value, Value];
  readonly time?: number;
}

export type History = readonly HistoryEvent[];
