// A replicated counter embedded in a Node.js program: three replicas in one
// process here for brevity; in a real service each runs in its own process or
// machine with the same `members` map. Run: npm run build && node dist/examples/counter.js
import { rmSync } from 'node:fs';
import { startReplica, type StateMachine } from '../src/index.js';

type Command = { add: number };

class Counter implements StateMachine<Command, number, number> {
  value = 0;
  apply(c: Command): number {
    this.value += c.add;
    return this.value;
  }
  snapshot(): number {
    return this.value;
  }
  restore(s: number): void {
    this.value = s;
  }
}

const members = { a: '127.0.0.1:7101', b: '127.0.0.1:7102', c: '127.0.0.1:7103' };
rmSync('./data/counter', { recursive: true, force: true });
const replicas = await Promise.all(Object.keys(members).map((id) =>
  startReplica({ id, members, dataDir: `./data/counter/${id}`, stateMachine: new Counter() })));

const [a, b] = replicas;
console.log('after +5:', await a!.propose({ add: 5 }));      // 5, once a majority has it
console.log('after +2:', await b!.propose({ add: 2 }));      // 7, forwarded to the leader
console.log('read at c:', await replicas[2]!.read((sm) => (sm as Counter).value)); // 7, linearizable
console.log('leader:', a!.status().leaderName);
await Promise.all(replicas.map((r) => r.stop()));
