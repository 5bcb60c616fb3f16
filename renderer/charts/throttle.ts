/**
 * Calls `fn` at most once per `intervalMs`, at the end of the interval in which `poke` was called:
 * many events per second become a few store updates (CONVENTIONS.md: throttled version numbers).
 */
export function trailingThrottle(fn: () => void, intervalMs: number, timers: Pick<typeof globalThis, 'setTimeout' | 'clearTimeout'> = globalThis): { poke(): void; cancel(): void } {
  let timer: ReturnType<typeof setTimeout> | null = null;
  return {
    poke() {
      if (timer !== null) return;
      timer = timers.setTimeout(() => {
        timer = null;
        fn();
      }, intervalMs);
    },
    cancel() {
      if (timer !== null) timers.clearTimeout(timer);
      timer = null;
    },
  };
}
