/**
 * ASCII armor (AGE-SPEC §ASCII armor): the binary file in strict padded base64, 64 columns per
 * line, between `-----BEGIN AGE ENCRYPTED FILE-----` and `-----END AGE ENCRYPTED FILE-----`.
 * Both directions stream (one line of state), so armored multi-GiB files stay in bounded memory.
 * Decoding is strict like the Go reference: only whitespace around the block is tolerated, every
 * line but the last is exactly 64 columns, the base64 is canonical.
 */
import { AgeFormatError } from './errors.ts';

export const ARMOR_BEGIN = '-----BEGIN AGE ENCRYPTED FILE-----';
export const ARMOR_END = '-----END AGE ENCRYPTED FILE-----';
const LINE_BYTES = 48; // 64 base64 columns

/** Armors a byte stream. Yields fresh buffers. */
export async function* armorEncode(source: AsyncIterable<Uint8Array>): AsyncGenerator<Uint8Array> {
  yield Buffer.from(`${ARMOR_BEGIN}\n`);
  let carry: Uint8Array = new Uint8Array(0);
  for await (const input of source) {
    const data = carry.length ? Buffer.concat([carry, input]) : input;
    const whole = data.length - (data.length % LINE_BYTES);
    if (whole > 0) yield lines(data.subarray(0, whole));
    carry = Uint8Array.from(data.subarray(whole));
  }
  yield Buffer.concat([carry.length ? lines(carry) : Buffer.alloc(0), Buffer.from(`${ARMOR_END}\n`)]);
}

function lines(data: Uint8Array): Buffer {
  const b64 = Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('base64');
  const parts: string[] = [];
  for (let o = 0; o < b64.length; o += 64) parts.push(b64.slice(o, o + 64));
  return Buffer.from(parts.join('\n') + '\n', 'latin1');
}

const B64_LINE = /^[A-Za-z0-9+/]*={0,2}$/;

/**
 * Decodes an armored stream (leading whitespace allowed before BEGIN, trailing whitespace after
 * END, LF or CRLF line ends). Throws AgeFormatError on anything else.
 */
export async function* armorDecode(source: AsyncIterable<Uint8Array>): AsyncGenerator<Uint8Array> {
  let text = '';
  let state: 'pre' | 'body' | 'post' = 'pre';
  let lastShort = false;
  let lineNo = 0;
  let crlf: boolean | null = null;
  const handle = (line: string): Uint8Array | null => {
    lineNo++;
    if (line.endsWith('\r')) {
      if (crlf === false) throw new AgeFormatError('armor: mixed line endings');
      crlf = true;
      line = line.slice(0, -1);
    } else if (state !== 'pre' && crlf === true) throw new AgeFormatError('armor: mixed line endings');
    else if (crlf === null && state !== 'pre') crlf = false;
    if (state === 'pre') {
      if (line.trim() === '') return null;
      const t = line.replace(/^\s+/, '');
      if (t !== ARMOR_BEGIN) throw new AgeFormatError('armor: missing BEGIN line');
      state = 'body';
      return null;
    }
    if (state === 'post') {
      if (line.trim() !== '') throw new AgeFormatError('armor: data after END line');
      return null;
    }
    if (line === ARMOR_END) {
      state = 'post';
      return null;
    }
    if (lastShort) throw new AgeFormatError('armor: short line before the end');
    if (line.length > 64) throw new AgeFormatError('armor: line longer than 64 columns');
    if (line.length === 0) throw new AgeFormatError('armor: empty line');
    if (line.length < 64) lastShort = true;
    if (line.length % 4 !== 0 || !B64_LINE.test(line)) throw new AgeFormatError('armor: invalid base64');
    const bytes = Buffer.from(line, 'base64');
    if (bytes.toString('base64') !== line) throw new AgeFormatError('armor: non-canonical base64');
    if (line.includes('=')) lastShort = true;
    return bytes;
  };
  for await (const input of source) {
    text += Buffer.from(input.buffer, input.byteOffset, input.byteLength).toString('latin1');
    const outs: Uint8Array[] = [];
    let nl: number;
    while ((nl = text.indexOf('\n')) >= 0) {
      const b = handle(text.slice(0, nl));
      text = text.slice(nl + 1);
      if (b) outs.push(b);
    }
    if (text.length > 4096 && (state as string) !== 'post') throw new AgeFormatError('armor: line too long');
    if (outs.length) yield Buffer.concat(outs);
  }
  const final = state as 'pre' | 'body' | 'post';
  if (text.length > 0) {
    if (final === 'body' && text.replace(/\r$/, '') === ARMOR_END) state = 'post';
    else if (final === 'post' && text.trim() === '') {
      /* trailing whitespace */
    } else {
      const b = handle(text);
      if (b) yield b;
    }
  }
  if ((state as string) !== 'post')
    throw new AgeFormatError(lineNo === 0 && final === 'pre' ? 'armor: empty input' : 'armor: missing END line');
}
