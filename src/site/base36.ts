/**
 * Object IDs in base36, as Walrus Sites writes them in subdomains (`<b36>.wal.app`): the 32
 * bytes as one big-endian number in the alphabet 0-9a-z, each leading zero byte written as one
 * `0` (base-x's rule, which the official portal uses). Case-insensitive on input; at most 50
 * characters, so it fits a 63-character DNS label.
 */
import { TuskInputError } from '../errors.ts';

const ALPHABET = '0123456789abcdefghijklmnopqrstuvwxyz';

/** `0x…` (64 hex digits) → base36. @throws TuskInputError for anything but a 32-byte hex ID. */
export function objectIdToBase36(objectId: string): string {
  if (!/^0x[0-9a-fA-F]{64}$/.test(objectId)) throw new TuskInputError(`not an object ID: ${JSON.stringify(objectId)}`);
  const hex = objectId.slice(2).toLowerCase();
  let zeros = 0;
  while (zeros < 32 && hex.slice(zeros * 2, zeros * 2 + 2) === '00') zeros++;
  const rest = hex.slice(zeros * 2);
  return '0'.repeat(zeros) + (rest === '' ? '' : BigInt(`0x${rest}`).toString(36));
}

/**
 * base36 → `0x…` lowercase, or null when `text` is not the base36 form of a 32-byte ID (wrong
 * characters, longer than 50, or another byte length).
 */
export function base36ToObjectId(text: string): string | null {
  const s = text.toLowerCase();
  if (s.length === 0 || s.length > 50 || ![...s].every((c) => ALPHABET.includes(c))) return null;
  let zeros = 0;
  while (zeros < s.length && s[zeros] === '0') zeros++;
  const rest = s.slice(zeros);
  let value = 0n;
  for (const c of rest) value = value * 36n + BigInt(ALPHABET.indexOf(c));
  const restHex = rest === '' ? '' : value.toString(16);
  const padded = restHex.length % 2 ? `0${restHex}` : restHex;
  if (zeros + padded.length / 2 !== 32) return null;
  return `0x${'00'.repeat(zeros)}${padded}`;
}
