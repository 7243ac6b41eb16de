/** Registry of encoding types: look one up by name or by its type byte. */
import { TuskInputError } from '../../errors.ts';
import type { EncodingName, EncodingScheme } from './scheme.ts';
import { RS2 } from './rs2.ts';
import { RS8 } from './rs8.ts';

export type { EncodingName, EncodingScheme } from './scheme.ts';
export { RS2 } from './rs2.ts';
export { RS8 } from './rs8.ts';

/** Every encoding Tusk implements; RS2 (Walrus) is the default. */
export const ENCODINGS: readonly EncodingScheme[] = [RS2, RS8];

/** The scheme named `name` (case-insensitive: `rs2`, `RS8`, …). @throws TuskInputError */
export function encodingByName(name: string): EncodingScheme {
  const e = ENCODINGS.find((x) => x.name === name.toUpperCase());
  if (!e)
    throw new TuskInputError(`unknown encoding ${JSON.stringify(name)} (known: ${ENCODINGS.map((x) => x.name.toLowerCase()).join(', ')})`);
  return e;
}

/** The scheme with encoding-type byte `typeByte`. @throws TuskInputError */
export function encodingByType(typeByte: number): EncodingScheme {
  const e = ENCODINGS.find((x) => x.typeByte === typeByte);
  if (!e) throw new TuskInputError(`unsupported encoding type ${typeByte}`);
  return e;
}
