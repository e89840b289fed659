// Lint rules. The pure folders (see docs/ARCHITECTURE.md) must run unchanged in
// the simulator, the server and the browser: no node:* imports, no clock, no
// timers, no Math.random. Import cycles fail the build everywhere.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import importX from 'eslint-plugin-import-x';
import { createTypeScriptImportResolver } from 'eslint-import-resolver-typescript';

const PURE = ['core', 'raft', 'paxos', 'commit', 'kv', 'rsm', 'sim', 'check'];

const NODE_BUILTINS = [
  'assert', 'buffer', 'child_process', 'cluster', 'crypto', 'dgram', 'dns', 'events', 'fs',
  'fs/promises', 'http', 'http2', 'https', 'net', 'os', 'path', 'perf_hooks', 'process',
  'readline', 'stream', 'timers', 'tls', 'url', 'util', 'worker_threads', 'zlib',
];

const pureRules = {
  'no-restricted-imports': ['error', {
    patterns: [
      { group: ['node:*'], message: 'Pure folders import no node:* module (docs/ARCHITECTURE.md).' },
      ...NODE_BUILTINS.map((m) => ({ group: [m], message: 'Pure folders import no Node built-in.' })),
      { group: ['**/storage/**', '**/net/**', '**/server/**', '**/cli/**'], message: 'Pure folders depend only on pure folders.' },
    ],
  }],
  'no-restricted-globals': ['error',
    { name: 'Date', message: 'No clock in pure folders: time comes in as ticks.' },
    { name: 'performance', message: 'No clock in pure folders.' },
    { name: 'setTimeout', message: 'No timers in pure folders.' },
    { name: 'setInterval', message: 'No timers in pure folders.' },
    { name: 'setImmediate', message: 'No timers in pure folders.' },
    { name: 'queueMicrotask', message: 'No scheduling in pure folders.' },
    { name: 'process', message: 'No process access in pure folders.' },
    { name: 'require', message: 'ESM only.' },
  ],
  'no-restricted-properties': ['error',
    { object: 'Math', property: 'random', message: 'Randomness comes from the injected PRNG (src/core/prng.ts).' },
    { object: 'globalThis', property: 'Date', message: 'No clock in pure folders.' },
    { object: 'globalThis', property: 'performance', message: 'No clock in pure folders.' },
  ],
};

export default tseslint.config(
  { ignores: ['dist/', 'dist-*/', 'node_modules/', 'web/dist/', 'data/', 'test-artifacts/', '**/*.js', '**/*.mjs'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    plugins: { 'import-x': importX },
    settings: {
      'import-x/resolver-next': [createTypeScriptImportResolver({ project: './tsconfig.json' })],
      'import-x/parsers': { '@typescript-eslint/parser': ['.ts'] },
      'import-x/extensions': ['.ts', '.js'],
    },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      'import-x/no-cycle': ['error', { ignoreExternal: true }],
      'no-console': 'off',
      eqeqeq: ['error', 'always', { null: 'ignore' }],
    },
  },
  {
    files: PURE.map((d) => `src/${d}/**/*.ts`),
    rules: pureRules,
  },
);
