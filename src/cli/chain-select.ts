/**
 * Which chain a client command talks to: `--network mainnet|testnet` (Walrus on Sui), a config
 * entry `"chain": { "kind": "sui", "network", "rpcUrl"?, "walletPath"? }`, or — `--network local`
 * or no Sui selection — the Tusk chain named by the config's `chainUrl`. One helper, so every
 * client command selects the network the same way.
 */
import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, isAbsolute, resolve } from 'node:path';
import type { Ed25519Keypair } from '@mysten/sui/keypairs/ed25519';
import { RemoteChain } from '../chain/remote/client.ts';
import type { Chain } from '../chain/types.ts';
import { defaultSuiKeystorePath, loadSuiWallet, openSuiChain, type SuiNetworkName } from '../chain/sui/connect.ts';
import { defaultConfigPath, loadClientConfig, loadWallet } from '../client/client-config.ts';
import { TuskInputError } from '../errors.ts';

/** The flags that select a chain. */
export interface ChainSelectOptions {
  readonly config?: string;
  readonly network?: string;
  readonly 'rpc-url'?: string;
  readonly wallet?: string;
}

/** A selected chain and a lazy loader of the paying wallet. */
export interface SelectedChain {
  readonly chain: Chain;
  readonly kind: 'tusk' | 'sui';
  loadWallet(): Promise<Ed25519Keypair>;
}

interface SuiEntry {
  kind: 'sui';
  network: string;
  rpcUrl?: string;
  walletPath?: string;
}

async function readSuiEntry(path: string, explicit: boolean): Promise<SuiEntry | null> {
  let raw: { chain?: SuiEntry };
  try {
    raw = JSON.parse(await readFile(path, 'utf8'));
  } catch (e) {
    // A missing config is fine for --network testnet|mainnet; without a flag, loadClientConfig reports it.
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    if (!explicit) return null;
    throw new TuskInputError(`client config ${path}: ${(e as Error).message}`);
  }
  const c = raw?.chain;
  if (!c || c.kind !== 'sui') return null;
  if (typeof c.network !== 'string') throw new TuskInputError(`client config ${path}: chain.network must be "testnet" or "mainnet"`);
  const walletPath =
    c.walletPath && !isAbsolute(c.walletPath) ? resolve(dirname(path), c.walletPath.replace(/^~(?=\/)/, homedir())) : c.walletPath;
  return { ...c, walletPath };
}

/** Builds the chain named by the flags and the client config. */
export async function selectChain(values: ChainSelectOptions): Promise<SelectedChain> {
  const configPath = values.config ?? defaultConfigPath();
  const network = values.network;
  if (network !== undefined && !['mainnet', 'testnet', 'local'].includes(network))
    throw new TuskInputError(`--network must be mainnet, testnet or local, got ${JSON.stringify(network)}`);
  const entry = network === 'local' ? null : await readSuiEntry(configPath, values.config !== undefined);
  if (network === 'mainnet' || network === 'testnet' || entry) {
    const name = (network ?? entry!.network) as SuiNetworkName;
    const walletPath = values.wallet ?? entry?.walletPath ?? defaultSuiKeystorePath();
    // The wallet (for list-blobs and reuse of existing Blob objects) is read only when needed.
    let wallet: Promise<Ed25519Keypair> | null = null;
    const load = () => (wallet ??= loadSuiWallet(walletPath));
    const rpcUrl = values['rpc-url'] ?? (entry && entry.network === name ? entry.rpcUrl : undefined);
    const owner = await load().then(
      (k) => k.toSuiAddress(),
      () => undefined,
    );
    return { chain: openSuiChain({ network: name, rpcUrl, owner }), kind: 'sui', loadWallet: load };
  }
  const config = await loadClientConfig(configPath);
  const walletPath = values.wallet ?? config.wallet;
  return { chain: new RemoteChain({ url: config.chainUrl }), kind: 'tusk', loadWallet: () => loadWallet(walletPath) };
}
