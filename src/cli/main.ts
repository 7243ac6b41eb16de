/**
 * The `tusk` command-line interface. Output contract: results on stdout (JSON only with --json,
 * camelCase keys), diagnostics and errors on stderr, exit code 0 on success, 1 on failure,
 * 2 on a usage error.
 */
import { parseArgs } from 'node:util';
import { readFile } from 'node:fs/promises';
import { computeBlobMetadata } from '../codec/encode.ts';
import { EncodingConfig } from '../codec/config.ts';
import { TuskError } from '../errors.ts';

const USAGE = `Usage: tusk <command> [options]

Commands:
  blob-id <file>   Print the Walrus blob ID of <file> (RS2 encoding).
      --n-shards <n>   committee size (default 1000, as on Walrus Mainnet/Testnet)
      --json           print {"blobId","rootHash","unencodedLength","encodingType","symbolSize","nShards"}

Options:
  -h, --help       show this help
  -v, --version    show the version
`;

class UsageError extends Error {}

function parseNShards(value: string | undefined): number {
  if (value === undefined) return 1000;
  if (!/^\d+$/.test(value)) throw new UsageError(`--n-shards must be a positive integer, got ${JSON.stringify(value)}`);
  return Number(value);
}

async function blobIdCommand(args: string[]): Promise<void> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: { 'n-shards': { type: 'string' }, json: { type: 'boolean', default: false } },
  });
  if (positionals.length !== 1) throw new UsageError('blob-id takes exactly one file');
  const nShards = parseNShards(values['n-shards']);
  new EncodingConfig(nShards); // validates n before reading a possibly large file
  const data = await readFile(positionals[0]);
  const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  const meta = computeBlobMetadata(bytes, { nShards });
  if (values.json) {
    const out = {
      blobId: meta.blobIdString,
      rootHash: Buffer.from(meta.rootHash).toString('hex'),
      unencodedLength: meta.unencodedLength,
      encodingType: 'RS2',
      symbolSize: meta.symbolSize,
      nShards,
    };
    process.stdout.write(JSON.stringify(out) + '\n');
  } else {
    process.stdout.write(meta.blobIdString + '\n');
  }
}

/** Runs the CLI with `argv` (without node and script); resolves to the exit code. */
export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case undefined:
      case '-h':
      case '--help':
      case 'help':
        process.stdout.write(USAGE);
        return command === undefined ? 2 : 0;
      case '-v':
      case '--version': {
        const pkg = JSON.parse(await readFile(new URL('../../package.json', import.meta.url), 'utf8'));
        process.stdout.write(`tusk ${pkg.version}\n`);
        return 0;
      }
      case 'blob-id':
        await blobIdCommand(rest);
        return 0;
      default:
        throw new UsageError(`unknown command ${JSON.stringify(command)}`);
    }
  } catch (e) {
    if (e instanceof UsageError || (e as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      process.stderr.write(`tusk: ${(e as Error).message}\n\n${USAGE}`);
      return 2;
    }
    if (e instanceof TuskError) {
      process.stderr.write(`tusk: ${e.message}\n`);
      return 1;
    }
    const err = e as NodeJS.ErrnoException;
    if (err.code === 'ENOENT' || err.code === 'EISDIR' || err.code === 'EACCES') {
      process.stderr.write(`tusk: ${err.message}\n`);
      return 1;
    }
    throw e;
  }
}
