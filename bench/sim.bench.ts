// Simulator speed: simulated seconds per wall second for a cluster under a
// steady client load (the kv workload), without the end-of-run linearizability
// check (that is the checker's cost, measured in bench/check.bench.ts).
//
//   node dist/bench/sim.bench.js [--protocol register] [--nodes 5] [--clients 5]
//        [--think-ms 20] [--seconds 60] [--runs 5] [--faults none]
//
// Prints figures per run, the median, and one JSON line.
import { parseArgs } from 'node:util';
import { parseFaults } from '../src/sim/faults.js';
import { kvWorkload } from '../src/sim/kv-workload.js';
import { findProtocol, protocolNames } from '../src/sim/registry.js';
import { createRun } from '../src/sim/run.js';
import { resolveWorkload } from '../src/sim/workloads.js';

const { values } = parseArgs({
  options: {
    protocol: { type: 'string', default: 'register' },
    nodes: { type: 'string', default: '5' },
    clients: { type: 'string', default: '5' },
    'think-ms': { type: 'string', default: '20' },
    seconds: { type: 'string', default: '60' },
    runs: { type: 'string', default: '5' },
    faults: { type: 'string', default: 'none' },
  },
});

const spec = findProtocol(values.protocol);
if (spec === undefined) {
  console.error(`unknown protocol '${values.protocol}' (known: ${protocolNames().join(', ')})`);
  process.exit(2);
}
const nodes = Number(values.nodes);
const clients = Number(values.clients);
const thinkMs = Number(values['think-ms']);
const durationMs = Number(values.seconds) * 1000;
const runs = Number(values.runs);
const faults = parseFaults(values.faults);
const factory = spec.workload === 'kv' ? kvWorkload : resolveWorkload(spec.name, spec.workload);

interface Sample {
  seed: number;
  wallMs: number;
  events: number;
  ops: number;
  ratio: number;
  /** The same per second of this process's CPU time (less sensitive to a busy machine). */
  cpuRatio: number;
}

function once(seed: number): Sample {
  const { sim, start } = createRun({ spec: spec!, seed, nodes, durationMs, faults, mutants: new Set() });
  const workload = factory({ clients, options: { thinkMs } });
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  sim.attachWorkload(workload as never);
  start();
  sim.runUntil(durationMs);
  const wallMs = performance.now() - t0;
  const cpu = process.cpuUsage(c0);
  const cpuMs = (cpu.user + cpu.system) / 1000;
  const ops = workload.completed();
  if (sim.violation !== null) throw new Error(`seed ${seed}: ${sim.violation.invariant}: ${sim.violation.message}`);
  return { seed, wallMs, events: sim.events, ops, ratio: durationMs / wallMs, cpuRatio: durationMs / cpuMs };
}

once(1000); // warm-up (JIT)
const samples: Sample[] = [];
for (let r = 0; r < runs; r++) {
  const s = once(r + 1);
  samples.push(s);
  console.log(`seed ${s.seed}: ${(durationMs / 1000).toFixed(0)} simulated s in ${s.wallMs.toFixed(0)} ms = ${s.ratio.toFixed(0)} simulated s per wall s (${s.cpuRatio.toFixed(0)} per CPU s); ${s.events} events (${(s.events / s.wallMs / 1000).toFixed(2)} M/s), ${s.ops} ops (${(s.ops / (durationMs / 1000)).toFixed(0)}/simulated s)`);
}
const sorted = samples.slice().sort((a, b) => a.ratio - b.ratio);
const median = sorted[Math.floor(sorted.length / 2)] as Sample;
const cpuMedian = (samples.map((x) => x.cpuRatio).sort((a, b) => a - b)[Math.floor(samples.length / 2)]) as number;
console.log(`median: ${median.ratio.toFixed(0)} simulated s per wall s, ${cpuMedian.toFixed(0)} per CPU s (${spec.name}, ${nodes} nodes, ${clients} clients, think ${thinkMs} ms, faults ${values.faults}); goal >= 1000`);
console.log(JSON.stringify({
  bench: 'sim', protocol: spec.name, nodes, clients, thinkMs, faults: values.faults, simulatedSeconds: durationMs / 1000, runs,
  medianSimulatedPerWallSecond: Math.round(median.ratio), medianSimulatedPerCpuSecond: Math.round(cpuMedian), medianEventsPerWallSecond: Math.round(median.events / median.wallMs * 1000),
  opsPerSimulatedSecond: Math.round(median.ops / (durationMs / 1000)),
}));
