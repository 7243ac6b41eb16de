/**
 * Storage-challenge benchmark (issue 16): per node and round, the bytes of the answer (symbols and
 * Merkle proofs), the size of the `proveChallenge` request on the wire, the chain's verification
 * time per response, and the node's proof building (one thread, and the storage node's path: the
 * expansions on a codec pool of `--threads`, as src/node/challenge-responder.ts does), at n = 100
 * shards with 1 GiB of blobs stored. Real code throughout (sampler, proof builder, verifier); the slivers are random
 * bytes with metadata built around them (each challenged sliver's real expanded-tree root placed
 * in its pair, the blob's root hash recomputed), so no 1 GiB encode is needed.
 *
 *   node bench/challenges.ts [-- --shards 100] [--stored-gib 1] [--symbols 32] [--rounds 5] [--threads 2]
 */
import { randomBytes } from 'node:crypto';
import { EncodingConfig } from '../src/codec/config.ts';
import { expandSlivers } from '../src/codec/expand.ts';
import { sliverSymbols } from '../src/codec/task-plan.ts';
import { BlobMetadata } from '../src/codec/metadata.ts';
import { metadataRootHash } from '../src/codec/verify.ts';
import { defaultKernel } from '../src/wasm/kernel.ts';
import { BlobWeights, sampleItems, type ChallengeableBlob } from '../src/challenge/sampler.ts';
import { buildItemProof, itemProofFromLeaves, pairLeafHashes, verifyItemProof, type ChallengeItemProof } from '../src/challenge/proof.ts';
import { encodeChainJson } from '../src/chain/json.ts';
import { CodecPool } from '../src/pool/codec-pool.ts';
import { PoolExpander } from '../src/node/pool-expander.ts';
import { argValue, median } from './harness.ts';

const argv = process.argv.slice(2);
const n = Number(argValue(argv, '--shards') ?? 100);
const storedGiB = Number(argValue(argv, '--stored-gib') ?? 1);
const s = Number(argValue(argv, '--symbols') ?? 32);
const rounds = Number(argValue(argv, '--rounds') ?? 5);
const threads = Number(argValue(argv, '--threads') ?? 2);
const pool = new CodecPool({ threads });
const expander = new PoolExpander(pool);

const cfg = new EncodingConfig(n);
const kernel = defaultKernel();
const blobSize = Math.min(128 * 2 ** 20, cfg.maxBlobSize);
const blobCount = Math.ceil((storedGiB * 2 ** 30) / blobSize);
const blobs: ChallengeableBlob[] = Array.from({ length: blobCount }, () => ({
  blobId: new Uint8Array(randomBytes(32)),
  rootHash: new Uint8Array(32),
  size: blobSize,
  encodingType: cfg.encodingType,
}));
const weights = new BlobWeights(blobs, n);
const shards = Array.from({ length: Math.round(n / 10) }, (_, i) => i * 10);
const nodeId = new Uint8Array(randomBytes(32));

const proofBytes: number[] = [];
const verifyMs: number[] = [];
const buildMs: number[] = [];
const poolBuildMs: number[] = [];
const wireBytes: number[] = [];
for (let r = 0; r < rounds; r++) {
  const items = sampleItems(new Uint8Array(randomBytes(32)), nodeId, weights, shards, n, s);
  let bytes = 0,
    verify = 0,
    build = 0;
  const work: { item: (typeof items)[number]; sliver: Uint8Array; metadata: BlobMetadata }[] = [];
  const proofs: ChallengeItemProof[] = [];
  for (const item of items) {
    const sliver = new Uint8Array(randomBytes(sliverSymbols(cfg, item.axis) * item.symbolSize));
    const [root] = expandSlivers(kernel, cfg, item.axis, [sliver], item.symbolSize);
    const hashes: { primary: Uint8Array; secondary: Uint8Array }[] = Array.from({ length: n }, () => ({
      primary: new Uint8Array(randomBytes(32)),
      secondary: new Uint8Array(randomBytes(32)),
    }));
    hashes[item.pair] = item.axis === 'primary' ? { ...hashes[item.pair], primary: root } : { ...hashes[item.pair], secondary: root };
    const metadata = new BlobMetadata(cfg.encodingType, blobSize, hashes);
    const real = { ...item, rootHash: metadataRootHash(metadata, kernel) };
    let t = performance.now();
    const proof = buildItemProof(cfg, real, sliver, metadata, kernel);
    build += performance.now() - t;
    t = performance.now();
    if (verifyItemProof(real, proof, n, kernel) !== 'valid') throw new Error('a built proof did not verify');
    verify += performance.now() - t;
    bytes += proof.symbol!.length + 64 + 33 * (proof.sliverPath.length + proof.pairPath.length) + 8;
    work.push({ item: real, sliver, metadata });
    proofs.push(proof);
  }
  // The node's path: every expansion on the pool at once, the short paths on the main thread.
  const t0 = performance.now();
  await Promise.all(
    work.map(async ({ item, sliver, metadata }) => {
      const { leaves } = await expander.expand(cfg, item.axis, sliver, item.symbolSize, 'leaves');
      const symbol = sliver.slice(item.position * item.symbolSize, (item.position + 1) * item.symbolSize);
      const proof = itemProofFromLeaves(item, symbol, leaves!, metadata, pairLeafHashes(metadata));
      if (verifyItemProof(item, proof, n, kernel) !== 'valid') throw new Error('a pool-built proof did not verify');
    }),
  );
  poolBuildMs.push(performance.now() - t0);
  // What POST /v1/transactions carries: the signed chain-JSON transaction, as hex in a chain-JSON body.
  const tx = new TextEncoder().encode(
    encodeChainJson({ call: 'proveChallenge', args: { nodeId: '0x' + '0'.repeat(64), epoch: 1, round: 0, proofs } }),
  );
  wireBytes.push(encodeChainJson({ bytes: tx, signature: 'A'.repeat(132) }).length);
  proofBytes.push(bytes);
  verifyMs.push(verify);
  buildMs.push(build);
}
console.log(
  JSON.stringify(
    {
      nShards: n,
      stored: `${blobCount} blobs × ${(blobSize / 2 ** 20).toFixed(0)} MiB`,
      symbolSize: weights.symbolSizes[0],
      itemsPerRound: s,
      roundsMeasured: rounds,
      answerBytesPerRoundMedian: median(proofBytes),
      chainVerifyMsPerResponseMedian: Number(median(verifyMs).toFixed(2)),
      chainVerifyMsPerItemMedian: Number((median(verifyMs) / s).toFixed(3)),
      proveChallengeRequestBytesMedian: median(wireBytes),
      nodeProofBuildMsPerRoundMedian: Number(median(buildMs).toFixed(1)),
      nodeProofBuildOnPoolMsPerRoundMedian: Number(median(poolBuildMs).toFixed(1)),
      poolThreads: threads,
    },
    null,
    2,
  ),
);
expander.close();
await pool.close();
