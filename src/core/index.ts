export * from './ids.js';
export * from './assert.js';
export * from './prng.js';
export * from './quorum.js';
export * from './effects.js';
export * from './replicated-log.js';
