/**
 * `tusk challenge status|history` and `tusk info challenges` as a user runs them: a real child
 * process reading a real chain server (in-process LocalChain behind startChainServer) with a
 * 4-node committee, first before any round, then after an epoch of real rounds in which one node
 * lost its data (failed, jailed, its pool slashed).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import type { LocalChain } from '../../src/chain/local/index.ts';
import { startChainServer, type ChainServer } from '../../src/chain/remote/server.ts';
import { writeClientConfig } from '../../src/client/client-config.ts';
import { runTusk } from '../helpers/cli.ts';
import { RemoteChain } from '../../src/chain/remote/client.ts';
import { advanceAndSync, HeldBlobs } from './challenge-helpers.ts';
import { openTestChain, setupCommittee, tempDir, type TestNode } from './local-helpers.ts';

let chain: LocalChain;
let server: ChainServer;
let config = '';
let nodes: TestNode[];

beforeAll(async () => {
  chain = (await openTestChain()).chain;
  nodes = await setupCommittee(chain, [10n ** 12n, 10n ** 12n, 10n ** 12n, 10n ** 12n]);
  server = await startChainServer({ chain, host: '127.0.0.1', port: 0 });
  const dir = tempDir('tusk-challenge-cli-');
  config = join(dir, 'client.json');
  await writeClientConfig(config, { chainUrl: server.url, wallet: join(dir, 'wallet.key') });
}, 60_000);

afterAll(async () => {
  await server?.close();
  await chain?.close();
});

describe('tusk challenge status', () => {
  it('--json prints every registered node with its rounds and jail', async () => {
    const r = await runTusk(['challenge', 'status', '--json', '--config', config]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const { nodes } = JSON.parse(r.stdout) as { nodes: { name: string; roundsPassed: number; roundsFailed: number; jailed: boolean }[] };
    expect(nodes.map((n) => n.name).sort()).toEqual(['node-0', 'node-1', 'node-2', 'node-3']);
    for (const n of nodes) expect(n).toMatchObject({ roundsPassed: 0, roundsFailed: 0, jailed: false });
  });

  it('prints a table without --json, and rejects an unknown subcommand', async () => {
    const r = await runTusk(['challenge', 'status', '--config', config]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/node-0\s+passed\s+0\s+failed\s+0\s+active/);
    const bad = await runTusk(['challenge', 'frobnicate', '--config', config]);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toMatch(/unknown subcommand/);
  });
});

describe('after an epoch in which node-3 lost its data', () => {
  let offending = 0;
  beforeAll(async () => {
    const blobs = new HeldBlobs(10);
    await blobs.store(chain, nodes, [3000, 40_000]);
    await advanceAndSync(chain, nodes);
    offending = (await chain.systemState()).epoch;
    await blobs.playRounds(chain, nodes, new Map([[nodes[3].nodeId, 'lost']]), 2);
    await advanceAndSync(chain, nodes);
    // A round of the new epoch, still open: history shows it as open, info as the current round.
    await blobs.playRounds(chain, nodes, new Map([[nodes[0].nodeId, 'silent']]), 1);
  }, 60_000);

  it('history --json: each round per node with absent items, and the penalties settled', async () => {
    const r = await runTusk(['challenge', 'history', '--json', '--config', config]);
    expect(r.stderr).toBe('');
    const h = JSON.parse(r.stdout) as {
      fromEpoch: number;
      toEpoch: number;
      epochs: {
        epoch: number;
        nodes: {
          name: string;
          rounds: { round: number; outcome: string; absent: number; invalid: number }[];
          settled: { withholdingBps: number; offence: string | null; jailedUntilEpoch: number | null; slashed: string } | null;
        }[];
      }[];
    };
    expect(h.fromEpoch).toBe(0);
    const e = h.epochs.find((x) => x.epoch === offending)!;
    expect(e.nodes.map((n) => n.name)).toEqual(['node-0', 'node-1', 'node-2', 'node-3']);
    const lost = e.nodes.find((n) => n.name === 'node-3')!;
    expect(lost.rounds.map((x) => x.outcome)).toEqual(['failed', 'failed']);
    expect(lost.rounds.every((x) => x.absent > 0 && x.invalid === 0)).toBe(true);
    expect(lost.settled).toMatchObject({ withholdingBps: 10_000, offence: 'dataLoss', jailedUntilEpoch: offending + 2 });
    // The default slash: 10 % of its active stake (1000 WAL self-stake plus rewards).
    expect(BigInt(lost.settled!.slashed)).toBeGreaterThanOrEqual(10n ** 11n);
    for (const n of e.nodes.filter((x) => x.name !== 'node-3'))
      expect(n.settled).toMatchObject({ withholdingBps: 0, offence: null, jailedUntilEpoch: null, slashed: '0' });
    // The current epoch: node-0 silent in an open round, not settled yet.
    const cur = h.epochs.find((x) => x.epoch === offending + 1)!;
    expect(cur.nodes.find((n) => n.name === 'node-0')).toMatchObject({ rounds: [{ round: 0, outcome: 'open' }], settled: null });
    // The same figures as the chain server's read.
    const remote = new RemoteChain({ url: server.url });
    const [p] = await remote.challengePenalties(offending, offending, nodes[3].nodeId);
    expect(p.slashed).toBe(BigInt(lost.settled!.slashed));
    expect(await remote.challengePenalties(0, offending)).toEqual(await chain.challengePenalties(0, offending));
  });

  it('history --node and --epochs select; the text names the penalties; bad selections are usage errors', async () => {
    const one = JSON.parse(
      (await runTusk(['challenge', 'history', '--node', 'node-3', '--epochs', `${offending}-${offending}`, '--json', '--config', config]))
        .stdout,
    );
    expect(one.epochs).toHaveLength(1);
    expect(one.epochs[0].nodes.map((n: { name: string }) => n.name)).toEqual(['node-3']);
    const byId = JSON.parse(
      (await runTusk(['challenge', 'history', '--node', nodes[3].nodeId, '--epochs', String(offending), '--json', '--config', config]))
        .stdout,
    );
    expect(byId).toEqual(one);
    const text = await runTusk(['challenge', 'history', '--node', 'node-3', '--config', config]);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(
      /node-3 +r0 failed \(\d+ absent\), r1 failed \(\d+ absent\) +withheld 100\.00 % +offence dataLoss +JAILED until epoch \d+ +SLASHED [\d.]+ WAL/,
    );
    for (const bad of [
      ['--epochs', '5-2'],
      ['--node', 'nope'],
    ]) {
      const r = await runTusk(['challenge', 'history', ...bad, '--config', config]);
      expect(r.code, bad.join(' ')).toBe(2);
    }
  });

  it('status keeps its JSON shape; info challenges shows the round, last outcomes, the jailed node and the burnt totals', async () => {
    const st = JSON.parse((await runTusk(['challenge', 'status', '--json', '--config', config])).stdout);
    expect(st.nodes.find((n: { name: string }) => n.name === 'node-3')).toMatchObject({ roundsPassed: 0, roundsFailed: 2, jailed: true });
    const info = await runTusk(['info', 'challenges', '--json', '--config', config]);
    expect(info.stderr).toBe('');
    const c = JSON.parse(info.stdout);
    const audit = await chain.supplyAudit();
    expect(c).toMatchObject({
      epoch: offending + 1,
      currentRound: { epoch: offending + 1, round: 0, closed: false, nodes: 3 },
      jailed: [{ name: 'node-3', nodeId: nodes[3].nodeId, untilEpoch: offending + 2 }],
      burned: audit.burned.toString(),
      slashed: audit.slashed.toString(),
    });
    expect(c.lastOutcomes.epoch).toBe(offending);
    expect(c.lastOutcomes.nodes.find((n: { name: string }) => n.name === 'node-3')).toMatchObject({ outcome: 'failed' });
    const text = await runTusk(['info', 'challenges', '--config', config]);
    expect(text.stdout).toMatch(/^Challenges: epoch \d+/);
    expect(text.stdout).toMatch(/jailed: node-3 until epoch/);
    expect(text.stdout).toMatch(/stake slashed [\d.]+ WAL/);
    const all = JSON.parse((await runTusk(['info', 'all', '--json', '--config', config])).stdout);
    expect(all.challengeInfo).toEqual(c);
  });
});
