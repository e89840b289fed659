// Every subcommand of `synod`, one module each. Each module exports
// `register(program)` and adds its command with its own --help.
import type { Command } from 'commander';
import { register as registerCheck } from './check.js';
import { register as registerSim } from './sim.js';
import { register as registerStart } from './start.js';
import { register as registerClient } from './client-commands.js';
import { register as registerNode } from './node.js';
import { register as registerPlay } from './play.js';
import { register as registerWatchLease } from './watch-lease-commands.js';
import { register as registerSnapshot } from './snapshot-commands.js';
import { register as registerLockElect } from './lock-elect-commands.js';

export function registerAll(program: Command): void {
  registerCheck(program);
  registerSim(program);
  registerStart(program);
  registerNode(program);
  registerPlay(program);
  registerWatchLease(program);
  registerClient(program);
  registerSnapshot(program);
  registerLockElect(program);
}
