/** What a promise rejects with when `withDeadline` gave up on it. */
export class DeadlineExceeded extends Error {}

/**
 * `pending`, or a rejection with DeadlineExceeded after `ms`. The work behind `pending` is not
 * cancelled: the caller decides whether to keep it alive. workerd's clock advances at I/O, so
 * this bounds waiting on I/O (a remote call), not computation.
 */
export async function withDeadline<T>(pending: PromiseLike<T>, ms: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new DeadlineExceeded(`no answer within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([pending, timeout]);
  } finally {
    if (timer !== undefined) clearTimeout(timer);
  }
}
