/**
 * `tusk dev --faults <spec>`: which nodes of a local network misbehave, and how (docs/challenges.md
 * §7). The spec is a comma-separated list of `node-<i>:<fault>` entries, where `<fault>` is one of
 * the node faults of src/node/faults.ts (drop=<fraction>, late=<duration>, lie,
 * offline=<duration>[@<start>][/<period>]); a node may appear several times with different faults:
 *
 *   --faults node-2:drop=0.3,node-4:late=5s
 *   --faults node-1:drop=10%,node-1:lie,node-3:offline=20s@1m/5m
 *
 * drop, late and lie are passed to the node process (`tusk node run --fault`); offline is applied
 * by the supervisor, which stops the node process and starts it again (src/network/dev-network.ts).
 */
import { TuskInputError } from '../errors.ts';
import { addFault, type NodeFaults } from '../node/faults.ts';

/**
 * Parses a `--faults` spec for a network of `nodes` nodes (named node-0 … node-<nodes−1>).
 * @returns the faults of each faulty node, by index.
 * @throws TuskInputError naming the bad entry (unknown node, unknown fault, bad value, repeated fault).
 */
export function parseDevFaults(spec: string, nodes: number): Map<number, NodeFaults> {
  if (typeof spec !== 'string' || spec.trim() === '')
    throw new TuskInputError('--faults: empty spec (expected e.g. node-2:drop=0.3,node-4:late=5s)');
  const byNode = new Map<number, Record<string, unknown>>();
  for (const entry of spec.split(',')) {
    const m = /^\s*node-(\d+):(.+)$/.exec(entry);
    if (!m) throw new TuskInputError(`--faults: ${JSON.stringify(entry)} is not node-<i>:<fault> (e.g. node-2:drop=0.3)`);
    const i = Number(m[1]);
    if (i >= nodes)
      throw new TuskInputError(
        `--faults: there is no node-${i} in a network of ${nodes} node${nodes === 1 ? '' : 's'} (node-0 … node-${nodes - 1})`,
      );
    const faults = byNode.get(i) ?? {};
    try {
      addFault(faults, m[2]);
    } catch (e) {
      throw new TuskInputError(`--faults: node-${i}: ${(e as Error).message}`);
    }
    byNode.set(i, faults);
  }
  return byNode as Map<number, NodeFaults>;
}
