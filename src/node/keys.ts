/**
 * The node's key files in its data directory: `bls.key` (the BLS12-381 protocol key that signs
 * confirmations and attestations) and `sui.key` (the Ed25519 account that operates the node on
 * chain). Each is generated on first start and written atomically (temp file with mode 0600,
 * fsync, rename, fsync of the directory), so a crash leaves either no key or a whole one, never a
 * half-written file — and never a second, different key after a restart.
 */
import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, statSync, chmodSync, writeSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { Ed25519Keypair } from '@mysten/sui/keypairs/ed25519';
import { blsPublicKey, generateBlsKeyPair, type BlsKeyPair } from '../crypto/bls.ts';
import { TuskInputError } from '../errors.ts';

/** The node's two key pairs. */
export interface NodeKeys {
  readonly bls: BlsKeyPair;
  readonly sui: Ed25519Keypair;
}

/**
 * Writes `text` to `path` atomically with owner-only permissions.
 * Post: `path` holds exactly `text` (durably) or is unchanged.
 */
export function writeFileAtomic(path: string, text: string, mode = 0o600): void {
  const dir = path.slice(0, path.lastIndexOf('/')) || '.';
  const tmp = `${path}.tmp-${process.pid}`;
  const fd = openSync(tmp, 'w', mode);
  try {
    writeSync(fd, text);
    fsyncSync(fd);
  } catch (e) {
    closeSync(fd);
    try {
      unlinkSync(tmp);
    } catch {
      /* already gone */
    }
    throw e;
  }
  closeSync(fd);
  renameSync(tmp, path);
  const dfd = openSync(dir, 'r');
  try {
    fsyncSync(dfd);
  } finally {
    closeSync(dfd);
  }
}

function readKeyFile(path: string): string | null {
  let st;
  try {
    st = statSync(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw e;
  }
  // A key readable by others is tightened rather than trusted as is.
  if ((st.mode & 0o077) !== 0) chmodSync(path, 0o600);
  return readFileSync(path, 'utf8').trim();
}

/**
 * Loads the node's keys from `dataDir`, generating and storing any that are missing.
 * @param seed optional ≥ 32-byte seed for a deterministic BLS key (tests, dev networks).
 * @throws TuskInputError when a key file exists but is malformed.
 */
export function loadOrCreateKeys(dataDir: string, seed?: Uint8Array): NodeKeys {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const blsPath = join(dataDir, 'bls.key');
  let blsText = readKeyFile(blsPath);
  if (blsText === null) {
    const kp = generateBlsKeyPair(seed);
    blsText = Buffer.from(kp.secretKey).toString('hex');
    writeFileAtomic(blsPath, blsText + '\n');
  }
  if (!/^[0-9a-f]{64}$/.test(blsText)) throw new TuskInputError(`${blsPath}: not a 32-byte hex BLS secret key`);
  const secretKey = new Uint8Array(Buffer.from(blsText, 'hex'));
  const bls: BlsKeyPair = { secretKey, publicKey: blsPublicKey(secretKey) };

  const suiPath = join(dataDir, 'sui.key');
  let suiText = readKeyFile(suiPath);
  if (suiText === null) {
    suiText = Ed25519Keypair.generate().getSecretKey();
    writeFileAtomic(suiPath, suiText + '\n');
  }
  let sui: Ed25519Keypair;
  try {
    sui = Ed25519Keypair.fromSecretKey(suiText);
  } catch (e) {
    throw new TuskInputError(`${suiPath}: not a Sui Ed25519 secret key (${(e as Error).message})`);
  }
  return { bls, sui };
}
