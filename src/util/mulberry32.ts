/**
 * mulberry32, a tiny seeded PRNG for reproducible simulations, soaks and property tests (never for
 * anything secret: use node:crypto there). The same seed gives the same sequence everywhere.
 */

/**
 * A generator of floats in [0, 1) from a 32-bit seed (pre: any number; it is taken mod 2^32).
 * Post: each call advances the state; period 2^32.
 */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
