#!/usr/bin/env node
// The `synod` command. Exit codes: 0 ok, 1 a failing verdict, 2 bad usage or input.

import { Command, CommanderError } from 'commander';
import { UsageError, EXIT_USAGE } from './errors.js';
import { registerAll } from './commands.js';

// grpc-js sends an IP endpoint's address as the TLS server name, which Node
// deprecates (DEP0123) with a warning on every https:// dial by address. The
// certificate is still checked against the address; the warning says nothing
// a user can act on, so the client commands do not print it.
const emitWarning = process.emitWarning.bind(process) as (...args: unknown[]) => void;
process.emitWarning = ((warning: string | Error, ...rest: unknown[]) => {
  if (rest[1] === 'DEP0123' || (typeof rest[0] === 'object' && (rest[0] as { code?: string } | null)?.code === 'DEP0123')) return;
  emitWarning(warning, ...rest);
}) as typeof process.emitWarning;

const program = new Command()
  .name('synod')
  .description('A consensus toolkit: Raft, Paxos, Multi-Paxos, 2PC, 3PC and Paxos Commit, a deterministic simulator and a linearizability checker.')
  .version('0.1.0')
  .showHelpAfterError('(run with --help for usage)')
  .exitOverride();
registerAll(program);

async function main(argv: readonly string[]): Promise<number> {
  try {
    await program.parseAsync(argv);
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (err) {
    if (err instanceof CommanderError) {
      // --help and --version end through here with exit code 0.
      return err.exitCode === 0 ? 0 : EXIT_USAGE;
    }
    if (err instanceof UsageError) {
      process.stderr.write(`synod: ${err.message}\n`);
      return EXIT_USAGE;
    }
    throw err;
  }
}

process.exitCode = await main(process.argv);
