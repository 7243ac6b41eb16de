/**
 * Helpers of the storage-challenge tests: real blobs (encoded, registered, certified by the test
 * committee) whose slivers the test keeps, and challenge rounds answered from them with real
 * Merkle proofs, per node honestly, as if its data were lost (every item absent), or not at all.
 */
import { randomBytes } from 'node:crypto';
import type { LocalChain } from '../../src/chain/local/index.ts';
import { encodedBlobLength } from '../../src/chain/local/blobs.ts';
import type { ObjectId } from '../../src/chain/types.ts';
import { EncodingConfig } from '../../src/codec/config.ts';
import { encodeBlob, type EncodedBlob } from '../../src/codec/encode.ts';
import { answerRound, type HeldSliver } from '../../src/challenge/proof.ts';
import type { ChallengeItem } from '../../src/challenge/sampler.ts';
import { storageConfirmationMessage } from '../../src/protocol/messages.ts';
import { certificate, fundedAccount, type TestNode } from './local-helpers.ts';

/** How a node answers a round. */
export type Behaviour = 'honest' | 'lost' | 'silent';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const idBytes = (id: string) => new Uint8Array(Buffer.from(id.slice(2), 'hex'));

/** The blobs a test stored, by blob ID (hex): what honest nodes hold. */
export class HeldBlobs {
  readonly blobs = new Map<string, EncodedBlob>();
  readonly cfg: EncodingConfig;
  readonly nShards: number;
  constructor(nShards: number) {
    this.nShards = nShards;
    this.cfg = new EncodingConfig(nShards);
  }

  /** Stores random blobs of `sizes` for `epochsAhead` epochs, certified by every member of `nodes`. */
  async store(chain: LocalChain, nodes: readonly TestNode[], sizes: readonly number[], epochsAhead = 12): Promise<void> {
    const owner = await fundedAccount(chain);
    const epoch = (await chain.systemState()).epoch;
    for (const size of sizes) {
      const enc = encodeBlob(new Uint8Array(randomBytes(size)), { nShards: this.nShards });
      const { blob } = await chain.registerBlob(owner, {
        storage: { size: encodedBlobLength(size, 1, this.nShards), epochsAhead },
        blobId: enc.blobId,
        rootHash: enc.rootHash,
        size,
        encodingType: 1,
        deletable: false,
      });
      const message = storageConfirmationMessage(epoch, blob.blobId, { kind: 'permanent' });
      await chain.certifyBlob(owner, blob.id, await certificate(chain, nodes, message));
      this.blobs.set(hex(enc.blobId), enc);
    }
  }

  /** What an honest node holds of `item`. */
  held = (item: ChallengeItem): HeldSliver | null => {
    const enc = this.blobs.get(hex(item.blobId));
    if (!enc) return null;
    const sliver = item.axis === 'primary' ? enc.primarySlivers[item.pair] : enc.secondarySlivers[this.nShards - 1 - item.pair];
    return { cfg: this.cfg, data: sliver.data, metadata: enc.metadata };
  };

  /** Plays `rounds` rounds; every challenged node answers per `behaviour` (default honest). */
  async playRounds(chain: LocalChain, nodes: readonly TestNode[], behaviour: ReadonlyMap<ObjectId, Behaviour> = new Map(), rounds = 2) {
    for (let r = 0; r < rounds; r++) {
      const { epoch, round } = await chain.startChallengeRound(new Uint8Array(randomBytes(32)));
      const info = (await chain.challengeRounds(epoch)).find((x) => x.round === round)!;
      for (const a of info.assignments) {
        const b = behaviour.get(a.nodeId) ?? 'honest';
        if (b === 'silent') continue;
        const node = nodes.find((n) => n.nodeId === a.nodeId)!;
        const { digest, proofs } = answerRound(info.seed, idBytes(a.nodeId), a.items, b === 'lost' ? () => null : this.held);
        await chain.commitChallenge(node.operator, a.nodeId, epoch, round, digest);
        await chain.proveChallenge(node.operator, a.nodeId, epoch, round, proofs);
      }
    }
  }
}

/** Ends the epoch; when shards moved, every member reports its sync (so it is challenged again). */
export async function advanceAndSync(chain: LocalChain, nodes: readonly TestNode[]) {
  const fx = await chain.advanceEpoch();
  const s = await chain.systemState();
  if (s.epochState === 'changeSync')
    for (const m of s.committee.members) await chain.epochSyncDone(nodes.find((n) => n.nodeId === m.nodeId)!.operator, m.nodeId, s.epoch);
  return fx.events.map((e) => e.event);
}
