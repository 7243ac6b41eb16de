/**
 * The chain server's storage-challenge clock (docs/challenges.md §2): starts `roundsPerEpoch` (R)
 * rounds per epoch, round r at `epochStart + T·(r+1)/(R+1)` (T = the epoch duration), so rounds
 * scale with `--epoch-duration` and the last one ends before the epoch does; and closes a round
 * whose proof window has passed, so a node that did not answer shows as missed at once.
 *
 * At most one round per slot: a server that was down through a slot does not start the rounds it
 * skipped in a burst on restart (each would close the one before, and nodes would miss them); it
 * starts the current slot's round if that has not started yet. A slot that falls in an epoch
 * change (`changeSync`, when the chain refuses rounds) is retried every second until the epoch is
 * active, and given up once the next slot begins.
 *
 * `scaledChallengeParams` derives the answer windows from the epoch duration for a new chain:
 * commit within half the time between rounds (at most the default 20 s), prove before the next
 * round (at most the default 5 min). With 1-hour epochs that is the defaults; with `tusk dev
 * --epoch-duration 30s` rounds come every 6 s with a 3 s commit window.
 */
import { ChainAbortError } from '../../errors.ts';
import { pause } from '../../util/async.ts';
import type { ChallengeRoundInfo, SystemState } from '../types.ts';

/** The challenge and penalty parameters as the clock reads them (a subset of the chain's). */
export interface ClockParams {
  readonly symbolsPerRound: number;
  readonly roundsPerEpoch: number;
  readonly commitWindowMs: number;
  readonly proofWindowMs: number;
}

/** What the clock needs of the chain it serves (`LocalChain` has it). */
export interface ChallengeClockChain {
  systemState(): Promise<SystemState>;
  challengeParams(): Promise<ClockParams>;
  challengeRounds(epoch?: number): Promise<ChallengeRoundInfo[]>;
  startChallengeRound(): Promise<{ epoch: number; round: number; nodes: number }>;
  closeExpiredChallengeRound(): Promise<boolean>;
}

/** Whether `chain` can run the clock. */
export function hasChallengeClock(chain: unknown): chain is ChallengeClockChain {
  const c = chain as Partial<ChallengeClockChain> | null;
  return typeof c?.startChallengeRound === 'function' && typeof c.closeExpiredChallengeRound === 'function';
}

/** Start time of round `r` of an epoch (chain ms). */
export function roundStartMs(epochStartMs: number, epochDurationMs: number, roundsPerEpoch: number, r: number): number {
  return epochStartMs + Math.floor((epochDurationMs * (r + 1)) / (roundsPerEpoch + 1));
}

/**
 * Answer windows for a new chain with epochs of `epochDurationMs` and `roundsPerEpoch` rounds:
 * commit within half a round spacing (≤ 20 s, ≥ 1 s), prove within the spacing (≤ 5 min).
 */
export function scaledChallengeParams(epochDurationMs: number, roundsPerEpoch = 4): { commitWindowMs: number; proofWindowMs: number } {
  const spacing = Math.floor(epochDurationMs / (roundsPerEpoch + 1));
  const commitWindowMs = Math.max(1000, Math.min(20_000, Math.floor(spacing / 2)));
  return { commitWindowMs, proofWindowMs: Math.max(commitWindowMs, Math.min(5 * 60_000, spacing)) };
}

/**
 * Error reporting of a clock loop (this one and the server's epoch clock): every error is passed
 * to `onError`, except that a streak of retryable aborts (an epoch change still waiting for the
 * nodes) is reported once, not every second. `succeeded()` ends a streak.
 */
export function clockErrorReporter(onError: (e: unknown) => void): { failed(e: unknown): void; succeeded(): void } {
  let refusing = false;
  return {
    failed(e) {
      const transient = e instanceof ChainAbortError && e.retryable;
      if (!transient || !refusing) onError(e);
      refusing = transient;
    },
    succeeded() {
      refusing = false;
    },
  };
}

/**
 * Runs the clock until `signal` aborts. Reads the epoch, its start and duration and the parameters
 * at every tick, so a restarted server, an epoch advanced by hand or a governance change of the
 * parameters is followed. Errors are reported and retried after a second.
 */
export async function runChallengeClock(
  chain: ChallengeClockChain,
  signal: AbortSignal,
  onError: (e: unknown) => void,
  log: (line: string) => void,
): Promise<void> {
  const errors = clockErrorReporter(onError);
  while (!signal.aborted) {
    let sleepMs = 60_000;
    try {
      const [state, params] = await Promise.all([chain.systemState(), chain.challengeParams()]);
      const R = params.roundsPerEpoch;
      const now = Date.now();
      if (params.symbolsPerRound > 0 && R > 0) {
        const rounds = await chain.challengeRounds(state.epoch);
        const last = rounds.at(-1);
        if (last && !last.closed && now > last.startedMs + params.proofWindowMs && (await chain.closeExpiredChallengeRound()))
          log(`challenge round ${last.epoch}/${last.round} closed (proof window over)`);
        const start = (r: number) => roundStartMs(state.epochStartMs, state.epochDurationMs, R, r);
        let slot = -1;
        while (slot + 1 < R && start(slot + 1) <= now) slot++;
        if (slot >= 0 && rounds.length < R && (last === undefined || last.startedMs < start(slot))) {
          if (state.epochState === 'active') {
            const r = await chain.startChallengeRound();
            errors.succeeded();
            log(`challenge round ${r.epoch}/${r.round} started: ${r.nodes} node${r.nodes === 1 ? '' : 's'} challenged`);
            sleepMs = 0;
          } else sleepMs = 1000; // an epoch change in progress: rounds are void until it is done
        } else {
          // Wake for the next slot, the open round's proof deadline, or the epoch's end.
          const wakes = [state.epochStartMs + state.epochDurationMs + 100];
          if (slot + 1 < R) wakes.push(start(slot + 1));
          if (last && !last.closed) wakes.push(last.startedMs + params.proofWindowMs + 1);
          sleepMs = Math.max(100, Math.min(60_000, Math.min(...wakes) - now));
        }
      }
    } catch (e) {
      if (signal.aborted) return;
      errors.failed(e);
      sleepMs = 1000;
    }
    if (sleepMs > 0) await pause(sleepMs, signal);
  }
}
