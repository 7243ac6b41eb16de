/**
 * Walrus CLI parity: `get-blob-attribute`, `set-blob-attribute`, `remove-blob-attribute-fields`,
 * `remove-blob-attribute`, `burn-blobs` and `convert-blob-id`, with the Walrus CLI's argument
 * shapes (`<BLOB_OBJ_ID>` positional, `--attr KEY VALUE` repeated, `--keys K…`, `--object-ids ID…`
 * | `--all` | `--all-expired`, `--yes`) and JSON (`get-blob-attribute`: `{"attribute": {"metadata":
 * {"contents": [{"key","value"}…]}} | null}`, Move's VecMap as Walrus serialises it;
 * `convert-blob-id`: the blob ID as a JSON string). Where Walrus prints nothing under `--json`,
 * Tusk prints one object (its CLI contract: `--json` always yields one JSON value).
 */
import { blobIdToString } from '../codec/blob-id.ts';
import { TuskInputError } from '../errors.ts';
import { print } from './common.ts';
import { openClientSession } from './client-commands.ts';

/** Usage text of these commands (main.ts appends it to its own). */
export const ATTRIBUTE_USAGE = `Blob attributes and burning (as the Walrus CLI):
  get-blob-attribute <blob obj id>                       Print a blob's attribute (key/value pairs).
  set-blob-attribute <blob obj id> --attr KEY VALUE [--attr KEY VALUE …]
  remove-blob-attribute-fields <blob obj id> --keys KEY [KEY …]
  remove-blob-attribute <blob obj id>                    Remove every attribute pair.
  burn-blobs --object-ids ID [ID …] | --all | --all-expired [--yes]
                                                          Destroy Blob objects (no refund; data stays until expiry).
  convert-blob-id <decimal>                              The blob ID (URL-safe base64) of a decimal value.`;

/** The commands this file implements. */
export const ATTRIBUTE_COMMANDS = new Set([
  'get-blob-attribute',
  'set-blob-attribute',
  'remove-blob-attribute-fields',
  'remove-blob-attribute',
  'burn-blobs',
  'convert-blob-id',
]);

interface Parsed {
  positionals: string[];
  flags: Set<string>;
  config?: string;
  /** `--attr K V` pairs in order. */
  attrs: [string, string][];
  /** Values following a multi-value option (`--keys`, `--object-ids`). */
  lists: Map<string, string[]>;
}

const MULTI = new Set(['--keys', '--object-ids']);
const FLAGS = new Set(['--json', '--all', '--all-expired', '--yes']);

/** Parses the Walrus-style arguments (clap's `num_args` forms that node's parseArgs lacks). */
function parse(argv: string[], usageError: (m: string) => Error): Parsed {
  const out: Parsed = { positionals: [], flags: new Set(), attrs: [], lists: new Map() };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--config') {
      if (i + 1 >= argv.length) throw usageError('--config needs a file');
      out.config = argv[++i];
    } else if (a.startsWith('--config=')) {
      out.config = a.slice('--config='.length);
    } else if (a === '--attr') {
      if (i + 2 >= argv.length) throw usageError('--attr takes a KEY and a VALUE');
      out.attrs.push([argv[i + 1], argv[i + 2]]);
      i += 2;
    } else if (MULTI.has(a)) {
      const list = out.lists.get(a) ?? [];
      while (i + 1 < argv.length && !argv[i + 1].startsWith('--')) list.push(argv[++i]);
      if (list.length === 0) throw usageError(`${a} needs at least one value`);
      out.lists.set(a, list);
    } else if (FLAGS.has(a)) {
      out.flags.add(a);
    } else if (a.startsWith('-')) {
      throw usageError(`unknown option ${JSON.stringify(a)}`);
    } else {
      out.positionals.push(a);
    }
  }
  return out;
}

const OBJECT_ID = /^0x[0-9a-fA-F]{1,64}$/;

function objectIdArg(p: Parsed, command: string, usageError: (m: string) => Error): string {
  if (p.positionals.length !== 1) throw usageError(`${command} takes exactly one blob object ID`);
  const id = p.positionals[0];
  if (!OBJECT_ID.test(id)) throw usageError(`${JSON.stringify(id)} is not an object ID (0x followed by hex digits)`);
  return id;
}

/** Move's VecMap<String, String> as Walrus serialises a BlobAttribute. */
function attributeJson(attributes: Readonly<Record<string, string>>): { metadata: { contents: { key: string; value: string }[] } } | null {
  const entries = Object.entries(attributes);
  return entries.length === 0 ? null : { metadata: { contents: entries.map(([key, value]) => ({ key, value })) } };
}

/**
 * The blob ID whose bytes are the little-endian encoding of the decimal `text` (Walrus's
 * BlobIdDecimal). @throws TuskInputError if `text` is not a decimal below 2^256.
 */
export function blobIdFromDecimal(text: string): string {
  if (!/^\d+$/.test(text)) throw new TuskInputError(`${JSON.stringify(text)} is not a decimal number`);
  let v = BigInt(text);
  if (v >= 1n << 256n) throw new TuskInputError('the value is larger than a blob ID (2^256)');
  const bytes = new Uint8Array(32);
  for (let i = 0; i < 32 && v > 0n; i++, v >>= 8n) bytes[i] = Number(v & 0xffn);
  return blobIdToString(bytes);
}

/** Runs one of {@link ATTRIBUTE_COMMANDS}; resolves to the exit code. */
export async function attributeCommand(command: string, argv: string[], usageError: (m: string) => Error): Promise<number> {
  const p = parse(argv, usageError);
  const json = p.flags.has('--json');
  switch (command) {
    case 'convert-blob-id': {
      if (p.positionals.length !== 1) throw usageError('convert-blob-id takes one decimal value');
      let id: string;
      try {
        id = blobIdFromDecimal(p.positionals[0]);
      } catch (e) {
        throw usageError((e as Error).message);
      }
      print(json, id, id);
      return 0;
    }
    case 'get-blob-attribute': {
      const id = objectIdArg(p, command, usageError);
      const { chain } = await openClientSession(p.config);
      const blob = await chain.getBlob(id);
      if (!blob) throw new TuskInputError(`no Blob object ${id}`);
      const attribute = attributeJson(blob.attributes);
      print(
        json,
        { attribute },
        attribute ? attribute.metadata.contents.map((e) => `${e.key}: ${e.value}`).join('\n') : `blob object ${id} has no attribute`,
      );
      return 0;
    }
    case 'set-blob-attribute': {
      const id = objectIdArg(p, command, usageError);
      if (p.attrs.length === 0) throw usageError('set-blob-attribute needs at least one --attr KEY VALUE');
      const { chain, wallet } = await openClientSession(p.config);
      for (const [k, v] of p.attrs) await chain.setBlobAttribute(wallet, id, k, v);
      const blob = await chain.getBlob(id);
      print(
        json,
        { blobObjectId: id, attribute: attributeJson(blob?.attributes ?? {}) },
        `Successfully added attribute for blob object ${id}`,
      );
      return 0;
    }
    case 'remove-blob-attribute-fields': {
      const id = objectIdArg(p, command, usageError);
      const keys = p.lists.get('--keys');
      if (!keys) throw usageError('remove-blob-attribute-fields needs --keys KEY [KEY …]');
      const { chain, wallet } = await openClientSession(p.config);
      const blob = await chain.getBlob(id);
      if (!blob) throw new TuskInputError(`no Blob object ${id}`);
      for (const k of keys) if (k in blob.attributes) await chain.removeBlobAttribute(wallet, id, k);
      const after = await chain.getBlob(id);
      print(
        json,
        { blobObjectId: id, attribute: attributeJson(after?.attributes ?? {}) },
        `Successfully removed attribute for blob object ${id}`,
      );
      return 0;
    }
    case 'remove-blob-attribute': {
      const id = objectIdArg(p, command, usageError);
      const { chain, wallet } = await openClientSession(p.config);
      const blob = await chain.getBlob(id);
      if (!blob) throw new TuskInputError(`no Blob object ${id}`);
      for (const k of Object.keys(blob.attributes)) await chain.removeBlobAttribute(wallet, id, k);
      print(json, { blobObjectId: id, attribute: null }, `Successfully removed attribute for blob object ${id}`);
      return 0;
    }
    case 'burn-blobs': {
      const ids = p.lists.get('--object-ids');
      const modes = [ids !== undefined, p.flags.has('--all'), p.flags.has('--all-expired')].filter(Boolean).length;
      if (modes !== 1) throw usageError('burn-blobs takes exactly one of --object-ids ID…, --all, --all-expired');
      if (p.positionals.length > 0) throw usageError('burn-blobs takes no positional arguments');
      for (const id of ids ?? []) if (!OBJECT_ID.test(id)) throw usageError(`${JSON.stringify(id)} is not an object ID`);
      const { chain, wallet } = await openClientSession(p.config);
      let targets = ids ?? [];
      if (!ids) {
        const [state, owned] = await Promise.all([chain.systemState(), chain.ownedObjects(wallet.toSuiAddress())]);
        targets = owned.flatMap((o) =>
          o.kind === 'blob' && (p.flags.has('--all') || o.object.storage.endEpoch <= state.epoch) ? [o.object.id] : [],
        );
      }
      if (targets.length === 0) {
        print(json, { burned: [] }, `The wallet does not own any ${p.flags.has('--all-expired') ? 'expired ' : ''}blob objects.`);
        return 0;
      }
      // Burning cannot be undone: without --yes, ask (and refuse when nobody can answer).
      if (!p.flags.has('--yes')) {
        if (!process.stdin.isTTY)
          throw usageError(`burn-blobs would burn ${targets.length} blob object(s); pass --yes to confirm (no terminal to ask)`);
        process.stderr.write(
          `You are about to burn the following blob object(s):\n${targets.join('\n')}\n(${targets.length} total). Proceed? [y/N] `,
        );
        const answer = await new Promise<string>((resolve) => process.stdin.once('data', (d) => resolve(String(d).trim())));
        process.stdin.pause();
        if (!/^y(es)?$/i.test(answer)) {
          print(json, { burned: [] }, 'Aborting. No blobs were burned.');
          return 0;
        }
      }
      for (const id of targets) await chain.burnBlob(wallet, id);
      print(json, { burned: targets }, 'The specified blob objects have been burned');
      return 0;
    }
    default:
      throw usageError(`unknown command ${JSON.stringify(command)}`);
  }
}
