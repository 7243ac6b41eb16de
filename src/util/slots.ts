/**
 * Runs `count` jobs over `slots` concurrent chains (job i on chain i mod slots; a chain's jobs run
 * one after another, so a job may reuse its slot's memory). On the first failure `onFailure` is
 * called, the other chains stop before their next job, and the failure is thrown only once every
 * chain has settled, so cleanup never races with work still in flight.
 */
export async function inSlots(
  slots: number,
  count: number,
  job: (i: number, slot: number) => Promise<void>,
  onFailure?: (error: unknown) => void,
): Promise<void> {
  let failure: { error: unknown } | undefined;
  await Promise.all(
    Array.from({ length: Math.min(slots, count) }, async (_, s) => {
      for (let i = s; i < count && !failure; i += slots) {
        try {
          await job(i, s);
        } catch (error) {
          if (!failure) {
            failure = { error };
            onFailure?.(error);
          }
        }
      }
    }),
  );
  if (failure) throw failure.error;
}
