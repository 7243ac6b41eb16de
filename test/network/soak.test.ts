/**
 * The chaos soak (scripts/soak.ts, issue 23) for 2 minutes, under `npm run test:slow` only: a
 * `tusk dev` network of 4 node processes under random stores, reads, deletes and extends while
 * nodes are SIGKILLed, SIGSTOPped, the chain server is killed and epochs change; the script exits
 * 0 only if every acknowledged blob reads back (before and after a full restart), every sliver is
 * recovered, nothing was paid twice and the supply audit is exact. Its JSON report is checked here.
 */
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const SLOW = process.env.TUSK_SLOW === '1';
const script = fileURLToPath(new URL('../../scripts/soak.ts', import.meta.url));

describe.skipIf(!SLOW)('chaos soak, 2 minutes (TUSK_SLOW=1)', () => {
  it(
    'no acknowledged blob lost, no double payment, every sliver recovered, supply exact',
    () => {
      const r = spawnSync(
        process.execPath,
        [script, '--minutes', '2', '--seed', '42', '--nodes', '4', '--n-shards', '40', '--max-size-mib', '4'],
        { encoding: 'utf8', timeout: 25 * 60_000, maxBuffer: 1 << 26 },
      );
      const report = JSON.parse(r.stdout);
      expect(report.acknowledgedStores).toBeGreaterThan(0);
      expect(Object.values(report.faults as Record<string, number>).reduce((a, b) => a + b, 0)).toBeGreaterThan(0);
      expect(report.checks).toEqual({
        corruptReadsDuringLoad: 0,
        unrecoveredSlivers: 0,
        lostAfterLoad: 0,
        lostAfterRestart: 0,
        paidTwice: 0,
        supplyExact: true,
      });
      expect(r.status, r.stderr.slice(-2000)).toBe(0);
    },
    30 * 60_000,
  );
});
