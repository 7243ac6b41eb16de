/**
 * The identifiers of a Tusk chain seen as a Walrus deployment on Sui (the localnet): the walrus
 * and WAL package IDs, the System and Staking object IDs, the per-address WAL and SUI coin IDs,
 * and the type strings the official SDK compares. All are derived from the local chain's ID, so
 * two `tusk dev` networks never share object IDs and a restart keeps them.
 *
 * A local account holds WAL as a balance, not as coins; the localnet shows it as exactly one
 * `Coin<WAL>` per address whose object ID is the address XOR a chain-wide mask (so the coin's
 * owner is recovered from its ID without a lookup table), and one SUI gas coin the same way.
 */
import { blake2b } from '@noble/hashes/blake2.js';
import { toBase58 } from '@mysten/sui/utils';

/** The version of System / Staking, which is also the key of their inner-state dynamic fields. */
export const LOCALNET_OBJECT_VERSION = 1n;
/** `initialSharedVersion` of the System and Staking shared objects. */
export const LOCALNET_INITIAL_SHARED_VERSION = '1';
/** Reference gas price the localnet reports (MIST); gas is not charged. */
export const LOCALNET_GAS_PRICE = 1000n;
/** Balance every localnet gas coin shows (MIST): gas is free, this only has to cover budgets. */
export const LOCALNET_GAS_BALANCE = 1_000_000_000_000n;
/** The Sui framework's SUI type, normalized. */
export const SUI_COIN_TYPE = '0x0000000000000000000000000000000000000000000000000000000000000002::sui::SUI';
/** The Sui framework package, normalized. */
export const SUI_FRAMEWORK = '0x0000000000000000000000000000000000000000000000000000000000000002';

/** Every identifier of one localnet. */
export interface LocalnetIds {
  readonly chainId: string;
  /** Sui `getChainIdentifier`: base58 of 32 bytes derived from the chain ID. */
  readonly chainIdentifier: string;
  /** The walrus package: original and current ID (never upgraded). */
  readonly walrusPackage: string;
  readonly walPackage: string;
  readonly walType: string;
  readonly systemObjectId: string;
  readonly stakingObjectId: string;
  /** UID of `StakingInnerV1.pools` (the pools live at their node IDs). */
  readonly poolsTableId: string;
  /** XOR masks of the coin IDs. */
  readonly walCoinMask: Uint8Array;
  readonly gasCoinMask: Uint8Array;
}

function hash(chainId: string, label: string): Uint8Array {
  return blake2b(new TextEncoder().encode(`tusk-localnet:${chainId}:${label}`), { dkLen: 32 });
}

function hexId(bytes: Uint8Array): string {
  return '0x' + Buffer.from(bytes).toString('hex');
}

/** The identifiers of the localnet over the chain `chainId`. */
export function localnetIds(chainId: string): LocalnetIds {
  const walPackage = hexId(hash(chainId, 'wal-package'));
  return {
    chainId,
    chainIdentifier: toBase58(hash(chainId, 'chain-identifier')),
    walrusPackage: hexId(hash(chainId, 'walrus-package')),
    walPackage,
    walType: `${walPackage}::wal::WAL`,
    systemObjectId: hexId(hash(chainId, 'system')),
    stakingObjectId: hexId(hash(chainId, 'staking')),
    poolsTableId: hexId(hash(chainId, 'pools')),
    walCoinMask: hash(chainId, 'wal-coin'),
    gasCoinMask: hash(chainId, 'gas-coin'),
  };
}

function xorId(id: string, mask: Uint8Array): string {
  const b = Buffer.from(id.slice(2), 'hex');
  for (let i = 0; i < 32; i++) b[i] ^= mask[i];
  return hexId(b);
}

/** The object ID of `owner`'s WAL coin. @pre owner is 0x + 64 lowercase hex digits. */
export function walCoinId(ids: LocalnetIds, owner: string): string {
  return xorId(owner, ids.walCoinMask);
}

/** The object ID of `owner`'s SUI gas coin. */
export function gasCoinId(ids: LocalnetIds, owner: string): string {
  return xorId(owner, ids.gasCoinMask);
}

/** The owner a WAL coin ID belongs to (any ID maps to some address; callers check it exists). */
export function walCoinOwner(ids: LocalnetIds, coinId: string): string {
  return xorId(coinId, ids.walCoinMask);
}

/** The owner a gas coin ID belongs to. */
export function gasCoinOwner(ids: LocalnetIds, coinId: string): string {
  return xorId(coinId, ids.gasCoinMask);
}
