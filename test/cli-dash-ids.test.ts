/**
 * Blob IDs and quilt patch IDs are URL-safe base64, so one in 64 starts with '-'. CI met a dataset
 * manifest `-J…` that `tusk dataset ls` refused as "unknown option -J". Every parser of the CLI
 * must take such an ID as a positional or as an option's value, wherever it stands.
 */
import { describe, expect, it } from 'vitest';
import { parseArgsKeepingIds, parseCommand, shieldDashIds, UsageError } from '../src/cli/common.ts';
import { expandMultiValued } from '../src/cli/quilt-commands.ts';

const BLOB = '-J2nT6Yw0r7b3dS4xGQm1VvEo8hZpK9aLcXyUuIiWfN'; // 43 characters
const DOUBLE = '--abcdefghijklmnopqrstuvwxyz0123456789ABCDE'; // 43, starts with "--"
const PATCH = '-' + 'A'.repeat(49); // 50 characters, a quilt patch ID's length

describe('IDs that start with a dash', () => {
  it('parse as positionals, in order, beside other positionals', () => {
    expect(BLOB).toHaveLength(43);
    expect(DOUBLE).toHaveLength(43);
    const r = parseCommand('dataset get', [BLOB, 'a/b.txt', '--out', 'x'], { out: { type: 'string' } });
    expect(r.positionals).toEqual([BLOB, 'a/b.txt']);
    expect(r.values.out).toBe('x');
    expect(parseCommand('read', [DOUBLE], {}).positionals).toEqual([DOUBLE]);
  });

  it('parse as option values, separate or after "="', () => {
    const opts = { 'blob-id': { type: 'string' }, ids: { type: 'string', multiple: true } } as const;
    expect(parseCommand('list-blobs', ['--blob-id', BLOB], opts).values['blob-id']).toBe(BLOB);
    expect(parseCommand('list-blobs', [`--blob-id=${BLOB}`], opts).values['blob-id']).toBe(BLOB);
    expect(parseCommand('x', ['--ids', BLOB, '--ids', PATCH], opts).values.ids).toEqual([BLOB, PATCH]);
  });

  it('Walrus-style multi-value lists keep them (quilt --quilt-patch-ids)', () => {
    const args = expandMultiValued(shieldDashIds(['--quilt-patch-ids', PATCH, DOUBLE, '--json']));
    const r = parseArgsKeepingIds({
      args,
      allowPositionals: true,
      options: { 'quilt-patch-ids': { type: 'string', multiple: true }, json: { type: 'boolean' } },
    });
    expect(r.values['quilt-patch-ids']).toEqual([PATCH, DOUBLE]);
    expect(r.values.json).toBe(true);
  });

  it('short tokens are still options: an unknown one is still a usage error', () => {
    expect(() => parseCommand('read', ['-J'], {})).toThrow(UsageError);
    expect(() => parseCommand('read', ['--frob'], {})).toThrow(/unknown option --frob/);
    // One character short of an ID: an option cluster, so an error, not a silent positional.
    expect(() => parseCommand('read', [BLOB.slice(0, 39)], {})).toThrow(UsageError);
    // The caller's array is not changed.
    const args = [BLOB];
    shieldDashIds(args);
    expect(args).toEqual([BLOB]);
  });
});
