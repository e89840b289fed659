// Golden traces (after etcd-io/raft's testdata interaction scripts): scripted
// scenarios on the in-test network, whose protocol events must match the files
// in testdata/raft/. Regenerate with RAFT_GOLDEN_UPDATE=1 after a deliberate
// change, and review the diff.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { NodeId } from '../../src/core/ids.js';
import { Net, ids } from './harness.js';

// dist*/test/raft/golden.test.js -> repository root
const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const dir = join(root, 'testdata', 'raft');

function trace(net: Net): string {
  return net.events.map((e) => `${e.node} ${e.kind} ${JSON.stringify(e.detail)}`).join('\n') + '\n';
}

const scenarios: Record<string, () => Net> = {
  'election-and-replication': () => {
    const net = new Net(ids(1, 2, 3), {}, 21);
    net.elect(1);
    net.propose(1, 'a');
    net.propose(1, 'b');
    net.tickAll(2);
    return net;
  },
  'partitioned-leader': () => {
    const net = new Net(ids(1, 2, 3), {}, 22);
    net.elect(1);
    net.propose(1, 'a');
    net.tickAll(2);
    net.partition([1], [2, 3]);
    for (let i = 0; i < 40 && !net.leaders().some((l) => l !== 1); i++) net.tickAll();
    net.heal();
    net.tickAll(5);
    return net;
  },
  'membership-and-transfer': () => {
    const net = new Net(ids(1, 2, 3), {}, 23, (id) => (id === 4 ? { peers: [] } : {}));
    net.start(4, null);
    net.elect(1);
    net.node(1).proposeConfChange([{ type: 'add-voter', node: NodeId(4) }]);
    net.flush(1);
    net.tickAll(3);
    net.node(1).transferLeadership(NodeId(4));
    net.flush(1);
    net.tickAll(3);
    return net;
  },
};

describe('golden traces (testdata/raft)', () => {
  for (const [name, run] of Object.entries(scenarios)) {
    test(name, () => {
      const got = trace(run());
      const file = join(dir, `${name}.txt`);
      if (process.env['RAFT_GOLDEN_UPDATE'] === '1') {
        mkdirSync(dir, { recursive: true });
        writeFileSync(file, got);
      }
      assert.ok(existsSync(file), `${file} is missing (RAFT_GOLDEN_UPDATE=1 writes it)`);
      assert.equal(got, readFileSync(file, 'utf8'), `trace of ${name} differs from ${file} (RAFT_GOLDEN_UPDATE=1 regenerates it)`);
    });
  }
});
