/**
 * Random order for spreading load: which node to ask first for metadata or a sliver. Not for
 * anything an adversary must not predict (Math.random).
 */

/** Shuffles `a` in place (Fisher–Yates) and returns it. */
export function shuffle<T>(a: T[]): T[] {
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [a[i], a[j]] = [a[j], a[i]];
  }
  return a;
}
