/**
 * Fault injection for storage nodes (docs/challenges.md §7): a node that loses data, answers its
 * storage challenges late, lies in them, or goes offline for a while, so the chain's challenges
 * can be watched catching it on a real network (`tusk dev --faults`, `tusk node run --fault`).
 *
 * Grammar of one node's faults (comma-separated, each at most once):
 *
 *   drop=<fraction>      the node deletes that fraction of its slivers of certified blobs (0 < f ≤ 1,
 *                        `0.3` or `30%`) and never repairs them: the choice of a sliver is a hash of
 *                        the node ID and the sliver, so it is stable across restarts, and the store
 *                        refuses to write a dropped sliver back (blob sync, shard recovery, scrubber).
 *   late=<duration>      the node waits that long after a round starts before it commits (`5s`,
 *                        `1500ms`): longer than the commit window (3 s with 30 s epochs, 20 s with
 *                        1 h epochs), the round is missed.
 *   lie                  the node answers with wrong bytes (each symbol's first byte flipped): its
 *                        proofs fail verification, the round fails with invalid items.
 *   offline=<duration>[@<start>][/<period>]
 *                        the process is stopped for <duration>, <start> after the network is up
 *                        (default 0), again every <period> if given. Only `tusk dev` applies it (it
 *                        owns the process); `tusk node run --fault` refuses it.
 *
 * Durations: a number with ms, s, m or h (a bare number is ms).
 */
import { blake2b } from '@noble/hashes/blake2.js';
import { TuskInputError } from '../errors.ts';
import type { SliverAxis } from '../codec/sliver.ts';

/** When a node is offline: for `durationMs`, starting `startMs` after the network is up, every `periodMs` if set. */
export interface OfflineSchedule {
  readonly durationMs: number;
  readonly startMs: number;
  readonly periodMs?: number;
}

/** One node's injected faults (all optional; an empty object is an honest node). */
export interface NodeFaults {
  /** Fraction of slivers of certified blobs deleted and never repaired (0 < f ≤ 1). */
  readonly drop?: number;
  /** Delay before answering a challenge round, ms. */
  readonly lateMs?: number;
  /** Answer with wrong bytes. */
  readonly lie?: boolean;
  /** Process downtime (applied by the supervisor, `tusk dev`). */
  readonly offline?: OfflineSchedule;
}

/** Parses a duration such as `5s`, `1500ms`, `2m`, `1h` (bare number: ms). @throws TuskInputError. */
export function parseFaultDuration(text: string, what: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(text.trim());
  if (!m) throw new TuskInputError(`${what}: not a duration: ${JSON.stringify(text)} (use e.g. 1500ms, 5s, 2m)`);
  const ms = Math.round(Number(m[1]) * { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[m[2] ?? 'ms']!);
  if (!Number.isSafeInteger(ms)) throw new TuskInputError(`${what}: duration ${JSON.stringify(text)} is too large`);
  return ms;
}

function parseFraction(text: string): number {
  const m = /^(\d+(?:\.\d+)?)(%?)$/.exec(text.trim());
  const f = m ? Number(m[1]) / (m[2] ? 100 : 1) : NaN;
  if (!(f > 0 && f <= 1)) throw new TuskInputError(`drop=${text}: the fraction must be in (0, 1], e.g. drop=0.3 or drop=30%`);
  return f;
}

function parseOffline(text: string): OfflineSchedule {
  const m = /^([^@/]+)(?:@([^@/]+))?(?:\/([^@/]+))?$/.exec(text.trim());
  if (!m) throw new TuskInputError(`offline=${text}: expected offline=<duration>[@<start>][/<period>], e.g. offline=20s@30s/2m`);
  const durationMs = parseFaultDuration(m[1], 'offline');
  const startMs = m[2] === undefined ? 0 : parseFaultDuration(m[2], 'offline start');
  const periodMs = m[3] === undefined ? undefined : parseFaultDuration(m[3], 'offline period');
  if (durationMs < 1000) throw new TuskInputError(`offline=${text}: the downtime must be at least 1s`);
  if (periodMs !== undefined && periodMs <= durationMs)
    throw new TuskInputError(`offline=${text}: the period must be longer than the downtime`);
  return { durationMs, startMs, ...(periodMs === undefined ? {} : { periodMs }) };
}

/**
 * Adds one `key[=value]` fault to `into`. @throws TuskInputError naming the bad part.
 */
export function addFault(into: Record<string, unknown>, part: string): void {
  const eq = part.indexOf('=');
  const key = (eq < 0 ? part : part.slice(0, eq)).trim();
  const value = eq < 0 ? undefined : part.slice(eq + 1);
  const field = { drop: 'drop', late: 'lateMs', lie: 'lie', offline: 'offline' }[key];
  if (!field)
    throw new TuskInputError(`unknown fault ${JSON.stringify(key)} (expected drop=<fraction>, late=<duration>, lie, offline=<duration>)`);
  if (field in into) throw new TuskInputError(`fault ${key} is given twice for one node`);
  if (key === 'lie') {
    if (value !== undefined) throw new TuskInputError('the lie fault takes no value');
    into.lie = true;
    return;
  }
  if (value === undefined || value.trim() === '') throw new TuskInputError(`fault ${key} needs a value (${key}=…)`);
  if (key === 'drop') into.drop = parseFraction(value);
  else if (key === 'late') {
    const ms = parseFaultDuration(value, 'late');
    if (ms <= 0) throw new TuskInputError('late=: the delay must be positive');
    into.lateMs = ms;
  } else into.offline = parseOffline(value);
}

/**
 * Parses one node's fault list, e.g. `drop=0.3,late=5s` (see the file header).
 * @throws TuskInputError for an unknown fault, a bad value or a repeated fault.
 */
export function parseNodeFaults(spec: string): NodeFaults {
  if (typeof spec !== 'string' || spec.trim() === '') throw new TuskInputError('empty fault spec (expected e.g. drop=0.3,late=5s)');
  const out: Record<string, unknown> = {};
  for (const part of spec.split(',')) addFault(out, part);
  return out as NodeFaults;
}

/** The inverse of {@link parseNodeFaults} (what a supervisor passes to `tusk node run --fault`). */
export function formatNodeFaults(f: NodeFaults): string {
  const parts: string[] = [];
  if (f.drop !== undefined) parts.push(`drop=${f.drop}`);
  if (f.lateMs !== undefined) parts.push(`late=${f.lateMs}ms`);
  if (f.lie) parts.push('lie');
  if (f.offline)
    parts.push(
      `offline=${f.offline.durationMs}ms@${f.offline.startMs}ms${f.offline.periodMs === undefined ? '' : `/${f.offline.periodMs}ms`}`,
    );
  return parts.join(',');
}

const DROP_DOMAIN = new TextEncoder().encode('tusk/fault/drop/v1');

/**
 * Whether the drop fault of `nodeId` selects sliver (`blobId`, `pair`, `axis`): a hash of the
 * three against `fraction`, so each sliver is dropped with that probability, independently, and
 * the same ones on every run.
 */
export function droppedByFault(nodeId: string, fraction: number, blobId: Uint8Array, pair: number, axis: SliverAxis): boolean {
  const id = new TextEncoder().encode(nodeId);
  const buf = new Uint8Array(DROP_DOMAIN.length + id.length + 32 + 3);
  buf.set(DROP_DOMAIN, 0);
  buf.set(id, DROP_DOMAIN.length);
  buf.set(blobId, DROP_DOMAIN.length + id.length);
  const o = DROP_DOMAIN.length + id.length + 32;
  buf[o] = pair & 0xff;
  buf[o + 1] = (pair >>> 8) & 0xff;
  buf[o + 2] = axis === 'primary' ? 0 : 1;
  const h = blake2b(buf, { dkLen: 8 });
  const x = new DataView(h.buffer, h.byteOffset, 8).getUint32(0, true) / 2 ** 32;
  return x < fraction;
}
