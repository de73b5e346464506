/**
 * Polls `condition` until it returns a truthy value (or resolves to one) and returns it; rejects
 * with the last error or a timeout message after `deadlineMs`. Tests synchronise with this
 * instead of sleeping.
 */
export async function waitFor<T>(condition: () => T | Promise<T>, deadlineMs = 10_000, what = 'condition', intervalMs = 25): Promise<NonNullable<T>> {
  const until = Date.now() + deadlineMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await condition();
      if (value) return value as NonNullable<T>;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() >= until) {
      const detail = lastError instanceof Error ? `: ${lastError.message}` : '';
      throw new Error(`timed out after ${deadlineMs} ms waiting for ${what}${detail}`);
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
