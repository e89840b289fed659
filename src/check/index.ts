// The checker's public API: linearizability of key-value histories.
export type { History, HistoryEvent, EventType, OpFunction, Value } from './history.js';
export { parseHistory, formatEvent, MAX_HISTORY_EVENTS, type ParseResult } from './parse.js';
export {
  checkLinearizability,
  analyzeHistory,
  DEFAULT_MAX_STEPS,
  DEFAULT_MAX_MEMO_WORDS,
  DEFAULT_SHRINK_STEPS,
  type Verdict,
  type CheckOptions,
  type CheckStats,
} from './linearizability.js';
export { generateRegisterHistory, type GenerateOptions } from './generate.js';
