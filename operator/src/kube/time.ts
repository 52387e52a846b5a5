// Clock and timers as injectable dependencies, so queue/cache/leader tests run without real sleeping.
// The defaults look the globals up at call time, which lets vitest's fake timers take effect.

export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
}

export type TimerHandle = unknown;

export interface Timers {
  setTimeout(fn: () => void, ms: number): TimerHandle;
  clearTimeout(handle: TimerHandle): void;
}

export const systemClock: Clock = { now: () => Date.now() };

export const systemTimers: Timers = {
  setTimeout: (fn, ms) => {
    const handle = setTimeout(fn, ms);
    // Pending backoffs and requeues must not keep a finished process alive.
    handle.unref();
    return handle;
  },
  clearTimeout: (handle) => {
    clearTimeout(handle as ReturnType<typeof setTimeout>);
  },
};

/** Resolves after `ms`, or early (without throwing) when `signal` aborts. Returns whether the full time elapsed. */
export function sleep(ms: number, timers: Timers = systemTimers, signal?: AbortSignal): Promise<boolean> {
  if (signal?.aborted === true) return Promise.resolve(false);
  return new Promise((resolve) => {
    const onAbort = (): void => {
      timers.clearTimeout(handle);
      resolve(false);
    };
    const handle = timers.setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve(true);
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

/** Capped exponential backoff: base, 2·base, 4·base, … up to max. */
export function exponentialBackoff(attempt: number, baseMs: number, maxMs: number): number {
  if (attempt <= 0) return baseMs;
  // Guard against 2**attempt overflowing to Infinity for very large attempt counts.
  const exponent = Math.min(attempt, 52);
  return Math.min(maxMs, baseMs * 2 ** exponent);
}

/** RFC 3339 with seconds precision, the format of metav1.Time (e.g. lastTransitionTime). */
export function formatTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, "Z");
}

/** RFC 3339 with exactly six fractional digits, the format of metav1.MicroTime (Lease, Event). */
export function formatMicroTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, ".$1000Z");
}
