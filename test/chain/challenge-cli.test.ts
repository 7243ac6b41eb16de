/**
 * `tusk challenge status` as a user runs it: a real child process reading a real chain server
 * (in-process LocalChain behind startChainServer) with a 4-node committee.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import type { LocalChain } from '../../src/chain/local/index.ts';
import { startChainServer, type ChainServer } from '../../src/chain/remote/server.ts';
import { writeClientConfig } from '../../src/client/client-config.ts';
import { runTusk } from '../helpers/cli.ts';
import { openTestChain, setupCommittee, tempDir } from './local-helpers.ts';

let chain: LocalChain;
let server: ChainServer;
let config = '';

beforeAll(async () => {
  chain = (await openTestChain()).chain;
  await setupCommittee(chain, [10n ** 12n, 10n ** 12n, 10n ** 12n, 10n ** 12n]);
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
