/**
 * Work for after the response (a queued event, a counter), kept alive with `waitUntil` and
 * started on a timer, so that it begins once the handler has answered rather than competing with
 * it. Long computation needs `delayMs`: on the next tick the answer's bytes may not have left yet,
 * and an isolate that computes sends nothing. A failure is logged by `what` (never a payload) and never reaches the visitor.
 */
export function afterAnswer(waitUntil: (p: Promise<unknown>) => void, what: string, task: () => Promise<unknown>, delayMs = 0): void {
  waitUntil(
    new Promise((resolve) => setTimeout(resolve, delayMs)).then(task).catch((err: unknown) => {
      console.error(what, err instanceof Error ? err.message : "unknown");
    }),
  );
}
