/**
 * The storage node's answer to the chain's storage challenges (docs/challenges.md §2, the shared
 * note's §6.3): when a round starts, the node reads its assignment (the items the chain's sampler
 * drew for it, served by the chain with the round), reads each challenged symbol straight from its
 * store, commits the digest of those symbols within the commit window, then builds the Merkle
 * proofs (one sliver expansion per item, on the codec pool: the event loop only hashes the short
 * paths) and reveals them within the proof window. Items whose sliver the node does not hold are
 * declared absent, honestly.
 *
 * The node learns of a round from its event follower (`ChallengeRoundStarted`, via `notify`) and,
 * as a fallback, by polling the chain's challenge routes every `pollMs`. What it committed (the
 * round, the digest and the symbols) is persisted in the node's key-value table before the commit
 * is sent, so a node restarted inside the answer window reveals exactly what it committed — even if
 * a blob was deleted meanwhile (the chain waives such items, but the digest must still match).
 *
 * Metrics (rounds passed, failed, missed; the last round) are counted from the chain's outcomes for
 * this node, persisted, and exposed in the node's health (`challenges`).
 *
 * Faults (./faults.ts): `lateMs` delays the commit, `lie` flips the first byte of every symbol it
 * answers (so the proofs fail verification).
 */
import type { Signer } from '@mysten/sui/cryptography';
import type { ChallengeAssignmentInfo, ChallengeOutcome, ChallengeRoundInfo } from '../chain/types.ts';
import { decodeChainJson, encodeChainJson } from '../chain/json.ts';
import { commitDigest, itemProofFromLeaves, pairLeafHashes, type ChallengeItemProof } from '../challenge/proof.ts';
import type { ChallengeItem } from '../challenge/sampler.ts';
import { SliverData } from '../codec/sliver.ts';
import type { BlobMetadata } from '../codec/metadata.ts';
import { pause } from '../util/async.ts';
import type { NodeStore } from './store.ts';
import type { NodeService } from './service.ts';
import type { NodeFaults } from './faults.ts';

/** What the responder needs of a chain: the challenge reads and the operator's two calls. */
export interface ChallengeChain {
  challengeRounds(epoch?: number): Promise<ChallengeRoundInfo[]>;
  commitChallenge(signer: Signer, nodeId: string, epoch: number, round: number, digest: Uint8Array): Promise<unknown>;
  proveChallenge(
    signer: Signer,
    nodeId: string,
    epoch: number,
    round: number,
    proofs: readonly ChallengeItemProof[],
  ): Promise<{ outcome: string; absent: number; invalid: number }>;
}

/** Whether `chain` runs storage challenges (the local chain and its HTTP client do; Sui does not). */
export function isChallengeChain(chain: unknown): chain is ChallengeChain {
  const c = chain as Partial<ChallengeChain> | null;
  return typeof c?.challengeRounds === 'function' && typeof c.commitChallenge === 'function' && typeof c.proveChallenge === 'function';
}

/** Options of {@link ChallengeResponder}. */
export interface ChallengeResponderOptions {
  readonly chain: ChallengeChain;
  readonly store: NodeStore;
  /** For the codec pool (expander), the committee size and the blobs' parsed metadata. */
  readonly service: NodeService;
  /** This node's ID once registered. */
  readonly nodeId: () => string | null;
  /** The operator's signer (commit and prove are operator transactions). */
  readonly signer: Signer;
  /** Injected faults (tests, `tusk dev --faults`); default none. */
  readonly faults?: NodeFaults;
  /** Fallback poll of the chain's rounds, ms (default 5000). */
  readonly pollMs?: number;
  /** Called before each answer (the drop fault deletes its slivers then). */
  readonly beforeAnswer?: () => void;
  readonly onLog?: (line: string) => void;
  readonly onError?: (error: unknown) => void;
}

/** The node's challenge record as its health reports it. */
export interface ChallengeMetrics {
  readonly passed: number;
  readonly failed: number;
  readonly missed: number;
  /** The last round this node was challenged in, with its outcome (null while open). */
  readonly lastRound: {
    readonly epoch: number;
    readonly round: number;
    readonly outcome: ChallengeOutcome | null;
    readonly items: number;
    readonly absent: number;
    readonly invalid: number;
  } | null;
}

const METRICS_KEY = 'challenge_metrics';
const ANSWER_KEY = 'challenge_answer';

interface StoredMetrics {
  passed: number;
  failed: number;
  missed: number;
  /** Rounds up to (epoch, round) are counted. */
  counted: [number, number] | null;
  lastRound: ChallengeMetrics['lastRound'];
}

/** What the node committed for a round (persisted before the commit is sent). */
interface CommittedAnswer {
  epoch: number;
  round: number;
  digest: Uint8Array;
  symbols: (Uint8Array | null)[];
}

function hexToBytes(hex: string): Uint8Array {
  return new Uint8Array(Buffer.from(hex.replace(/^0x/, ''), 'hex'));
}

function before(a: [number, number], b: [number, number]): boolean {
  return a[0] < b[0] || (a[0] === b[0] && a[1] < b[1]);
}

/** Answers this node's storage challenges. `start()` runs it; `notify()` wakes it at a round start. */
export class ChallengeResponder {
  private readonly o: ChallengeResponderOptions;
  private readonly abort = new AbortController();
  private running: Promise<void> | null = null;
  private wake: (() => void) | null = null;
  private woken = false;
  private answering: Promise<void> | null = null;
  private answeringKey = '';

  constructor(options: ChallengeResponderOptions) {
    this.o = options;
  }

  /** The record so far (persisted; survives restarts). */
  metrics(): ChallengeMetrics {
    const m = this.loadMetrics();
    return { passed: m.passed, failed: m.failed, missed: m.missed, lastRound: m.lastRound };
  }

  /** A round started (the follower saw `ChallengeRoundStarted`): check at once. */
  notify(): void {
    this.woken = true;
    this.wake?.();
  }

  /** Starts the loop (idempotent). */
  start(): void {
    if (this.running) return;
    const signal = this.abort.signal;
    this.running = (async () => {
      let delay = this.o.pollMs ?? 5000;
      while (!signal.aborted) {
        let ok = true;
        try {
          await this.checkOnce();
        } catch (e) {
          ok = false;
          if (!signal.aborted) this.report(e);
        }
        if (signal.aborted) break;
        // After a failure, look again soon: the commit window is short.
        const wait = ok ? delay : Math.min(delay, 1000);
        if (!this.woken)
          await new Promise<void>((resolve) => {
            const timer = setTimeout(resolve, wait);
            timer.unref?.();
            this.wake = () => {
              clearTimeout(timer);
              resolve();
            };
            signal.addEventListener('abort', () => this.wake?.(), { once: true });
          });
        this.wake = null;
        this.woken = false;
        delay = this.o.pollMs ?? 5000;
      }
    })();
  }

  /** Stops the loop and waits for an answer in progress. */
  async stop(): Promise<void> {
    this.abort.abort();
    this.wake?.();
    await this.running;
    await this.answering?.catch(() => {});
  }

  /**
   * Reads the chain's rounds, updates the metrics, and answers the open round if this node is
   * challenged in it and has not answered yet. Resolves when that answer is done.
   * @throws chain errors (the loop reports them and retries).
   */
  async checkOnce(): Promise<void> {
    const me = this.o.nodeId();
    if (me === null) return;
    const rounds = await this.o.chain.challengeRounds();
    const epoch = rounds[0]?.epoch ?? this.o.store.currentEpoch();
    const m = this.loadMetrics();
    if (epoch !== null && epoch !== undefined && m.counted !== null && m.counted[0] < epoch) {
      // The last rounds of the previous epoch were closed at the epoch change: count them too.
      this.count(me, await this.o.chain.challengeRounds(epoch - 1));
    }
    this.count(me, rounds);
    const open = rounds.at(-1);
    if (!open || open.closed) return;
    const a = open.assignments.find((x) => x.nodeId === me);
    if (!a || a.outcome !== null) return;
    const key = `${open.epoch}/${open.round}`;
    if (this.answering && this.answeringKey === key) return this.answering;
    await this.answering?.catch(() => {});
    this.answeringKey = key;
    this.answering = this.answer(me, open, a).finally(() => {
      this.answering = null;
    });
    return this.answering;
  }

  private async answer(me: string, r: ChallengeRoundInfo, a: ChallengeAssignmentInfo): Promise<void> {
    const { chain, signer } = this.o;
    const faults = this.o.faults ?? {};
    let saved = this.loadAnswer(r.epoch, r.round);
    if (!a.committed) {
      if (faults.lateMs) await pause(faults.lateMs, this.abort.signal);
      if (this.abort.signal.aborted) return;
      if (saved === null) {
        this.o.beforeAnswer?.();
        const symbols = a.items.map((item) => this.readSymbol(item));
        if (faults.lie) for (const s of symbols) if (s) s[0] ^= 0xff;
        saved = { epoch: r.epoch, round: r.round, digest: commitDigest(r.seed, hexToBytes(me), symbols), symbols };
        this.o.store.setValue(ANSWER_KEY, encodeChainJson(saved));
      }
      try {
        await chain.commitChallenge(signer, me, r.epoch, r.round, saved.digest);
      } catch (e) {
        // Committed already (a retry after a lost answer): go on to the proof. Anything else ends here.
        if ((e as { code?: string }).code !== 'EChallengeCommitted') {
          if ((e as { code?: string }).code === 'EChallengeCommitLate' || (e as { code?: string }).code === 'EChallengeClosed') {
            this.log(`challenge round ${r.epoch}/${r.round}: too late to commit (${(e as Error).message})`);
            return;
          }
          throw e;
        }
      }
    } else if (saved === null) {
      // Committed by an earlier run whose record is gone: recompute (an honest store gives the same symbols).
      const symbols = a.items.map((item) => this.readSymbol(item));
      if (faults.lie) for (const s of symbols) if (s) s[0] ^= 0xff;
      saved = { epoch: r.epoch, round: r.round, digest: commitDigest(r.seed, hexToBytes(me), symbols), symbols };
    }
    const started = Date.now();
    const proofs = await this.buildProofs(a.items, saved.symbols);
    const res = await chain.proveChallenge(signer, me, r.epoch, r.round, proofs).catch((e: unknown) => {
      const code = (e as { code?: string }).code;
      if (code === 'EChallengeProofLate' || code === 'EChallengeClosed' || code === 'EChallengeAnswered') {
        this.log(`challenge round ${r.epoch}/${r.round}: proof not accepted (${(e as Error).message})`);
        return null;
      }
      throw e;
    });
    if (res === null) return;
    const present = saved.symbols.filter((s) => s !== null).length;
    this.log(
      `challenge round ${r.epoch}/${r.round}: ${res.outcome} (${present}/${a.items.length} items held${res.absent ? `, ${res.absent} absent` : ''}${res.invalid ? `, ${res.invalid} invalid` : ''}; proofs built in ${Date.now() - started} ms)`,
    );
    await this.checkCounts(me);
  }

  /** Re-reads the rounds to count the outcome just produced (best effort). */
  private async checkCounts(me: string): Promise<void> {
    try {
      this.count(me, await this.o.chain.challengeRounds());
    } catch {
      /* counted at the next check */
    }
  }

  /** The challenged symbol from the store (SQL substr, no whole sliver read), or null when not held. */
  private readSymbol(item: ChallengeItem): Uint8Array | null {
    try {
      const got = this.o.store.sliverSymbolsAt(item.blobId, item.pair, item.axis, [item.position]);
      if (got === null || got.symbols[0].length !== item.symbolSize) return null;
      return new Uint8Array(got.symbols[0]);
    } catch {
      return null; // a position beyond the stored sliver: not the sliver the chain means
    }
  }

  /**
   * Proofs for `items` of the `symbols` committed. Expansions run on the codec pool; items of the
   * same sliver share one expansion. An item whose sliver or metadata vanished since the commit
   * (its blob deleted: the chain waives it) is revealed with its symbol and no paths.
   */
  private async buildProofs(items: readonly ChallengeItem[], symbols: readonly (Uint8Array | null)[]): Promise<ChallengeItemProof[]> {
    const { service, store } = this.o;
    const leavesOf = new Map<string, Promise<Uint8Array | null>>();
    const pairLeavesOf = new Map<BlobMetadata, Uint8Array>();
    const blank = new Uint8Array(32);
    return Promise.all(
      items.map(async (item, t): Promise<ChallengeItemProof> => {
        const symbol = symbols[t];
        const none = { t: item.t, symbol, sliverHash: blank, sliverPath: [], otherHash: blank, pairPath: [] };
        if (symbol === null) return none;
        const metadata = service.storedMetadata(item.blobId);
        if (metadata === null) return none;
        const key = `${Buffer.from(item.blobId).toString('hex')}:${item.pair}:${item.axis}`;
        let leaves = leavesOf.get(key);
        if (!leaves) {
          leaves = (async () => {
            const bcs = store.getSliver(item.blobId, item.pair, item.axis);
            if (bcs === null) return null;
            const sliver = SliverData.fromBcs(item.axis, bcs);
            const cfg = service.configFor(metadata);
            const { leaves: l } = await service.expander.expand(cfg, item.axis, sliver.data, sliver.symbolSize, 'leaves');
            return l ?? null;
          })();
          leavesOf.set(key, leaves);
        }
        const l = await leaves;
        if (l === null) return none;
        let pairLeaves = pairLeavesOf.get(metadata);
        if (!pairLeaves) pairLeavesOf.set(metadata, (pairLeaves = pairLeafHashes(metadata)));
        return itemProofFromLeaves(item, symbol, l, metadata, pairLeaves);
      }),
    );
  }

  /** Counts this node's outcomes in `rounds` not counted yet (in order), and persists them. */
  private count(me: string, rounds: readonly ChallengeRoundInfo[]): void {
    const m = this.loadMetrics();
    let changed = false;
    for (const r of rounds) {
      const a = r.assignments.find((x) => x.nodeId === me);
      if (!a) continue;
      const at: [number, number] = [r.epoch, r.round];
      if (m.counted !== null && !before(m.counted, at)) continue;
      const last = { epoch: r.epoch, round: r.round, outcome: a.outcome, items: a.items.length, absent: a.absent, invalid: a.invalid };
      if (m.lastRound === null || !before(at, [m.lastRound.epoch, m.lastRound.round])) {
        m.lastRound = last;
        changed = true;
      }
      if (a.outcome === null) break; // counted once it has an outcome; later rounds wait for it
      m[a.outcome]++;
      m.counted = at;
      changed = true;
    }
    if (changed) this.o.store.setValue(METRICS_KEY, JSON.stringify(m));
  }

  private loadMetrics(): StoredMetrics {
    const v = this.o.store.getValue(METRICS_KEY);
    return v === null ? { passed: 0, failed: 0, missed: 0, counted: null, lastRound: null } : (JSON.parse(v) as StoredMetrics);
  }

  private loadAnswer(epoch: number, round: number): CommittedAnswer | null {
    const v = this.o.store.getValue(ANSWER_KEY);
    if (v === null) return null;
    try {
      const a = decodeChainJson(v) as CommittedAnswer;
      return a.epoch === epoch && a.round === round ? a : null;
    } catch {
      return null;
    }
  }

  private log(line: string): void {
    this.o.onLog?.(line);
  }

  private report(e: unknown): void {
    if (this.o.onError) this.o.onError(e);
    else process.stderr.write(`tusk node: challenge responder: ${e instanceof Error ? e.message : String(e)}\n`);
  }
}
