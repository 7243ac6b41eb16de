/**
 * What `walrus health` prints: each storage node's `/v1/health` answer (uptime, epoch, node
 * status, event progress, shard summary; with `detail` the per-shard status), or why it could not
 * be had, with Walrus's JSON shape (`ServiceHealthInfoOutput`: `healthInfo: [{ nodeId, nodeUrl,
 * nodeName, networkPublicKey, healthInfo: { Ok: … } | { Err: "…" } }]`, `latestSeq`).
 *
 * Nodes are asked ten at a time with a short timeout, so a dead node costs one timeout, not a
 * hang; the default order puts the nodes that answered first (by status, then name), as Walrus
 * does. Tusk adds a `summary` (nodes answering, shards held by them, shards in recovery, missing
 * slivers) that the CLI prints first.
 */
import type { Chain, StorageNodeInfo } from '../chain/types.ts';
import { StorageNodeClient } from '../node-api/client.ts';
import { inSlots } from '../util/slots.ts';

/** How `networkHealth` orders the nodes (Walrus's `--sort-by`). */
export type HealthSortBy = 'status' | 'name' | 'id' | 'url';

/** Options of `networkHealth`. */
export interface NetworkHealthOptions {
  /** Only these node IDs (default: the current committee). */
  readonly nodeIds?: readonly string[];
  /** Only the nodes at these addresses (`host:port` or URLs); need not be on chain. */
  readonly nodeUrls?: readonly string[];
  /** Every registered node, not just the committee (Walrus's `--active-set` is the committee). */
  readonly allNodes?: boolean;
  /** Ask for per-shard detail (`?detailed=true`). */
  readonly detail?: boolean;
  readonly sortBy?: HealthSortBy;
  readonly desc?: boolean;
  /** Timeout of one node's answer (default 5 000 ms). */
  readonly timeoutMs?: number;
}

/** One node's line of the report. */
export interface NodeHealth {
  readonly nodeId: string | null;
  readonly nodeUrl: string;
  readonly nodeName: string;
  readonly networkPublicKey: string | null;
  readonly healthInfo: { readonly Ok: Record<string, unknown> } | { readonly Err: string };
}

/** The whole report. */
export interface NetworkHealth {
  readonly healthInfo: NodeHealth[];
  readonly latestSeq: number | null;
  readonly summary: {
    readonly nodes: number;
    readonly answering: number;
    readonly shardsOwned: number;
    readonly shardsInRecovery: number;
    readonly missingSlivers: number;
  };
}

/** Asks the selected nodes for their health (see the file header). */
export async function networkHealth(chain: Chain, options: NetworkHealthOptions = {}): Promise<NetworkHealth> {
  type Target = { nodeId: string | null; url: string; name: string; key: string | null };
  let targets: Target[];
  const fromNode = (n: Pick<StorageNodeInfo, 'nodeId' | 'networkAddress' | 'name' | 'publicKey'>): Target => ({
    nodeId: n.nodeId,
    url: n.networkAddress,
    name: n.name,
    key: Buffer.from(n.publicKey).toString('base64'),
  });
  if (options.nodeUrls?.length) {
    const known = await chain.nodes().catch(() => [] as StorageNodeInfo[]);
    targets = options.nodeUrls.map((u) => {
      const n = known.find((k) => sameAddress(k.networkAddress, u));
      return n ? fromNode(n) : { nodeId: null, url: u, name: '', key: null };
    });
  } else if (options.nodeIds?.length || options.allNodes) {
    const all = await chain.nodes();
    const wanted = options.nodeIds?.length ? new Set(options.nodeIds.map((i) => i.toLowerCase())) : null;
    targets = all.filter((n) => !wanted || wanted.has(n.nodeId.toLowerCase())).map(fromNode);
    if (wanted && targets.length < wanted.size) {
      const found = new Set(targets.map((t) => t.nodeId!.toLowerCase()));
      const missing = [...wanted].filter((w) => !found.has(w));
      throw new Error(`no registered storage node with ID ${missing.join(', ')}`);
    }
  } else {
    targets = (await chain.committee()).members.map(fromNode);
  }
  const out: NodeHealth[] = new Array(targets.length);
  await inSlots(10, targets.length, async (i) => {
    const t = targets[i];
    let healthInfo: NodeHealth['healthInfo'];
    try {
      const client = new StorageNodeClient(t.url, { timeoutMs: options.timeoutMs ?? 5_000 });
      healthInfo = { Ok: await client.health({ detailed: options.detail }) };
    } catch (e) {
      healthInfo = { Err: `failed to get health info: ${(e as Error).message}` };
    }
    out[i] = { nodeId: t.nodeId, nodeUrl: t.url, nodeName: t.name, networkPublicKey: t.key, healthInfo };
  });
  const status = (h: NodeHealth) => ('Ok' in h.healthInfo ? String(h.healthInfo.Ok.nodeStatus ?? '').toLowerCase() : null);
  const byName = (a: NodeHealth, b: NodeHealth) => a.nodeName.toLowerCase().localeCompare(b.nodeName.toLowerCase());
  const cmp: Record<HealthSortBy, (a: NodeHealth, b: NodeHealth) => number> = {
    name: byName,
    id: (a, b) => (a.nodeId ?? '').localeCompare(b.nodeId ?? ''),
    url: (a, b) => a.nodeUrl.toLowerCase().localeCompare(b.nodeUrl.toLowerCase()),
    status: (a, b) => {
      const [sa, sb] = [status(a), status(b)];
      if (sa === null && sb === null) return byName(a, b);
      if (sa === null) return 1;
      if (sb === null) return -1;
      return sa.localeCompare(sb) || byName(a, b);
    },
  };
  out.sort(cmp[options.sortBy ?? 'status']);
  if (options.desc) out.reverse();
  let answering = 0,
    shardsOwned = 0,
    shardsInRecovery = 0,
    missingSlivers = 0;
  for (const h of out) {
    if (!('Ok' in h.healthInfo)) continue;
    answering++;
    const s = h.healthInfo.Ok.shardSummary as
      { owned?: number; ownedShardStatus?: { inRecovery?: number }; missingSlivers?: number } | undefined;
    shardsOwned += s?.owned ?? 0;
    shardsInRecovery += s?.ownedShardStatus?.inRecovery ?? 0;
    missingSlivers += s?.missingSlivers ?? 0;
  }
  return {
    healthInfo: out,
    latestSeq: null,
    summary: { nodes: out.length, answering, shardsOwned, shardsInRecovery, missingSlivers },
  };
}

function sameAddress(a: string, b: string): boolean {
  const strip = (x: string) =>
    x
      .replace(/^https?:\/\//, '')
      .replace(/\/+$/, '')
      .toLowerCase();
  return strip(a) === strip(b);
}
