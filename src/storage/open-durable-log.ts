// The one call a server makes at start-up: open the WAL in `dir` (cutting a
// torn tail, refusing on corruption) and decode the protocol core's durable
// writes for `recover(config, writes)`.

import { DurableLog } from './durable-log.js';
import type { DurableLogOptions, RecoveredLog } from './durable-log.js';
import { Wal } from './wal.js';
import type { WalOpenReport, WalOptions } from './wal.js';

export interface OpenedDurableLog<W> extends RecoveredLog<W> {
  /** What start-up found: a torn tail cut off, segments of an interrupted release deleted. */
  readonly report: WalOpenReport;
  readonly wal: Wal;
}

export async function openDurableLog<W>(dir: string, options: WalOptions & DurableLogOptions = {}): Promise<OpenedDurableLog<W>> {
  const opened = await Wal.open(dir, options);
  try {
    const { log, recovered } = DurableLog.recover<W>(opened, options);
    return { log, recovered, report: opened.report, wal: opened.log };
  } catch (e) {
    await opened.log.close();
    throw e;
  }
}
