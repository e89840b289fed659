import type { Command } from 'commander';
import { UsageError } from './errors.js';

// Placeholder until the 'sim' command lands.
export function register(program: Command): void {
  program.command('sim').description('(not yet built)').action(() => {
    throw new UsageError('synod sim is not built yet');
  });
}
