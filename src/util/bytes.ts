/**
 * Byte-array helpers shared by every layer (codec, chain, node, client). They depend on nothing,
 * so any folder may import them without pulling in a codec or a flow.
 */

/** Constant-shape byte comparison: true when `a` and `b` hold the same bytes. Reads both, keeps neither. */
export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let d = 0;
  for (let i = 0; i < a.length; i++) d |= a[i] ^ b[i];
  return d === 0;
}
