/**
 * `tusk dev` as a process tree (issue 22 items 9 and 14), with real processes on 127.0.0.1:
 *  - kill -9 of `tusk dev` stops the chain and every node (no orphans holding the ports), and the
 *    next start on the same data directory succeeds;
 *  - SIGHUP stops the network cleanly;
 *  - a port held by another process is reported with that process's PID;
 *  - the chain's and the nodes' log files record the start, the epoch changes and the stop.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { TUSK_BIN } from '../helpers/cli.ts';

const dir = mkdtempSync(join(tmpdir(), 'tusk-dev-life-'));
const started: ChildProcess[] = [];

afterAll(() => {
  for (const c of started) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

interface Dev {
  child: ChildProcess;
  summary: {
    chainUrl: string;
    nodes: { pid: number; url: string }[];
    sui: { url: string; packageConfig: { systemObjectId: string; stakingPoolId: string } };
  };
  stderr: () => string;
  exited: Promise<number | null>;
}

/** Starts `tusk dev` (2 nodes, 4 shards) and waits for its JSON summary. */
function startDev(dataDir: string): Promise<Dev> {
  const child = spawn(
    process.execPath,
    [TUSK_BIN, 'dev', '--data-dir', dataDir, '--nodes', '2', '--n-shards', '4', '--config', join(dataDir, 'client.json'), '--json'],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  started.push(child);
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const exited = new Promise<number | null>((r) => child.once('exit', (c) => r(c)));
  return new Promise((resolve, reject) => {
    createInterface({ input: child.stdout! }).once('line', (line) =>
      resolve({ child, summary: JSON.parse(line), stderr: () => stderr, exited }),
    );
    void exited.then((c) => reject(new Error(`tusk dev exited with ${c}: ${stderr}`)));
  });
}

/** PIDs of the direct children of `pid` (from /proc). */
function childrenOf(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function waitGone(pids: number[], ms: number): Promise<number[]> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (!pids.some(alive)) return [];
    await new Promise((r) => setTimeout(r, 100));
  }
  return pids.filter(alive);
}

describe('tusk dev process tree', () => {
  it('kill -9 stops the chain and every node; the restart succeeds; SIGHUP stops cleanly; a busy port names its PID; the logs tell', async () => {
    const data = join(dir, 'net');
    const dev = await startDev(data);
    const kids = childrenOf(dev.child.pid!);
    expect(kids.length).toBe(3); // chain + 2 nodes
    for (const n of dev.summary.nodes) expect(kids).toContain(n.pid);
    dev.child.kill('SIGKILL');
    await dev.exited;
    // Before the fix they ran on (re-parented to init), holding the chain's and nodes' ports.
    expect(await waitGone(kids, 10_000)).toEqual([]);

    // The restart on the same data directory (same fixed ports) succeeds…
    const again = await startDev(data);
    expect(again.summary.chainUrl).toBe(dev.summary.chainUrl);
    // The Walrus SDK's localnet config is in the summary and the client config, stable across restarts.
    expect(again.summary.sui).toEqual(dev.summary.sui);
    expect(dev.summary.sui.url).toBe(dev.summary.chainUrl);
    expect(dev.summary.sui.packageConfig.systemObjectId).toMatch(/^0x[0-9a-f]{64}$/);
    expect(JSON.parse(readFileSync(join(data, 'client.json'), 'utf8')).sui).toEqual(dev.summary.sui);
    const kids2 = childrenOf(again.child.pid!);
    expect(kids2.length).toBe(3);
    // …and SIGHUP stops it cleanly (before the fix: tusk dev died, its children ran on).
    again.child.kill('SIGHUP');
    expect(await again.exited).toBe(0);
    expect(await waitGone(kids2, 10_000)).toEqual([]);

    // The logs say what happened: each process logged its start, the epoch change and its stop.
    const chainLog = readFileSync(join(data, 'logs', 'chain.log'), 'utf8');
    expect(chainLog).toMatch(/chain: serving http:\/\/127\.0\.0\.1:\d+: epoch \d+/);
    expect(chainLog).toMatch(/chain: epoch 1 is active/);
    expect(chainLog).toMatch(/chain: stopping \(parent process \d+ exited/);
    expect(chainLog).toMatch(/chain: stopping \(SIGHUP|chain: stopping \(SIGTERM/);
    const nodeLog = readFileSync(join(data, 'logs', 'node-0.log'), 'utf8');
    expect(nodeLog).toMatch(/node-0: serving http:\/\/127\.0\.0\.1:\d+ as 0x[0-9a-f]{64}/);
    expect(nodeLog).toMatch(/node-0: epoch 1 started: this node holds \d+ shards?/);
    expect(nodeLog).toMatch(/node-0: stopping \(parent process \d+ exited/);
    expect(nodeLog).toMatch(/node-0: stopped/);

    // A process holding the chain's fixed port is named with its PID (here: this test process).
    const chainPort = Number(new URL(dev.summary.chainUrl).port);
    const squatter = createServer();
    await new Promise<void>((r) => squatter.listen(chainPort, '127.0.0.1', () => r()));
    try {
      const child = spawn(process.execPath, [TUSK_BIN, 'dev', '--data-dir', data, '--config', join(data, 'client.json'), '--json'], {
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      started.push(child);
      let stderr = '';
      child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
      const code = await new Promise<number | null>((r) => child.once('exit', (c) => r(c)));
      expect(code).not.toBe(0);
      expect(stderr).toContain(`port ${chainPort} of the chain (127.0.0.1) is in use by process ${process.pid}`);
      expect(stderr).not.toMatch(/exited with 1 before it was ready/);
    } finally {
      await new Promise((r) => squatter.close(r));
    }
  }, 240_000);
});
