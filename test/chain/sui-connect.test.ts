/**
 * Network selection for Walrus on Sui: the Sui keystore / Tusk key-file wallet loader, and
 * `tusk info --network testnet` with no reachable fullnode failing with a clear "cannot reach".
 */
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Ed25519Keypair } from '@mysten/sui/keypairs/ed25519';
import { Secp256k1Keypair } from '@mysten/sui/keypairs/secp256k1';
import { toBase64 } from '@mysten/sui/utils';
import { decodeSuiPrivateKey } from '@mysten/sui/cryptography';
import { loadSuiWallet } from '../../src/chain/sui/connect.ts';
import { runTusk } from '../helpers/cli.ts';

const entry = (flag: number, secret: Uint8Array) => toBase64(Uint8Array.from([flag, ...secret]));

describe('Sui wallet and network selection', () => {
  it('loads Ed25519 keys from a Sui keystore (by address) and from a Tusk key file', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'tusk-sui-'));
    const a = Ed25519Keypair.generate();
    const b = Ed25519Keypair.generate();
    const k1 = new Secp256k1Keypair();
    const secret = (kp: { getSecretKey(): string }) => decodeSuiPrivateKey(kp.getSecretKey()).secretKey;
    const keystore = join(dir, 'sui.keystore');
    await writeFile(keystore, JSON.stringify([entry(1, secret(k1)), entry(0, secret(a)), entry(0, secret(b))]));
    expect((await loadSuiWallet(keystore)).toSuiAddress()).toBe(a.toSuiAddress());
    expect((await loadSuiWallet(keystore, b.toSuiAddress())).toSuiAddress()).toBe(b.toSuiAddress());
    await expect(loadSuiWallet(keystore, k1.toSuiAddress())).rejects.toThrow(/no Ed25519 key for/);
    const keyFile = join(dir, 'wallet.key');
    await writeFile(keyFile, a.getSecretKey() + '\n');
    expect((await loadSuiWallet(keyFile)).toSuiAddress()).toBe(a.toSuiAddress());
    await writeFile(join(dir, 'bad'), 'hello');
    await expect(loadSuiWallet(join(dir, 'bad'))).rejects.toThrow(/neither a Sui keystore/);
    await expect(loadSuiWallet(join(dir, 'missing'))).rejects.toThrow(/ENOENT/);
  });

  it('tusk info --network testnet with no reachable fullnode: a clear "cannot reach" error', async () => {
    const r = await runTusk(['info', '--network', 'testnet', '--rpc-url', 'http://127.0.0.1:9', '--config', '/nonexistent/client.json']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/cannot reach the Sui network at http:\/\/127\.0\.0\.1:9/);
    const bad = await runTusk(['info', '--network', 'devnet']);
    expect(bad.stderr).toMatch(/--network must be mainnet, testnet or local/);
  });
});

describe('selectChain', () => {
  it('a config entry chain.kind "sui" selects SuiChain; --network local keeps the Tusk chain', async () => {
    const { selectChain } = await import('../../src/cli/chain-select.ts');
    const { SuiChain } = await import('../../src/chain/sui/index.ts');
    const { RemoteChain } = await import('../../src/chain/remote/client.ts');
    const dir = await mkdtemp(join(tmpdir(), 'tusk-sui-cfg-'));
    const kp = Ed25519Keypair.generate();
    await writeFile(join(dir, 'wallet.key'), kp.getSecretKey() + '\n');
    const suiCfg = join(dir, 'sui.json');
    await writeFile(
      suiCfg,
      JSON.stringify({ chain: { kind: 'sui', network: 'testnet', rpcUrl: 'http://127.0.0.1:9', walletPath: 'wallet.key' } }),
    );
    const s = await selectChain({ config: suiCfg });
    expect(s.kind).toBe('sui');
    expect(s.chain).toBeInstanceOf(SuiChain);
    expect((await s.loadWallet()).toSuiAddress()).toBe(kp.toSuiAddress());
    const localCfg = join(dir, 'local.json');
    await writeFile(localCfg, JSON.stringify({ chainUrl: 'http://127.0.0.1:9100', wallet: 'wallet.key' }));
    const l = await selectChain({ config: localCfg });
    expect(l.kind).toBe('tusk');
    expect(l.chain).toBeInstanceOf(RemoteChain);
    const forced = await selectChain({ config: suiCfg, network: 'local' }).then(
      () => null,
      (e: Error) => e,
    );
    expect(forced?.message).toMatch(/needs "chainUrl"/);
  });
});
