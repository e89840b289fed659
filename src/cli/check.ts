import type { Command } from 'commander';
import { UsageError } from './errors.js';

// Placeholder until the 'check' command lands.
export function register(program: Command): void {
  program.command('check').description('(not yet built)').action(() => {
    throw new UsageError('synod check is not built yet');
  });
}
