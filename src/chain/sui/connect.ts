/**
 * Connecting Tusk to Walrus on Sui: a `SuiChain` over a gRPC fullnode for `testnet` or `mainnet`
 * (or any RPC URL), and the paying wallet from a Sui keystore (`~/.sui/sui_config/sui.keystore`,
 * a JSON array of base64 `flag ‖ secret` keys) or a Tusk key file (`suiprivkey…`).
 */
import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { SuiGrpcClient } from '@mysten/sui/grpc';
import { Ed25519Keypair } from '@mysten/sui/keypairs/ed25519';
import { fromBase64 } from '@mysten/sui/utils';
import { TuskInputError } from '../../errors.ts';
import { SuiChain, WALRUS_NETWORKS } from './sui-chain.ts';

/** The Walrus networks on Sui Tusk knows. */
export type SuiNetworkName = 'testnet' | 'mainnet';

/** Public fullnodes used when no `rpcUrl` is given. */
export const DEFAULT_SUI_RPC: Readonly<Record<SuiNetworkName, string>> = {
  testnet: 'https://fullnode.testnet.sui.io:443',
  mainnet: 'https://fullnode.mainnet.sui.io:443',
};

/** The default Sui CLI keystore. */
export function defaultSuiKeystorePath(): string {
  return join(homedir(), '.sui', 'sui_config', 'sui.keystore');
}

/** Options of `openSuiChain`. */
export interface OpenSuiChainOptions {
  readonly network: SuiNetworkName;
  /** A fullnode gRPC URL; default: the network's public fullnode. */
  readonly rpcUrl?: string;
  /** Whose Blob objects `blobObjects()`/`list-blobs` scan (the wallet's address). */
  readonly owner?: string;
}

/** A `SuiChain` for Walrus Testnet or Mainnet. Nothing is contacted until the first read. */
export function openSuiChain(options: OpenSuiChainOptions): SuiChain {
  if (options.network !== 'testnet' && options.network !== 'mainnet')
    throw new TuskInputError(`unknown Sui network ${JSON.stringify(options.network)} (testnet or mainnet)`);
  const baseUrl = options.rpcUrl ?? DEFAULT_SUI_RPC[options.network];
  const client = new SuiGrpcClient({ network: options.network, baseUrl });
  return new SuiChain({ client, ...WALRUS_NETWORKS[options.network], owner: options.owner, endpoint: baseUrl });
}

/**
 * Loads an Ed25519 key from a Sui keystore (the first Ed25519 entry, or the one whose address is
 * `address`) or from a Tusk key file (one `suiprivkey…` line).
 */
export async function loadSuiWallet(path: string, address?: string): Promise<Ed25519Keypair> {
  let text: string;
  try {
    text = (await readFile(path, 'utf8')).trim();
  } catch (e) {
    throw new TuskInputError(`wallet ${path}: ${(e as Error).message}`);
  }
  if (text.startsWith('suiprivkey')) return Ed25519Keypair.fromSecretKey(text);
  let entries: unknown;
  try {
    entries = JSON.parse(text);
  } catch {
    throw new TuskInputError(`wallet ${path}: neither a Sui keystore (JSON array) nor a suiprivkey key file`);
  }
  if (!Array.isArray(entries)) throw new TuskInputError(`wallet ${path}: a Sui keystore must be a JSON array`);
  for (const entry of entries) {
    if (typeof entry !== 'string') continue;
    const raw = fromBase64(entry);
    if (raw.length !== 33 || raw[0] !== 0) continue; // flag 0 = Ed25519; other schemes are not supported here
    const kp = Ed25519Keypair.fromSecretKey(raw.subarray(1));
    if (!address || kp.toSuiAddress() === address) return kp;
  }
  throw new TuskInputError(
    `wallet ${path}: no Ed25519 key${address ? ` for ${address}` : ''} in this keystore (Tusk signs with Ed25519 keys only)`,
  );
}
