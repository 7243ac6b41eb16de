/** `tusk chain …` and `tusk wallet …` as a user runs them: real child processes, a real data directory. */
import { afterAll, describe, expect, it } from 'vitest';
import { readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { Ed25519Keypair } from '@mysten/sui/keypairs/ed25519';
import { RemoteChain } from '../../src/chain/remote/client.ts';
import { spawnChainServer, tempDir, type ServerProcess } from './remote-helpers.ts';
import { runTusk } from '../helpers/cli.ts';

const tusk = runTusk;

const dir = tempDir('tusk-chain-cli-');
const dataDir = join(dir, 'data');
let server: ServerProcess | undefined;

afterAll(() => {
  server?.child.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

describe('tusk chain serve', () => {
  let chainId = '';
  let address = '';
  const keyFile = join(dir, 'alice.key');

  it('tusk wallet new writes a 0600 key file; wallet address reads it back', async () => {
    const made = await tusk(['wallet', 'new', '--out', keyFile, '--json']);
    expect(made.code).toBe(0);
    address = JSON.parse(made.stdout).address;
    expect(address).toMatch(/^0x[0-9a-f]{64}$/);
    expect(statSync(keyFile).mode & 0o777).toBe(0o600);
    const secret = readFileSync(keyFile, 'utf8').trim();
    expect(secret.startsWith('suiprivkey')).toBe(true);
    expect(Ed25519Keypair.fromSecretKey(secret).toSuiAddress()).toBe(address);
    const again = await tusk(['wallet', 'address', keyFile]);
    expect(again.stdout.trim()).toBe(address);
    const refused = await tusk(['wallet', 'new', '--out', keyFile]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/exist/);
  });

  it('serves a new chain, prints one JSON line, and answers RemoteChain', async () => {
    server = await spawnChainServer(dataDir, ['--n-shards', '7']);
    chainId = server.chainId;
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const remote = new RemoteChain({ url: server.url });
    expect(await remote.chainId()).toBe(chainId);
    expect((await remote.systemState()).nShards).toBe(7);
  });

  it('faucet, balance, info and advance-epoch talk to it', async () => {
    const url = server!.url;
    const funded = await tusk(['chain', 'faucet', address, '--amount', '2.5', '--url', url, '--json']);
    expect(funded.code).toBe(0);
    expect(JSON.parse(funded.stdout)).toMatchObject({ recipient: address, amount: '2500000000', balance: '2500000000' });
    const text = await tusk(['chain', 'balance', address, '--url', url]);
    expect(text.stdout.trim()).toBe('2.5 WAL');
    const info = await tusk(['chain', 'info', '--url', url, '--json']);
    expect(info.code).toBe(0);
    const j = JSON.parse(info.stdout);
    expect(j).toMatchObject({ chainId, epoch: 0, nShards: 7 });
    expect(j.storagePricePerUnitSize).toMatch(/^\d+$/);
    expect(Array.isArray(j.committee)).toBe(true);
    const adv = await tusk(['chain', 'advance-epoch', '--url', url, '--json']);
    expect(JSON.parse(adv.stdout).epoch).toBe(1);
    const human = await tusk(['chain', 'info', '--url', url]);
    expect(human.stdout).toMatch(/^chain .* at http/);
    expect(human.stdout).toMatch(/epoch 1 /);
  });

  it('stops cleanly on SIGTERM and reopens the same chain with its state', async () => {
    server!.child.kill('SIGTERM');
    const exit = await server!.exited;
    expect(exit.code).toBe(0);
    server = await spawnChainServer(dataDir);
    expect(server.chainId).toBe(chainId);
    const remote = new RemoteChain({ url: server.url });
    expect(await remote.balance(address)).toBe(2_500_000_000n);
    expect((await remote.systemState()).epoch).toBe(1);
    server.child.kill('SIGINT');
    expect((await server.exited).code).toBe(0);
    server = undefined;
  });

  it('--dev-routes off hides the faucet and advance-epoch routes; bad values are usage errors', async () => {
    const off = await spawnChainServer(join(dir, 'no-dev'), ['--dev-routes', 'off']);
    try {
      const remote = new RemoteChain({ url: off.url });
      await expect(remote.requestFaucet(address, 1n)).rejects.toThrow(/no route POST \/v1\/faucet/);
      await expect(remote.advanceEpoch()).rejects.toThrow(/no route POST \/v1\/advance-epoch/);
      expect((await remote.systemState()).epoch).toBe(0);
      const cli = await tusk(['chain', 'faucet', address, '--url', off.url]);
      expect(cli.code).toBe(1);
      expect(cli.stderr).toMatch(/no route/);
    } finally {
      off.child.kill('SIGTERM');
      await off.exited;
    }
    const short = await spawnChainServer(join(dir, 'no-dev'), ['--no-dev-routes']);
    try {
      await expect(new RemoteChain({ url: short.url }).requestFaucet(address, 1n)).rejects.toThrow(/no route/);
    } finally {
      short.child.kill('SIGTERM');
      await short.exited;
    }
    expect((await tusk(['chain', 'serve', '--data-dir', join(dir, 'y'), '--dev-routes', 'maybe'])).code).toBe(2);
    expect((await tusk(['chain', 'serve', '--data-dir', join(dir, 'y'), '--dev-routes', 'on', '--no-dev-routes'])).code).toBe(2);
  });

  it('--host :: prints a URL a client can reach (issue 22 item 15)', async () => {
    const any = await spawnChainServer(join(dir, 'v6'), ['--host', '::']);
    try {
      expect(any.url).toMatch(/^http:\/\/\[::1\]:\d+$/);
      expect((await new RemoteChain({ url: any.url }).systemState()).epoch).toBe(0);
    } finally {
      any.child.kill('SIGTERM');
      await any.exited;
    }
  });

  it('a non-loopback --host turns the dev routes off by default, with a note on stderr', async () => {
    // 192.0.2.1 (TEST-NET-1, RFC 5737) is assigned to no machine: the bind fails, so nothing is
    // exposed to the network, and the note, written before binding, is still observable.
    const r = await tusk(['chain', 'serve', '--data-dir', join(dir, 'z'), '--host', '192.0.2.1', '--port', '0']);
    expect(r.stderr).toMatch(/faucet and advance-epoch routes are off because --host 192\.0\.2\.1 is not a loopback address/);
    expect(r.code).toBe(1);
    const explicit = await tusk(['chain', 'serve', '--data-dir', join(dir, 'z'), '--host', '192.0.2.1', '--dev-routes', 'on']);
    expect(explicit.stderr).toMatch(/warning: --dev-routes on with --host 192\.0\.2\.1/);
    expect(explicit.code).toBe(1);
  });

  it('usage and input errors', async () => {
    expect((await tusk(['chain', 'serve'])).code).toBe(2);
    expect((await tusk(['chain'])).code).toBe(2);
    expect((await tusk(['chain', 'frobnicate'])).code).toBe(2);
    expect((await tusk(['chain', 'info'])).code).toBe(2);
    const badDuration = await tusk(['chain', 'serve', '--data-dir', join(dir, 'x'), '--epoch-duration', 'soon']);
    expect(badDuration.code).toBe(2);
    expect(badDuration.stderr).toMatch(/not a duration/);
    // A floor on the epoch duration (issue 22 item 15): a store must fit in an epoch.
    const tooShort = await tusk(['chain', 'serve', '--data-dir', join(dir, 'x'), '--epoch-duration', '100ms']);
    expect(tooShort.code).toBe(2);
    expect(tooShort.stderr).toMatch(/^tusk: --epoch-duration must be at least 5 s/);
    const badAddress = await tusk(['chain', 'faucet', '0x12', '--url', 'http://127.0.0.1:1']);
    expect(badAddress.code).toBe(2);
    expect(badAddress.stderr).toMatch(/0x and 64 hex digits/);
    const badAmount = await tusk(['chain', 'faucet', address, '--amount', '1.0000000001', '--url', 'http://127.0.0.1:1']);
    expect(badAmount.code).toBe(2);
    expect(badAmount.stderr).toMatch(/9 decimals/);
    // Options of another subcommand are errors (issue 22 item 10).
    const foreign = await tusk(['chain', 'info', '--url', 'http://127.0.0.1:1', '--force']);
    expect(foreign.code).toBe(2);
    expect(foreign.stderr).toMatch(/^tusk: chain info: unknown option --force\nRun 'tusk chain info --help' for usage\.\n$/);
    const down = await tusk(['chain', 'info', '--url', 'http://127.0.0.1:1']);
    expect(down.code).toBe(1);
    expect(down.stderr).toMatch(/unreachable/);
  });
});
