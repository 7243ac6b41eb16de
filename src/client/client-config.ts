/**
 * The client configuration file: where the chain is and which key pays. `tusk dev` writes one;
 * every client command reads it (`--config <file>`, else `$TUSK_CONFIG`, else
 * `~/.config/tusk/client.json`).
 *
 *   { "chainUrl": "http://127.0.0.1:9100", "wallet": "/abs/path/wallet.key" }
 *
 * `wallet` is a key file as written by `tusk wallet new` (a `suiprivkey…` string, mode 0600);
 * a relative path is relative to the config file's folder.
 */
import { readFile, writeFile, mkdir, rename } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { Ed25519Keypair } from '@mysten/sui/keypairs/ed25519';
import { TuskInputError } from '../errors.ts';

/** The parsed configuration. */
export interface ClientConfig {
  readonly chainUrl: string;
  /** Absolute path of the wallet key file. */
  readonly wallet: string;
  /**
   * What the official Walrus SDK needs to use this network as a localnet (docs/localnet.md):
   * `new WalrusClient({ suiClient: tuskSuiClient({ url }), packageConfig, storageNodeUrlScheme: 'http' })`.
   * Written by `tusk dev`; Tusk's own commands do not read it.
   */
  readonly sui?: ClientSuiConfig;
}

/** The `sui` entry of the client config. */
export interface ClientSuiConfig {
  /** The chain server URL that serves the Sui routes (the same as `chainUrl`). */
  readonly url: string;
  readonly packageConfig: { readonly systemObjectId: string; readonly stakingPoolId: string };
}

/** The config path used when none is given: `$TUSK_CONFIG` or `~/.config/tusk/client.json`. */
export function defaultConfigPath(): string {
  return process.env.TUSK_CONFIG || join(homedir(), '.config', 'tusk', 'client.json');
}

/** Reads and validates a config file. @throws TuskInputError naming the file and the problem. */
export async function loadClientConfig(path = defaultConfigPath()): Promise<ClientConfig> {
  let raw: unknown;
  try {
    raw = JSON.parse(await readFile(path, 'utf8'));
  } catch (e) {
    const why =
      (e as NodeJS.ErrnoException).code === 'ENOENT'
        ? 'not found (start a local network with `tusk dev`, or pass --config)'
        : (e as Error).message;
    throw new TuskInputError(`client config ${path}: ${why}`);
  }
  const c = raw as Partial<ClientConfig>;
  if (!c || typeof c.chainUrl !== 'string' || typeof c.wallet !== 'string')
    throw new TuskInputError(`client config ${path} needs "chainUrl" and "wallet" strings`);
  const wallet = isAbsolute(c.wallet) ? c.wallet : resolve(dirname(path), c.wallet);
  const sui = c.sui;
  const validSui =
    sui !== undefined &&
    sui !== null &&
    typeof sui === 'object' &&
    typeof sui.url === 'string' &&
    typeof sui.packageConfig?.systemObjectId === 'string' &&
    typeof sui.packageConfig?.stakingPoolId === 'string';
  return validSui ? { chainUrl: c.chainUrl, wallet, sui } : { chainUrl: c.chainUrl, wallet };
}

/** Writes a config file atomically (temp file + rename), creating its folder. */
export async function writeClientConfig(path: string, config: ClientConfig): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const tmp = `${path}.tmp-${process.pid}`;
  await writeFile(tmp, JSON.stringify(config, null, 2) + '\n', { mode: 0o600 });
  await rename(tmp, path);
}

/** Reads a wallet key file (`suiprivkey…`). */
export async function loadWallet(path: string): Promise<Ed25519Keypair> {
  let text: string;
  try {
    text = (await readFile(path, 'utf8')).trim();
  } catch (e) {
    // The wording of every file error: `<path>: <what>`; the code stays on `cause`.
    const err = e as NodeJS.ErrnoException;
    const what = err.code === 'ENOENT' ? 'no such file or directory' : err.code === 'EACCES' ? 'permission denied' : err.message;
    throw new TuskInputError(`wallet ${path}: ${what}`, { cause: e });
  }
  try {
    return Ed25519Keypair.fromSecretKey(text);
  } catch (e) {
    throw new TuskInputError(`wallet ${path} does not hold an Ed25519 suiprivkey key: ${(e as Error).message}`);
  }
}

/** Creates a wallet key file (mode 0600) unless it exists; returns its keypair either way. */
export async function ensureWallet(path: string): Promise<Ed25519Keypair> {
  try {
    return await loadWallet(path);
  } catch (e) {
    if (!(e instanceof TuskInputError) || (e.cause as NodeJS.ErrnoException | undefined)?.code !== 'ENOENT') throw e;
  }
  const kp = Ed25519Keypair.generate();
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, kp.getSecretKey() + '\n', { mode: 0o600, flag: 'wx' });
  return kp;
}
