/**
 * Polls `check` until it returns a truthy value, and returns that value; throws once `timeoutMs`
 * has passed. For what arrives after the request that caused it: the queue consumer's writes, an
 * erasure's completion, a page's next decision.
 */
export async function waitFor<T>(check: () => Promise<T | null | undefined | false>, timeoutMs = 30_000, intervalMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
