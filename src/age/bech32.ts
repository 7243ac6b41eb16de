/**
 * Bech32 (BIP 173) encoding as age uses it for `age1…` recipients and `AGE-SECRET-KEY-1…`
 * identities: no 90-character length limit (age keys are longer for some types), a single case
 * per string, and the original Bech32 checksum constant (not Bech32m).
 */
import { AgeFormatError } from './errors.ts';

const CHARSET = 'qpzry9x8gf2tvdw0s3jn54khce6mua7l';
const GENERATOR = [0x3b6a57b2, 0x26508e6d, 0x1ea119fa, 0x3d4233dd, 0x2a1462b3];

function polymod(values: number[]): number {
  let chk = 1;
  for (const v of values) {
    const top = chk >>> 25;
    chk = ((chk & 0x1ffffff) << 5) ^ v;
    for (let i = 0; i < 5; i++) if ((top >>> i) & 1) chk ^= GENERATOR[i];
  }
  return chk >>> 0;
}

function hrpExpand(hrp: string): number[] {
  const out: number[] = [];
  for (let i = 0; i < hrp.length; i++) out.push(hrp.charCodeAt(i) >> 5);
  out.push(0);
  for (let i = 0; i < hrp.length; i++) out.push(hrp.charCodeAt(i) & 31);
  return out;
}

/** Regroups bits (8→5 when encoding, 5→8 when decoding); strict padding rules when decoding. */
function convertBits(data: ArrayLike<number>, from: number, to: number, pad: boolean): number[] {
  let acc = 0;
  let bits = 0;
  const out: number[] = [];
  const maxv = (1 << to) - 1;
  for (let i = 0; i < data.length; i++) {
    acc = (acc << from) | data[i];
    bits += from;
    while (bits >= to) {
      bits -= to;
      out.push((acc >>> bits) & maxv);
    }
    acc &= (1 << bits) - 1;
  }
  if (pad) {
    if (bits > 0) out.push((acc << (to - bits)) & maxv);
  } else if (bits >= from || ((acc << (to - bits)) & maxv) !== 0) {
    throw new AgeFormatError('invalid Bech32 padding');
  }
  return out;
}

/**
 * Encodes `data` under the human-readable part `hrp` (lower case). The caller chooses the case
 * of the result (age identities are upper case).
 */
export function bech32Encode(hrp: string, data: Uint8Array): string {
  const values = convertBits(data, 8, 5, true);
  const mod = polymod([...hrpExpand(hrp), ...values, 0, 0, 0, 0, 0, 0]) ^ 1;
  let out = hrp + '1';
  for (const v of values) out += CHARSET[v];
  for (let i = 0; i < 6; i++) out += CHARSET[(mod >>> (5 * (5 - i))) & 31];
  return out;
}

/**
 * Decodes a Bech32 string. Rejects mixed case, bad characters and bad checksums.
 * @returns the human-readable part in lower case and the data bytes (a fresh array).
 */
export function bech32Decode(s: string): { hrp: string; data: Uint8Array } {
  if (s !== s.toLowerCase() && s !== s.toUpperCase()) throw new AgeFormatError('mixed-case Bech32 string');
  const lower = s.toLowerCase();
  const sep = lower.lastIndexOf('1');
  if (sep < 1 || sep + 7 > lower.length) throw new AgeFormatError('malformed Bech32 string');
  const hrp = lower.slice(0, sep);
  for (let i = 0; i < hrp.length; i++) {
    const c = hrp.charCodeAt(i);
    if (c < 33 || c > 126) throw new AgeFormatError('invalid Bech32 prefix');
  }
  const values: number[] = [];
  for (const ch of lower.slice(sep + 1)) {
    const v = CHARSET.indexOf(ch);
    if (v < 0) throw new AgeFormatError(`invalid Bech32 character ${JSON.stringify(ch)}`);
    values.push(v);
  }
  if (polymod([...hrpExpand(hrp), ...values]) !== 1) throw new AgeFormatError('invalid Bech32 checksum');
  return { hrp, data: Uint8Array.from(convertBits(values.slice(0, -6), 5, 8, false)) };
}
