/**
 * Tidy: the rules of docs/architecture.md, checked on every run so that they cannot drift.
 *  1. Imports inside src/ follow the layer table below (a module may import its own group and
 *     groups on lower layers only; so no folder cycles, and client/ and node/ stay siblings).
 *  2. Every source file (src/, assembly/) opens with a doc comment.
 *  3. No code path reaches outside the repository (fixtures are vendored under test/fixtures/).
 *  4. Generated files are fresh (each generator's output equals the committed file).
 *  5. No two src modules share a basename unless the name means the same thing in both places.
 *  6. The package root stays small and every subpath export is a pure re-export file.
 * The checks read files only (plus one generator run); a failure names the file and the rule.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/**
 * The layer table: module group (a folder or file under src/, longest prefix wins) → layer. A
 * module may import modules of its own group or of a group on a strictly lower layer. A new
 * folder is one line here (and one row in docs/architecture.md).
 */
export const LAYERS: ReadonlyArray<readonly [group: string, layer: number]> = [
  ['errors.ts', 0], // the error classes every layer throws
  ['util', 1], // retry/sleep/semaphore, bounded concurrency, byte helpers
  ['wasm', 1], // the kernels' loader and memory
  ['crypto', 1], // BLS12-381
  ['http', 1], // guards of the HTTP servers (connection caps, body and header timeouts)
  ['age', 2], // age v1 encryption (node:crypto)
  ['hash', 2], // BLAKE2b and Merkle roots on the kernels
  ['rs', 2], // Reed–Solomon over the kernels
  ['codec', 3], // RedStuff: encode, decode, verify, recovery, metadata, tasks
  ['pool', 4], // the worker pool and the async encoder on it
  ['protocol', 4], // signed messages, certificates, placement (pair ↔ shard)
  ['challenge', 5], // storage challenges: sampling, commit digest, item proofs (chain and node share them)
  ['stream', 5], // streaming encode/decode, sinks, the sliver-directory format
  ['bench', 5], // `tusk bench`: codec and kernel measurements (the CLI's, not bench/ scripts)
  ['node-api', 5], // the storage-node REST API: routes, wire types, errors, client
  ['chain', 6], // the Chain interface and its types, transactions
  ['chain/local', 7], // the embedded chain (SQLite)
  ['chain/remote', 7], // the chain's HTTP server and client
  ['chain/sui', 7], // the Chain interface over Sui (Walrus Mainnet/Testnet)
  ['chain/localnet', 8], // the chain served as a Walrus deployment on Sui (objects, PTB execution, tuskSuiClient)
  ['client', 8], // store and read flows, client config
  ['node', 8], // the storage node
  ['network', 9], // a local network of processes (tusk dev)
  ['quilt', 9], // QuiltV1: format, encoder, patch IDs, store and single-patch reads
  ['site', 9.5], // Walrus Sites: ws-resources.json, directory scan, publish/update, path resolution (over quilt/, below gateway/)
  ['gateway', 10], // the HTTP publisher and aggregator (tusk daemon)
  ['dataset', 11], // datasets: manifest, publish with a journal, reads by path, the gateway's dataset route
  ['cli', 12], // the tusk command
  ['api', 13], // subpath entry points (package.json exports)
  ['index.ts', 13], // the package root
];

function groupOf(srcRelative: string): readonly [string, number] {
  const path = srcRelative.split(sep).join('/');
  let best: readonly [string, number] | undefined;
  for (const entry of LAYERS) {
    const g = entry[0];
    if ((path === g || path.startsWith(g + '/')) && (!best || g.length > best[0].length)) best = entry;
  }
  if (!best) throw new Error(`src/${path} belongs to no group of the layer table in test/tidy.test.ts: add its folder there`);
  return best;
}

function filesUnder(dir: string, ext: RegExp): string[] {
  const out: string[] = [];
  const walk = (d: string): void => {
    for (const name of readdirSync(d)) {
      if (name === 'node_modules' || name === 'fixtures' || name === 'results') continue;
      const p = join(d, name);
      if (statSync(p).isDirectory()) walk(p);
      else if (ext.test(name)) out.push(p);
    }
  };
  walk(join(ROOT, dir));
  return out.sort();
}

const IMPORT = /(?:^|\n)\s*(?:import|export)\s[^;]*?\sfrom\s+'([^']+)'|import\(\s*'([^']+)'\s*\)/g;

/** Relative import specifiers of `file`, resolved to absolute paths. */
function importsOf(file: string, text = readFileSync(file, 'utf8')): string[] {
  const out: string[] = [];
  for (const m of text.matchAll(IMPORT)) {
    const spec = m[1] ?? m[2];
    if (spec.startsWith('.')) out.push(resolve(dirname(file), spec));
  }
  return out;
}

/** Layer violations of one src file (its text may be given, e.g. to test the rule itself). */
export function layerViolations(file: string, text?: string): string[] {
  const src = join(ROOT, 'src');
  const [from, fromLayer] = groupOf(relative(src, file));
  const out: string[] = [];
  for (const target of importsOf(file, text)) {
    const rel = relative(src, target);
    if (rel.startsWith('..')) {
      out.push(`${relative(ROOT, file)} imports ${relative(ROOT, target)}, outside src/`);
      continue;
    }
    const [to, toLayer] = groupOf(rel);
    if (to !== from && toLayer >= fromLayer) {
      out.push(`${relative(ROOT, file)} (${from}, layer ${fromLayer}) imports src/${rel} (${to}, layer ${toLayer})`);
    }
  }
  return out;
}

describe('tidy', () => {
  const srcFiles = filesUnder('src', /\.ts$/);

  it('imports inside src/ follow the layer table', () => {
    expect(srcFiles.length).toBeGreaterThan(50);
    expect(srcFiles.flatMap((f) => layerViolations(f))).toEqual([]);
  });

  it('the layer rule rejects an upward import (client ← codec) and a sibling import (node → client)', () => {
    const encode = join(ROOT, 'src/codec/encode.ts');
    const bad = readFileSync(encode, 'utf8') + "\nimport { storeBlob } from '../client/store-blob.ts';\n";
    expect(layerViolations(encode, bad)).toEqual([
      'src/codec/encode.ts (codec, layer 3) imports src/client/store-blob.ts (client, layer 8)',
    ]);
    const node = join(ROOT, 'src/node/node.ts');
    const sibling = readFileSync(node, 'utf8') + "\nimport type { ReadResult } from '../client/read-blob.ts';\n";
    expect(layerViolations(node, sibling)).toEqual(['src/node/node.ts (node, layer 8) imports src/client/read-blob.ts (client, layer 8)']);
  });

  it('every source file opens with a doc comment', () => {
    const missing = [...srcFiles, ...filesUnder('assembly', /\.ts$/)].filter((f) => {
      const first = readFileSync(f, 'utf8')
        .split('\n')
        .find((l) => l.trim() !== '' && !l.startsWith('#!'));
      return !(first?.startsWith('/**') || first?.startsWith('//'));
    });
    expect(missing.map((f) => relative(ROOT, f))).toEqual([]);
  });

  it('no code path reaches outside the repository', () => {
    const code = ['src', 'test', 'bench', 'scripts', 'bin'].flatMap((d) => filesUnder(d, /\.(ts|js|mjs)$/));
    const escapes: string[] = [];
    for (const f of code) {
      const text = readFileSync(f, 'utf8');
      for (const m of text.matchAll(/['"`]((?:\.\.?\/)+[^'"`\s]*)['"`]/g)) {
        const target = resolve(dirname(f), m[1]);
        if (relative(ROOT, target).startsWith('..')) escapes.push(`${relative(ROOT, f)}: ${m[1]}`);
      }
      for (const m of text.matchAll(/['"`](\/work\/[^'"`\s]*)['"`]/g)) escapes.push(`${relative(ROOT, f)}: ${m[1]}`);
    }
    expect(escapes).toEqual([]);
  });

  it('generated files are fresh', () => {
    const generated = [
      ['scripts/gen-blake2b-compress.ts', 'assembly/hash/blake2b-compress.ts', 'gen:blake2b'],
      ['scripts/gen-kernel-exports.ts', 'src/wasm/kernel-exports.generated.ts', 'gen:kernel-exports'],
    ];
    for (const [generator, file, script] of generated) {
      const fresh = execFileSync(process.execPath, [join(ROOT, generator), '--stdout'], { encoding: 'utf8' });
      expect(fresh === readFileSync(join(ROOT, file), 'utf8'), `${file} is stale: run npm run ${script}`).toBe(true);
    }
  });

  it('no two src modules share a basename with different meanings', () => {
    // Names allowed more than once because they mean the same thing wherever they appear.
    const SAME_MEANING: Record<string, string> = {
      'index.ts': "a folder's barrel",
      'client.ts': "the HTTP client of the folder's API",
      'server.ts': "the HTTP server of the folder's API",
      'errors.ts': "the error classes of the folder's scope",
    };
    const byName = new Map<string, string[]>();
    // src/api/<name>.ts is named after its subpath (`tusk/<name>`), so it may repeat a module's name.
    for (const f of srcFiles.filter((f) => !f.startsWith(join(ROOT, 'src/api') + sep)))
      byName.set(basename(f), [...(byName.get(basename(f)) ?? []), relative(ROOT, f)]);
    const clashes = [...byName].filter(([name, paths]) => paths.length > 1 && !(name in SAME_MEANING));
    expect(clashes).toEqual([]);
  });

  it('the package root stays small and subpath entry points only re-export', () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { exports: Record<string, string> };
    for (const [subpath, target] of Object.entries(pkg.exports)) {
      expect(statSync(join(ROOT, target)).isFile(), `${subpath} → ${target}`).toBe(true);
      if (!target.startsWith('./src/')) continue;
      const code = readFileSync(join(ROOT, target), 'utf8').replace(/\/\*\*[\s\S]*?\*\//g, '');
      const statements = code
        .split(';')
        .map((s) => s.trim())
        .filter(Boolean);
      expect(
        statements.filter((s) => !/^export (type )?\{[^}]*\} from '[^']+'$/.test(s)),
        target,
      ).toEqual([]);
    }
    const root = readFileSync(join(ROOT, 'src/index.ts'), 'utf8');
    const values = [...root.matchAll(/export \{([^}]*)\}/g)].flatMap((m) =>
      m[1]
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean),
    );
    expect(values.length).toBeLessThanOrEqual(40);
  });
});
