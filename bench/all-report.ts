/**
 * The report of `npm run bench:all` (bench/all.ts): its JSON shape and its markdown rendering. The
 * same rendering feeds the README's performance table (scripts/gen-perf-table.ts), so the README
 * shows exactly what a results file says.
 */

/** Medians of one side of one workload (seconds, MiB). */
export interface SideSummary {
  runs: number;
  failed: number;
  wallSeconds: number;
  /** User + system CPU of the whole process (every thread). */
  cpuSeconds: number;
  peakRssMiB: number;
  /** Bytes the process wrote to storage (GNU time's file-system outputs × 512). */
  writtenBytes?: number;
  /** Official side: the encoder/decoder call alone (no start-up, no file I/O). */
  callSeconds?: number;
  callCpuSeconds?: number;
  wallAll: number[];
  cpuAll: number[];
}

export interface WorkloadSummary {
  id: string;
  title: string;
  bytes: number;
  official?: SideSummary;
  tusk?: SideSummary;
  /** Another Tusk checkout (`--baseline`), timed in the same rotation. */
  baseline?: SideSummary;
}

export interface AllReport {
  benchmark: 'all';
  date: string;
  gitCommit?: string;
  node: string;
  cpu?: string;
  cores: number;
  nShards: number;
  runs: number;
  loadAverageBefore: number[];
  loadAverageAfter: number[];
  baseline?: string;
  workloads: WorkloadSummary[];
  measurements?: unknown;
}

const s = (x: number | undefined) => (x === undefined ? '–' : `${x.toFixed(2)} s`);
const ratio = (a: number | undefined, b: number | undefined) =>
  a === undefined || b === undefined || b === 0 ? '–' : `${(a / b).toFixed(2)}×`;
const mib = (x: number | undefined) => (x === undefined ? '–' : `${Math.round(x)} MiB`);

/** One table row per issue-19 figure: `| workload | official | Tusk | ratio | Tusk CPU | peak RSS |` (+ baseline columns). */
export function renderAllTable(r: AllReport): string {
  const withBase = r.workloads.some((w) => w.baseline);
  const head = withBase
    ? '| workload (n_shards = ' +
      r.nShards +
      ') | official | Tusk before | Tusk | ratio before | ratio | Tusk CPU before → after | peak RSS Tusk (official) |\n|---|---|---|---|---|---|---|---|'
    : '| workload (n_shards = ' +
      r.nShards +
      ') | official | Tusk | ratio | CPU Tusk (official) | peak RSS Tusk (official) |\n|---|---|---|---|---|---|';
  const rows: string[] = [];
  for (const w of r.workloads) {
    const o = w.official,
      t = w.tusk,
      b = w.baseline;
    // The decode row compares against the official decode CALL alone (as issue 19 does).
    const ref = w.id.startsWith('decode') ? o?.callSeconds : o?.wallSeconds;
    const official = w.id.startsWith('decode') ? `${s(o?.callSeconds)} (call only; process ${s(o?.wallSeconds)})` : s(o?.wallSeconds);
    if (w.id === 'encode-dir') {
      const rate = (x?: SideSummary) =>
        x ? `${(w.bytes / 1e6 / x.wallSeconds).toFixed(0)} MB/s, ${((x.writtenBytes ?? 0) / w.bytes).toFixed(2)}× the blob written` : '–';
      rows.push(
        withBase
          ? `| ${w.title} | – | ${rate(b)} | ${rate(t)} | – | – | ${s(b?.cpuSeconds)} → ${s(t?.cpuSeconds)} | ${mib(t?.peakRssMiB)} |`
          : `| ${w.title} | – | ${rate(t)} | – | ${s(t?.cpuSeconds)} | ${mib(t?.peakRssMiB)} |`,
      );
      continue;
    }
    rows.push(
      withBase
        ? `| ${w.title} | ${official} | ${s(b?.wallSeconds)} | ${s(t?.wallSeconds)} | ${ratio(ref, b?.wallSeconds)} | ${ratio(ref, t?.wallSeconds)} | ${s(b?.cpuSeconds)} → ${s(t?.cpuSeconds)} | ${mib(t?.peakRssMiB)} (${mib(o?.peakRssMiB)}) |`
        : `| ${w.title} | ${official} | ${s(t?.wallSeconds)} | ${ratio(ref, t?.wallSeconds)} | ${s(t?.cpuSeconds)} (${s(o?.cpuSeconds)}) | ${mib(t?.peakRssMiB)} (${mib(o?.peakRssMiB)}) |`,
    );
  }
  return [head, ...rows].join('\n');
}

/** The whole markdown report: a line on the machine and its load, the table, the raw per-run figures. */
export function renderAllReport(r: AllReport): string {
  const load = (l: number[]) => l.map((x) => x.toFixed(2)).join(' ');
  const lines = [
    `# bench:all — ${r.date}`,
    '',
    `Commit ${r.gitCommit ?? '?'}, node ${r.node}, ${r.cpu ?? '?'} × ${r.cores}; medians of ${r.runs} runs per side, sides alternating; ` +
      `load average before ${load(r.loadAverageBefore)}, after ${load(r.loadAverageAfter)} (a shared machine: CPU time is the steadier figure).` +
      (r.baseline ? ` "Before" = ${r.baseline}.` : ''),
    '',
    renderAllTable(r),
    '',
    'Per run (wall s / CPU s):',
    '',
  ];
  for (const w of r.workloads) {
    for (const [side, x] of [
      ['official', w.official],
      ['baseline', w.baseline],
      ['tusk', w.tusk],
    ] as const) {
      if (!x) continue;
      lines.push(
        `- ${w.id} ${side}: ${x.wallAll.map((v, i) => `${v.toFixed(2)}/${x.cpuAll[i].toFixed(2)}`).join(', ')}${x.failed ? ` (${x.failed} failed)` : ''}`,
      );
    }
  }
  return lines.join('\n') + '\n';
}
