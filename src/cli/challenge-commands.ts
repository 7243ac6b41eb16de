/**
 * `tusk challenge status [--json]`: every storage node's challenge record on a Tusk chain
 * (rounds passed, rounds failed or missed, jailed), read from the chain server named by the
 * client config (docs/challenges.md). Sui chains have no challenge rounds (Walrus has none yet).
 */
import { TuskInputError } from '../errors.ts';
import { RemoteChain } from '../chain/remote/client.ts';
import { parseCommand, print } from './common.ts';
import { selectChain } from './chain-select.ts';

/** Usage text of these commands (main.ts appends it to its own). */
export const CHALLENGE_USAGE = `Storage challenges (Tusk chain):
  challenge status [--json] [--config F]                Every node's challenge rounds passed/failed and jail.`;

/** Runs `tusk challenge <sub> …`. @returns the exit code. */
export async function challengeCommand(args: string[], usageError: (m: string) => Error): Promise<number> {
  const [sub, ...rest] = args;
  if (sub !== 'status') throw usageError(`challenge: unknown subcommand ${JSON.stringify(sub ?? '')} (expected: status)`);
  const { values, positionals } = parseCommand('challenge status', rest, { json: { type: 'boolean' }, config: { type: 'string' } }, false);
  void positionals;
  const selected = await selectChain({ config: values.config });
  if (selected.kind !== 'tusk' || !(selected.chain instanceof RemoteChain))
    throw new TuskInputError('storage challenges exist only on a Tusk chain (the configured chain is Sui)');
  const remote = selected.chain;
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
