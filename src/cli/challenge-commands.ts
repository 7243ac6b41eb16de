/**
 * `tusk challenge status|history`: storage nodes' challenge records on a Tusk chain, read from the
 * chain server named by the client config (docs/challenges.md). `status` sums every node's rounds
 * and jail; `history` lists, per epoch and node, each round's outcome (items absent or invalid) and
 * what the epoch change settled (reward withheld, offence, jail, commission burnt, stake slashed).
 * Sui chains have no challenge rounds (Walrus has none yet) and are refused.
 */
import { TuskInputError } from '../errors.ts';
import { RemoteChain } from '../chain/remote/client.ts';
import type { ChallengeAssignmentInfo, ChallengePenaltyRecord, StorageNodeInfo } from '../chain/types.ts';
import { formatWal } from './chain-command.ts';
import { parseCommand, print } from './common.ts';
import { selectChain } from './chain-select.ts';

/** Usage text of these commands (main.ts appends it to its own). */
export const CHALLENGE_USAGE = `Storage challenges (Tusk chain):
  challenge status [--json] [--config F]                Every node's challenge rounds passed/failed and jail.
  challenge history [--node NAME|ID] [--epochs A-B] [--json] [--config F]
                                                        Per epoch and node: each round's outcome (items
                                                        absent/invalid) and the penalties settled (reward
                                                        withheld, jail, commission burnt, stake slashed).
                                                        --epochs A-B or A (default: every epoch).`;

async function tuskChain(config: string | undefined): Promise<RemoteChain> {
  const selected = await selectChain({ config });
  if (selected.kind !== 'tusk' || !(selected.chain instanceof RemoteChain))
    throw new TuskInputError('storage challenges exist only on a Tusk chain (the configured chain is Sui)');
  return selected.chain;
}

/** Runs `tusk challenge <sub> …`. @returns the exit code. */
export async function challengeCommand(args: string[], usageError: (m: string) => Error): Promise<number> {
  const [sub, ...rest] = args;
  if (sub === 'status') return statusCommand(rest);
  if (sub === 'history') return historyCommand(rest, usageError);
  throw usageError(`challenge: unknown subcommand ${JSON.stringify(sub ?? '')} (expected: status, history)`);
}

async function statusCommand(rest: string[]): Promise<number> {
  const { values } = parseCommand('challenge status', rest, { json: { type: 'boolean' }, config: { type: 'string' } }, false);
  const remote = await tuskChain(values.config);
  const epoch = (await remote.systemState()).epoch;
  const nodes = await Promise.all(
    (await remote.nodes()).map(async (info) => {
      const st = await remote.challengeStatus(info.nodeId);
      return {
        name: info.name,
        nodeId: info.nodeId,
        roundsPassed: st.passed,
        roundsFailed: st.failed + st.missed,
        // jailedUntilEpoch: the node sits out committees before that epoch.
        jailed: st.jailedUntilEpoch !== null && epoch < st.jailedUntilEpoch,
      };
    }),
  );
  const json = { nodes };
  const lines = nodes.map(
    (n) =>
      `${n.name.padEnd(16)} passed ${String(n.roundsPassed).padStart(5)}  failed ${String(n.roundsFailed).padStart(5)}  ` +
      `${n.jailed ? 'JAILED' : 'active'}`,
  );
  print(values.json === true, json, nodes.length === 0 ? 'no storage nodes registered' : lines.join('\n'));
  return 0;
}

/** `--epochs A-B` or `A` → [from, to], within 0…current. @throws the usage error. */
export function parseEpochRange(text: string | undefined, current: number, usageError: (m: string) => Error): [number, number] {
  if (text === undefined) return [0, current];
  const m = /^(\d{1,10})(?:-(\d{1,10}))?$/.exec(text.trim());
  if (!m) throw usageError(`--epochs must be A-B or A (epoch numbers), got ${JSON.stringify(text)}`);
  const from = Number(m[1]);
  const to = m[2] === undefined ? from : Number(m[2]);
  if (from > to) throw usageError(`--epochs ${text}: the first epoch is after the last`);
  if (from > current) throw usageError(`--epochs ${text}: the chain is at epoch ${current}`);
  return [from, Math.min(to, current)];
}

/** The node named `key` (its name, or its ID in any hex case / length). @throws the usage error. */
function findNode(nodes: readonly StorageNodeInfo[], key: string, usageError: (m: string) => Error): StorageNodeInfo {
  const byName = nodes.filter((n) => n.name === key);
  if (byName.length === 1) return byName[0];
  if (byName.length > 1) throw usageError(`--node ${key}: ${byName.length} nodes have that name; give the node ID`);
  if (/^0x[0-9a-fA-F]{1,64}$/.test(key)) {
    const n = nodes.find((x) => BigInt(x.nodeId) === BigInt(key));
    if (n) return n;
  }
  throw usageError(`--node ${key}: no storage node of that name or ID (nodes: ${nodes.map((n) => n.name).join(', ') || 'none'})`);
}

/** One round of a node as `history` prints it. */
interface HistoryRound {
  round: number;
  outcome: string;
  absent: number;
  invalid: number;
}

/** One node's line of an epoch in `history`. */
interface HistoryNode {
  name: string;
  nodeId: string;
  rounds: HistoryRound[];
  /** What the epoch change settled, or null (not settled yet, or the node had no rounds). */
  settled: {
    withholdingBps: number;
    offence: string | null;
    jailedUntilEpoch: number | null;
    commissionBurned: string;
    slashed: string;
  } | null;
}

async function historyCommand(rest: string[], usageError: (m: string) => Error): Promise<number> {
  const { values } = parseCommand(
    'challenge history',
    rest,
    { json: { type: 'boolean' }, config: { type: 'string' }, node: { type: 'string' }, epochs: { type: 'string' } },
    false,
  );
  const remote = await tuskChain(values.config);
  const current = (await remote.systemState()).epoch;
  const [from, to] = parseEpochRange(values.epochs, current, usageError);
  const all = await remote.nodes();
  const targets = values.node === undefined ? all : [findNode(all, values.node, usageError)];
  const [statuses, settled] = await Promise.all([
    Promise.all(targets.map((n) => remote.challengeStatus(n.nodeId, from, to))),
    remote.challengePenalties(from, to, values.node === undefined ? undefined : targets[0].nodeId),
  ]);
  const byEpoch = new Map<number, Map<string, HistoryNode>>();
  const entry = (epoch: number, nodeId: string): HistoryNode => {
    let e = byEpoch.get(epoch);
    if (!e) byEpoch.set(epoch, (e = new Map()));
    let n = e.get(nodeId);
    if (!n) {
      const info = all.find((x) => x.nodeId === nodeId);
      e.set(nodeId, (n = { name: info?.name ?? '?', nodeId, rounds: [], settled: null }));
    }
    return n;
  };
  for (const st of statuses)
    for (const a of st.rounds as ChallengeAssignmentInfo[])
      entry(a.epoch, a.nodeId).rounds.push({ round: a.round, outcome: a.outcome ?? 'open', absent: a.absent, invalid: a.invalid });
  for (const p of settled as ChallengePenaltyRecord[])
    entry(p.epoch, p.nodeId).settled = {
      withholdingBps: p.withholdingBps,
      offence: p.offence,
      jailedUntilEpoch: p.jailedUntilEpoch,
      commissionBurned: p.commissionBurned.toString(),
      slashed: p.slashed.toString(),
    };
  const epochs = [...byEpoch.keys()]
    .sort((a, b) => a - b)
    .map((epoch) => ({
      epoch,
      nodes: [...byEpoch.get(epoch)!.values()].sort((a, b) => a.name.localeCompare(b.name) || a.nodeId.localeCompare(b.nodeId)),
    }));
  const text = epochs.flatMap((e) => [`epoch ${e.epoch}${e.epoch === current ? ' (current, not settled)' : ''}`, ...e.nodes.map(nodeLine)]);
  print(
    values.json === true,
    { fromEpoch: from, toEpoch: to, epochs },
    text.length === 0 ? `no challenge rounds in epochs ${from}-${to}` : text.join('\n'),
  );
  return 0;
}

function nodeLine(n: HistoryNode): string {
  const rounds = n.rounds
    .map((r) => {
      const lost = [r.absent ? `${r.absent} absent` : '', r.invalid ? `${r.invalid} invalid` : ''].filter(Boolean).join(', ');
      return `r${r.round} ${r.outcome}${lost ? ` (${lost})` : ''}`;
    })
    .join(', ');
  const parts = [`  ${n.name.padEnd(16)} ${rounds || 'no rounds'}`];
  const s = n.settled;
  if (s) {
    parts.push(`withheld ${(s.withholdingBps / 100).toFixed(2)} %`);
    if (s.offence) parts.push(`offence ${s.offence}`);
    if (s.jailedUntilEpoch !== null) parts.push(`JAILED until epoch ${s.jailedUntilEpoch}`);
    if (BigInt(s.commissionBurned) > 0n) parts.push(`commission burnt ${formatWal(BigInt(s.commissionBurned))} WAL`);
    if (BigInt(s.slashed) > 0n) parts.push(`SLASHED ${formatWal(BigInt(s.slashed))} WAL`);
  }
  return parts.join('  ');
}
