/** Shared helpers of the chain server tests: temp dirs, a `tusk chain serve` child process, blob arguments. */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { createInterface } from 'node:readline';
import { deriveBlobId } from '../../src/codec/blob-id.ts';
import { EncodingConfig } from '../../src/codec/config.ts';
import { encodingByName } from '../../src/codec/encodings/index.ts';
import type { RegisterBlobOptions } from '../../src/chain/types.ts';
import { TUSK_BIN } from '../helpers/cli.ts';

/** A private temporary directory. */
export function tempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** A running `tusk chain serve` child. */
export interface ServerProcess {
  readonly child: ChildProcess;
  readonly url: string;
  readonly chainId: string;
  /** Resolves when the process has exited. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>;
}

/**
 * Spawns `tusk chain serve --data-dir <dir> --json …` and waits for its JSON line.
 * Rejects (and kills the child) if no line arrives within `timeoutMs`.
 */
export function spawnChainServer(dataDir: string, extra: string[] = [], timeoutMs = 20_000): Promise<ServerProcess> {
  const child = spawn(process.execPath, [TUSK_BIN, 'chain', 'serve', '--data-dir', dataDir, '--json', ...extra], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal, stderr }));
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`chain serve printed nothing within ${timeoutMs} ms; stderr: ${stderr}`));
    }, timeoutMs);
    const lines = createInterface({ input: child.stdout! });
    lines.once('line', (line) => {
      clearTimeout(timer);
      try {
        const info = JSON.parse(line) as { url: string; chainId: string };
        resolve({ child, url: info.url, chainId: info.chainId, exited });
      } catch (e) {
        child.kill('SIGKILL');
        reject(new Error(`chain serve printed ${JSON.stringify(line)}: ${(e as Error).message}`));
      }
    });
    void exited.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(new Error(`chain serve exited early (${code ?? signal}); stderr: ${stderr}`));
    });
  });
}

/**
 * Arguments of a valid `registerBlob` for a committee of `nShards`: a random root hash, the blob
 * ID derived from it, and storage reserved in the same call for `epochsAhead` epochs.
 */
export function blobArgs(nShards: number, size = 1000 + Math.floor(Math.random() * 10_000), epochsAhead = 2): RegisterBlobOptions {
  const rs2 = encodingByName('rs2');
  const rootHash = new Uint8Array(randomBytes(32));
  return {
    storage: { size: new EncodingConfig(nShards, rs2).encodedBlobLength(size), epochsAhead },
    blobId: deriveBlobId(rs2.typeByte, size, rootHash),
    rootHash,
    size,
    encodingType: rs2.typeByte,
    deletable: false,
  };
}
