/**
 * The encryption commands of `tusk` (issue 17, docs/encryption.md): `keygen`, and the offline
 * `encrypt` / `decrypt` (age v1: the Debian `age` tool reads what they write and vice versa),
 * plus the flag parsing `store --encrypt-to/-R/--passphrase-file` and `read -i/--range/--raw`
 * share with them. Outputs to files appear only on success (no partial plaintext).
 */
import { readFile, writeFile } from 'node:fs/promises';
import { decryptFile, encryptFile } from '../age/files.ts';
import { decryptFileRange } from '../age/files.ts';
import {
  MlKem768X25519Identity,
  parseIdentities,
  parseRecipient,
  parseRecipients,
  ScryptIdentity,
  ScryptRecipient,
  X25519Identity,
  DEFAULT_SCRYPT_LOG_N,
  type Identity,
  type Recipient,
} from '../age/recipients.ts';
import type { EncryptOptions } from '../age/age.ts';
import type { ReadDecryptOptions } from '../client/encryption.ts';
import { TuskInputError } from '../errors.ts';
import { intOption, parseArgsKeepingIds, print } from './common.ts';

/** Usage text (main.ts appends it to its own). */
export const AGE_USAGE = `Encryption (age v1 format; everything on Walrus is public — encryption is the only confidentiality):
  keygen [-o <file>] [--pq]             New X25519 identity (file mode 0600); prints the age1… recipient.
                                        --pq: a hybrid post-quantum identity (ML-KEM-768 + X25519, age1pq1…).
  keygen -y <identity file>             Print the recipient(s) of an identity file.
  encrypt [-r age1…]… [-R <file>]… [--passphrase-file <f>] [-a] [-o <out>] [<in>]
                                        Encrypt (stdin/stdout by default; -a: ASCII armor).
  decrypt -i <identity file>… [--passphrase-file <f>] [--range A-B] [-o <out>] [<in>]
                                        Decrypt (binary or armored; --range: plaintext bytes A…B inclusive).
  store … --encrypt-to age1… | -R <recipients file> | --passphrase-file <f>   Store encrypted (nodes hold ciphertext).
  read <blobId> -i <identity file> [--range A-B]    Decrypt an encrypted blob; without -i an encrypted blob
                                        is refused unless --raw (keep the ciphertext).
  --work-factor <logN> sets the scrypt cost for --passphrase-file when encrypting (default ${DEFAULT_SCRYPT_LOG_N}).
`;

/** The flags shared by encrypt/decrypt/store/read (merged into their parseArgs options). */
export const AGE_OPTIONS = {
  'encrypt-to': { type: 'string', short: 'r', multiple: true },
  'recipients-file': { type: 'string', short: 'R', multiple: true },
  'passphrase-file': { type: 'string' },
  identity: { type: 'string', short: 'i', multiple: true },
  range: { type: 'string' },
  raw: { type: 'boolean', default: false },
  armor: { type: 'boolean', short: 'a', default: false },
  'work-factor': { type: 'string' },
} as const;

interface AgeFlags {
  'encrypt-to'?: string[];
  'recipients-file'?: string[];
  'passphrase-file'?: string;
  identity?: string[];
  range?: string;
  raw?: boolean;
  armor?: boolean;
  'work-factor'?: string;
}

async function readPassphrase(path: string): Promise<string> {
  const text = await readFile(path, 'utf8');
  const pass = text.split(/\r?\n/)[0];
  if (!pass) throw new TuskInputError(`passphrase file ${path} is empty`);
  return pass;
}

/** The encryption requested by the flags, or undefined when none. Throws on a bad combination. */
export async function encryptionFromFlags(v: AgeFlags, usageError: (m: string) => Error): Promise<EncryptOptions | undefined> {
  const recipients: Recipient[] = [];
  for (const r of v['encrypt-to'] ?? []) recipients.push(parseRecipient(r.trim()));
  for (const f of v['recipients-file'] ?? []) recipients.push(...parseRecipients(await readFile(f, 'utf8')));
  if (v['passphrase-file']) {
    if (recipients.length > 0)
      throw usageError('--passphrase-file cannot be combined with recipients (age allows a passphrase only alone)');
    const logN = intOption(v['work-factor'], 'work-factor', 1, 22) ?? DEFAULT_SCRYPT_LOG_N;
    recipients.push(new ScryptRecipient(await readPassphrase(v['passphrase-file']), logN));
  }
  return recipients.length ? { recipients, armor: v.armor } : undefined;
}

/** The decryption requested by the flags (`-i`, `--passphrase-file`, `--range`), or undefined. */
export async function decryptionFromFlags(v: AgeFlags, usageError: (m: string) => Error): Promise<ReadDecryptOptions | undefined> {
  const identities: Identity[] = [];
  for (const f of v.identity ?? []) identities.push(...parseIdentities(await readFile(f, 'utf8')));
  if (v['passphrase-file']) identities.push(new ScryptIdentity(await readPassphrase(v['passphrase-file'])));
  const range = v.range === undefined ? undefined : parseRange(v.range, usageError);
  if (identities.length === 0) {
    if (range) throw usageError('--range needs -i <identity file> or --passphrase-file (it selects plaintext bytes)');
    return undefined;
  }
  return { identities, range };
}

/** `A-B` (inclusive) or `A-` (to the end) → [start, end). */
export function parseRange(s: string, usageError: (m: string) => Error): { start: number; end?: number } {
  const m = /^(\d+)-(\d*)$/.exec(s);
  if (!m) throw usageError(`--range must be A-B or A- (plaintext byte offsets, inclusive), got ${JSON.stringify(s)}`);
  const start = Number(m[1]);
  if (m[2] === '') return { start };
  const last = Number(m[2]);
  if (last < start) throw usageError(`--range ${s}: end before start`);
  return { start, end: last + 1 };
}

function parse(args: string[]) {
  return parseArgsKeepingIds({
    args,
    allowPositionals: true,
    options: {
      ...AGE_OPTIONS,
      out: { type: 'string', short: 'o' },
      y: { type: 'boolean', short: 'y', default: false },
      pq: { type: 'boolean', default: false },
      force: { type: 'boolean', default: false },
      json: { type: 'boolean', default: false },
    },
  });
}

/** Runs keygen / encrypt / decrypt; resolves to the exit code. */
export async function ageCommand(command: string, argv: string[], usageError: (m: string) => Error): Promise<number> {
  const { values, positionals } = parse(argv);
  if (positionals.length > 1) throw usageError(`${command} takes at most one input file`);
  const input = positionals[0];
  switch (command) {
    case 'keygen': {
      if (values.y) {
        if (!input) throw usageError('keygen -y needs an identity file');
        const recipients = parseIdentities(await readFile(input, 'utf8')).map((i) => i.recipient.toString());
        if (values.out) await writeFile(values.out, recipients.join('\n') + '\n', { flag: values.force ? 'w' : 'wx' });
        print(values.json, { recipients }, values.out ? '' : recipients.join('\n'));
        return 0;
      }
      if (input) throw usageError('keygen takes no input (did you mean keygen -y <file>?)');
      const id = values.pq ? MlKem768X25519Identity.generate() : X25519Identity.generate();
      const recipient = id.recipient.toString();
      const text = `# created: ${new Date().toISOString().replace(/\.\d+Z$/, 'Z')}\n# public key: ${recipient}\n${id.toString()}\n`;
      if (values.out) {
        await writeFile(values.out, text, { mode: 0o600, flag: values.force ? 'w' : 'wx' });
        if (values.json) print(true, { recipient, out: values.out }, '');
        else process.stderr.write(`Public key: ${recipient}\n(keep ${values.out} safe: there is no recovery without it)\n`);
      } else if (values.json) print(true, { recipient, identity: id.toString() }, '');
      else process.stdout.write(text);
      return 0;
    }
    case 'encrypt': {
      const enc = await encryptionFromFlags(values, usageError);
      if (!enc) throw usageError('encrypt needs -r age1…, -R <recipients file> or --passphrase-file <f>');
      const bytes = await encryptFile(input ?? process.stdin, values.out ?? process.stdout, { ...enc, overwrite: values.force });
      if (values.out && values.json) print(true, { out: values.out, bytes, recipients: enc.recipients.length }, '');
      return 0;
    }
    case 'decrypt': {
      const dec = await decryptionFromFlags(values, usageError);
      if (!dec) throw usageError('decrypt needs -i <identity file> or --passphrase-file <f>');
      const out = values.out ?? process.stdout;
      let bytes: number;
      if (dec.range) {
        if (!input) throw usageError('--range needs an input file (random access), not stdin');
        bytes = await decryptFileRange(input, out, dec.range.start, dec.range.end, { identities: dec.identities, overwrite: values.force });
      } else {
        bytes = await decryptFile(input ?? process.stdin, out, { identities: dec.identities, overwrite: values.force });
      }
      if (values.out && values.json) print(true, { out: values.out, bytes }, '');
      return 0;
    }
    default:
      throw usageError(`unknown command ${JSON.stringify(command)}`);
  }
}
