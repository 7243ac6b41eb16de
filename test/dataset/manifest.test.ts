/** The dataset manifest: round trip, canonical bytes, and every rule of the strict parser. */
import { describe, expect, it } from 'vitest';
import { findFile, parseManifest, serializeManifest, ManifestError, type ManifestFile } from '../../src/api/dataset.ts';
import { blobIdToString } from '../../src/codec/blob-id.ts';
import { encodeQuiltPatchId } from '../../src/quilt/patch-id.ts';

const id = (b: number) => blobIdToString(new Uint8Array(32).fill(b));
const H = 'ab'.repeat(32);
const EMPTY = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';
const enc = (o: unknown) => new TextEncoder().encode(JSON.stringify(o));
const doc = (files: unknown[], extra: Record<string, unknown> = {}) => enc({ format: 'tusk-dataset', version: 1, files, ...extra });

const sample: ManifestFile[] = [
  {
    path: 'z/huge.tar',
    size: 300,
    sha256: H,
    chunks: [
      { blob: id(1), size: 200 },
      { blob: id(2), size: 100 },
    ],
  },
  { path: 'a.txt', size: 2, sha256: H, patch: encodeQuiltPatchId(id(3), 1, 2) },
  { path: 'b/c.bin', size: 7, sha256: H, blob: id(4) },
  { path: 'empty', size: 0, sha256: EMPTY },
  { path: 'é/ü.txt', size: 1, sha256: H, blob: id(5) },
];

describe('dataset manifest', () => {
  it('round-trips, sorted by UTF-8 bytes, with canonical bytes', () => {
    const bytes = serializeManifest(sample);
    const m = parseManifest(bytes);
    expect(m.files.map((f) => f.path)).toEqual(['a.txt', 'b/c.bin', 'empty', 'z/huge.tar', 'é/ü.txt']);
    expect(serializeManifest([...sample].reverse())).toEqual(bytes);
    expect(findFile(m, 'z/huge.tar')?.chunks).toHaveLength(2);
    expect(findFile(m, 'é/ü.txt')?.blob).toBe(id(5));
    expect(findFile(m, 'nope')).toBeNull();
    expect(JSON.parse(new TextDecoder().decode(bytes)).files[2]).toEqual({ path: 'empty', size: 0, sha256: EMPTY });
  });

  const bad: [string, Uint8Array, RegExp][] = [
    ['not UTF-8', new Uint8Array([0xff, 0xfe]), /not valid UTF-8/],
    ['not JSON', enc('x').subarray(1, 2), /not JSON/],
    ['wrong format', enc({ format: 'x', version: 1, files: [] }), /not a dataset manifest/],
    ['future version', enc({ format: 'tusk-dataset', version: 2, files: [] }), /version 2 is not supported/],
    ['unknown top key', doc([], { extra: 1 }), /unknown key "extra"/],
    ['absolute path', doc([{ path: '/a', size: 1, sha256: H, blob: id(1) }]), /absolute/],
    ['dot-dot', doc([{ path: 'a/../b', size: 1, sha256: H, blob: id(1) }]), /"\.\." segment/],
    ['empty segment', doc([{ path: 'a//b', size: 1, sha256: H, blob: id(1) }]), /empty/],
    ['backslash', doc([{ path: 'a\\b', size: 1, sha256: H, blob: id(1) }]), /backslash/],
    ['control char', doc([{ path: 'a\nb', size: 1, sha256: H, blob: id(1) }]), /control character/],
    ['bad sha', doc([{ path: 'a', size: 1, sha256: 'AB', blob: id(1) }]), /sha256/],
    ['negative size', doc([{ path: 'a', size: -1, sha256: H, blob: id(1) }]), /size/],
    ['two locations', doc([{ path: 'a', size: 1, sha256: H, blob: id(1), patch: 'x' }]), /exactly one place/],
    ['no location', doc([{ path: 'a', size: 1, sha256: H }]), /needs a blob, patch or chunks/],
    ['bad blob id', doc([{ path: 'a', size: 1, sha256: H, blob: 'nope' }]), /not a blob ID/],
    ['bad patch id', doc([{ path: 'a', size: 1, sha256: H, patch: 'nope' }]), /not a quilt patch ID/],
    ['chunks do not add up', doc([{ path: 'a', size: 5, sha256: H, chunks: [{ blob: id(1), size: 4 }] }]), /add up to 4/],
    ['unknown file key', doc([{ path: 'a', size: 1, sha256: H, blob: id(1), mode: 1 }]), /unknown key "mode"/],
    [
      'duplicate',
      doc([
        { path: 'a', size: 1, sha256: H, blob: id(1) },
        { path: 'a', size: 1, sha256: H, blob: id(1) },
      ]),
      /appears twice/,
    ],
    [
      'unsorted',
      doc([
        { path: 'b', size: 1, sha256: H, blob: id(1) },
        { path: 'a', size: 1, sha256: H, blob: id(1) },
      ]),
      /not sorted/,
    ],
    [
      'file and dir',
      doc([
        { path: 'a', size: 1, sha256: H, blob: id(1) },
        { path: 'a/b', size: 1, sha256: H, blob: id(1) },
      ]),
      /also a directory/,
    ],
  ];
  for (const [name, bytes, message] of bad) {
    it(`refuses: ${name}`, () => {
      expect(() => parseManifest(bytes)).toThrow(ManifestError);
      expect(() => parseManifest(bytes)).toThrow(message);
    });
  }
});
