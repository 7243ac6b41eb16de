/**
 * `tusk challenge status` as a user runs it: a real child process reading a real chain server
 * (in-process LocalChain behind startChainServer) after challenge rounds in which one node failed
 * twice (withheld, then jailed and slashed) and the others passed.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import type { LocalChain } from '../../src/chain/local/index.ts';
import { startChainServer, type ChainServer } from '../../src/chain/remote/server.ts';
import { RemoteChain } from '../../src/chain/remote/client.ts';
import { writeClientConfig } from '../../src/client/client-config.ts';
import { runTusk } from '../helpers/cli.ts';
import { tempDir } from './local-helpers.ts';
import { answers, chainWithBlobs, seedOf, syncAll } from './challenge-helpers.ts';

let chain: LocalChain;
let server: ChainServer;
let config = '';
let cheaterName = '';

beforeAll(async () => {
  const setup = await chainWithBlobs();
  chain = setup.chain;
  const members = (await chain.committee()).members;
  cheaterName = members[0].name;
  for (let round = 0; round < 2; round++) {
    await chain.startChallengeRound(seedOf('cli', round));
    // The cheater answers nothing; the others answer honestly.
    for (const m of members.slice(1)) await chain.answerChallenge(m.nodeId, answers(await chain.challengeItems(m.nodeId), new Set()));
    await chain.finishChallengeRound();
    await chain.advanceEpoch();
    await syncAll(chain, setup.nodes);
  }
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
  it('--json prints every node with its rounds, jail and slashing', async () => {
    const r = await runTusk(['challenge', 'status', '--json', '--config', config]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const { nodes } = JSON.parse(r.stdout) as {
      nodes: { name: string; roundsPassed: number; roundsFailed: number; jailed: boolean; slashed: string }[];
    };
    expect(nodes).toHaveLength(4);
    for (const n of nodes) {
      if (n.name === cheaterName) {
        expect(n).toMatchObject({ roundsPassed: 0, roundsFailed: 2, jailed: true });
        expect(BigInt(n.slashed)).toBeGreaterThan(0n);
      } else expect(n).toMatchObject({ roundsPassed: 2, roundsFailed: 0, jailed: false, slashed: '0' });
    }
    // The same record through RemoteChain.
    const remote = await new RemoteChain({ url: server.url }).challengeStatus();
    expect(remote.map((n) => n.roundsFailed).sort()).toEqual([0, 0, 0, 2]);
  });

  it('prints a table without --json, and rejects an unknown subcommand', async () => {
    const r = await runTusk(['challenge', 'status', '--config', config]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`${cheaterName}\\s+passed\\s+0\\s+failed\\s+2\\s+JAILED`));
    const bad = await runTusk(['challenge', 'frobnicate', '--config', config]);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toMatch(/unknown subcommand/);
  });
});
