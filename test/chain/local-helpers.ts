/**
 * Helpers of the LocalChain tests: a committee of test storage nodes (real Ed25519 operators,
 * real BLS keys, registered with real proofs of possession and staked), certificates signed by
 * chosen members, blob arguments with correctly (or deliberately wrongly) derived blob IDs.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { expect } from 'vitest';
import { Ed25519Keypair } from '@mysten/sui/keypairs/ed25519';
import { LocalChain, type LocalChainOptions } from '../../src/chain/local/index.ts';
import { encodedBlobLength } from '../../src/chain/local/blobs.ts';
import type { CertificateOptions, RegisterBlobOptions } from '../../src/chain/types.ts';
import { deriveBlobId } from '../../src/codec/blob-id.ts';
import { blsAggregateSignatures, blsSign, generateBlsKeyPair, type BlsKeyPair } from '../../src/crypto/bls.ts';
import { proofOfPossessionMessage } from '../../src/protocol/messages.ts';
import { signersBitmap } from '../../src/protocol/certificate.ts';
import { ChainAbortError } from '../../src/errors.ts';

/** A private temporary directory. */
export function tempDir(prefix = 'tusk-local-chain-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** A test storage node: its operator's Sui key, its BLS key, and (once registered) its ID. */
export interface TestNode {
  readonly operator: Ed25519Keypair;
  readonly bls: BlsKeyPair;
  nodeId: string;
}

/** Opens a chain in a fresh temp file with small defaults for tests. */
export async function openTestChain(options: Partial<LocalChainOptions> = {}): Promise<{ chain: LocalChain; path: string }> {
  const path = join(tempDir(), 'chain.sqlite');
  const chain = await LocalChain.open({ path, nShards: 10, ...options });
  return { chain, path };
}

/** A funded fresh account. */
export async function fundedAccount(chain: LocalChain, amount = 10n ** 15n): Promise<Ed25519Keypair> {
  const k = new Ed25519Keypair();
  await chain.requestFaucet(k.toSuiAddress(), amount);
  return k;
}

/** Registers a node for a fresh operator with a valid proof of possession (stake not included). */
export async function registerTestNode(
  chain: LocalChain,
  name: string,
  votes: { storagePrice?: bigint; writePrice?: bigint; capacity?: number; commissionBps?: number } = {},
): Promise<TestNode> {
  const operator = await fundedAccount(chain);
  const bls = generateBlsKeyPair();
  const epoch = (await chain.systemState()).epoch;
  const pop = blsSign(bls.secretKey, proofOfPossessionMessage(epoch, operator.toSuiAddress(), bls.publicKey));
  const { nodeId } = await chain.registerNode(operator, {
    name,
    networkAddress: `127.0.0.1:${9000 + Math.floor(Math.random() * 1000)}`,
    publicKey: bls.publicKey,
    proofOfPossession: pop,
    commissionRateBps: votes.commissionBps ?? 1000,
    storagePriceVote: votes.storagePrice ?? 100_000n,
    writePriceVote: votes.writePrice ?? 20_000n,
    capacityVote: votes.capacity ?? 2 ** 40,
  });
  return { operator, bls, nodeId };
}

/**
 * Registers `stakes.length` nodes, self-stakes each, and advances one epoch so they form the
 * committee. @returns the nodes in registration order.
 */
export async function setupCommittee(chain: LocalChain, stakes: readonly bigint[]): Promise<TestNode[]> {
  const nodes: TestNode[] = [];
  for (let i = 0; i < stakes.length; i++) {
    const n = await registerTestNode(chain, `node-${i}`);
    await chain.stake(n.operator, n.nodeId, stakes[i]);
    nodes.push(n);
  }
  await chain.advanceEpoch();
  return nodes;
}

/**
 * A certificate over `message` signed by the committee members whose node IDs are `signerIds`
 * (default: all), aggregated as a client does, with the bitmap over the current committee.
 */
export async function certificate(
  chain: LocalChain,
  nodes: readonly TestNode[],
  message: Uint8Array,
  signerIds?: readonly string[],
): Promise<CertificateOptions> {
  const committee = await chain.committee();
  const ids = signerIds ?? committee.members.map((m) => m.nodeId);
  const indices = committee.members.map((m, i) => (ids.includes(m.nodeId) ? i : -1)).filter((i) => i >= 0);
  const sigs = indices.map((i) => {
    const node = nodes.find((n) => n.nodeId === committee.members[i].nodeId)!;
    return blsSign(node.bls.secretKey, message);
  });
  return { signature: blsAggregateSignatures(sigs), signersBitmap: signersBitmap(indices, committee.members.length), message };
}

/** Member node IDs of the current committee whose shards add up to at least `minWeight`, heaviest first. */
export async function signersWithWeight(chain: LocalChain, minWeight: number): Promise<string[]> {
  const members = [...(await chain.committee()).members].sort((a, b) => b.weight - a.weight);
  const out: string[] = [];
  let w = 0;
  for (const m of members) {
    if (w >= minWeight) break;
    out.push(m.nodeId);
    w += m.weight;
  }
  return out;
}

/** Arguments of a blob of `size` bytes with a random root hash and its correctly derived ID. */
export function blobArgs(
  nShards: number,
  options: { size?: number; deletable?: boolean; epochsAhead?: number; storage?: string } = {},
): RegisterBlobOptions {
  const size = options.size ?? 1000;
  const rootHash = new Uint8Array(randomBytes(32));
  return {
    storage: options.storage ?? { size: encodedBlobLength(size, 1, nShards), epochsAhead: options.epochsAhead ?? 3 },
    blobId: deriveBlobId(1, size, rootHash),
    rootHash,
    size,
    encodingType: 1,
    deletable: options.deletable ?? false,
  };
}

/** Resolves to the ChainAbortError code of a rejected call (fails the test if it resolves). */
export async function abortCode(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(ChainAbortError);
    return (e as ChainAbortError).code;
  }
  throw new Error('expected the call to abort, it succeeded');
}

/** Asserts the supply invariant: every FROST minted is in a balance, a stake, a pool or the accounting. */
export async function expectSupplyConserved(chain: LocalChain): Promise<void> {
  const a = await chain.supplyAudit();
  expect(a.balances + a.stakedPrincipal + a.poolRewards + a.undistributed + a.burned).toBe(a.minted);
}
