/**
 * Access to the Reed–Solomon golden vectors vendored under test/fixtures/rs/ (provenance in
 * test/fixtures/README.md and test/fixtures/rs/README.md).
 */
import { readFileSync } from 'node:fs';
import { createHash } from 'node:crypto';

export const VECTORS_DIR = new URL('../fixtures/rs/', import.meta.url);

export function readVector(name: string): Uint8Array {
  return new Uint8Array(readFileSync(new URL(name, VECTORS_DIR)));
}

export function readVectorJson<T = any>(name: string): T {
  return JSON.parse(readFileSync(new URL(name, VECTORS_DIR), 'utf8')) as T;
}

export function sha256Hex(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

/** The vectors' 32-bit LCG input generator (state advances before each byte). */
export function lcgShards(seed: number, count: number, bytes: number): Uint8Array {
  const out = new Uint8Array(count * bytes);
  let s = seed >>> 0;
  for (let i = 0; i < out.length; i++) {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    out[i] = (s >>> 16) & 0xff;
  }
  return out;
}
