/**
 * Every test vector of the `cctv-age` package (C2SP CCTV): the outcome class of decrypting each
 * file must match its `expect:` line, and a success must reproduce the SHA-256 of the payload.
 * The post-quantum (`mlkem768x25519`, "hybrid") vectors run like every other one: they check
 * Tusk's X-Wing KEM and HPKE key schedule byte for byte against files made by age itself.
 */
import { describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { inflateSync } from 'node:zlib';
import { createRequire } from 'node:module';
const vectors: Record<string, Uint8Array> = createRequire(import.meta.url)('cctv-age');
import {
  AgeFormatError,
  AgeIntegrityError,
  AgeNoIdentityMatchError,
  decrypt,
  parseIdentities,
  ScryptIdentity,
  type Identity,
} from '../../src/api/age.ts';

interface Vector {
  expect: string;
  payload?: string;
  identities: string[];
  passphrases: string[];
  armored: boolean;
  file: Uint8Array;
}

function parseVector(bytes: Uint8Array): Vector {
  const buf = Buffer.from(bytes);
  const split = buf.indexOf('\n\n');
  const v: Vector = { expect: '', identities: [], passphrases: [], armored: false, file: new Uint8Array() };
  let compressed = false;
  for (const line of buf.subarray(0, split).toString('utf8').split('\n')) {
    const [k, ...rest] = line.split(': ');
    const val = rest.join(': ');
    if (k === 'expect') v.expect = val;
    else if (k === 'payload') v.payload = val;
    else if (k === 'identity') v.identities.push(val);
    else if (k === 'passphrase') v.passphrases.push(val);
    else if (k === 'armored') v.armored = val === 'yes';
    else if (k === 'compressed') compressed = val === 'zlib';
  }
  const body = buf.subarray(split + 2);
  v.file = compressed ? inflateSync(body) : body;
  return v;
}

async function* chunks(data: Uint8Array, size: number) {
  for (let o = 0; o < data.length; o += size) yield data.subarray(o, o + size);
  if (data.length === 0) return;
}

/** Decrypts and classifies the outcome as the vectors name it. */
async function outcome(v: Vector, feed: number): Promise<{ kind: string; sha?: string; error?: string }> {
  const hash = createHash('sha256');
  try {
    const ids: Identity[] = [...v.identities.flatMap((i) => parseIdentities(i)), ...v.passphrases.map((p) => new ScryptIdentity(p))];
    for await (const b of decrypt(chunks(v.file, feed), { identities: ids })) hash.update(b);
    return { kind: 'success', sha: hash.digest('hex') };
  } catch (e) {
    const m = (e as Error).message;
    if (e instanceof AgeNoIdentityMatchError) return { kind: 'no match', error: m };
    if (e instanceof AgeIntegrityError) return { kind: /header MAC/.test(m) ? 'HMAC failure' : 'payload failure', error: m };
    if (e instanceof AgeFormatError) return { kind: m.startsWith('age: armor') ? 'armor failure' : 'header failure', error: m };
    throw e;
  }
}

const names = Object.keys(vectors).sort();

describe('cctv-age vectors', () => {
  it('the package holds the 143 vectors the spec counts', () => {
    expect(names.length).toBe(143);
  });

  it('19 of them are post-quantum (hybrid) vectors', () => {
    expect(names.filter((n) => n.includes('hybrid')).length).toBe(19);
  });

  for (const name of names) {
    it(name, async () => {
      const v = parseVector(vectors[name]);
      // Whole file at once, and in awkward pieces (7 bytes, one byte under a chunk) to exercise buffering.
      for (const feed of [v.file.length || 1, 7, 65551]) {
        const got = await outcome(v, feed);
        expect({ kind: got.kind, error: got.error }).toEqual({ kind: v.expect, error: got.error });
        if (v.expect === 'success') expect(got.sha).toBe(v.payload);
      }
    });
  }
});
