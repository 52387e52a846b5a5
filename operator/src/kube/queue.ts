// A keyed work queue with client-go's semantics: a key is queued at most once, is never processed
// by two workers at the same time, and a key added while being processed runs again after done().
// Delays (addAfter) and per-key exponential backoff (addRateLimited) use injected timers.
import { exponentialBackoff, systemClock, systemTimers, type Clock, type TimerHandle, type Timers } from "./time.js";

export interface QueueMetrics {
  /** Called whenever the number of keys waiting to be processed changes. */
  depth(n: number): void;
  /** Called for every addRateLimited. */
  retry(): void;
}

export interface WorkQueueOptions {
  timers?: Timers;
  clock?: Clock;
  /** First backoff of addRateLimited. Default 5 ms. */
  baseDelayMs?: number;
  /** Backoff cap. Default 5 min. */
  maxDelayMs?: number;
  metrics?: QueueMetrics;
}

export class WorkQueue {
  private readonly timers: Timers;
  private readonly clock: Clock;
  private readonly baseDelayMs: number;
  private readonly maxDelayMs: number;
  private readonly metrics: QueueMetrics | undefined;

  /** Keys ready to be handed out, in order. */
  private readonly ready: string[] = [];
  /** Keys that need processing: those in `ready`, plus processing keys that were re-added. */
  private readonly dirty = new Set<string>();
  private readonly processing = new Set<string>();
  private readonly waiters: ((key: string | undefined) => void)[] = [];
  private readonly delayed = new Map<string, { readyAt: number; handle: TimerHandle }>();
  private readonly failures = new Map<string, number>();
  private shuttingDown = false;
  private drained: (() => void) | undefined;

  constructor(opts: WorkQueueOptions = {}) {
    this.timers = opts.timers ?? systemTimers;
    this.clock = opts.clock ?? systemClock;
    this.baseDelayMs = opts.baseDelayMs ?? 5;
    this.maxDelayMs = opts.maxDelayMs ?? 5 * 60_000;
    this.metrics = opts.metrics;
  }

  /** Keys waiting to be processed (not counting those in progress or delayed). */
  get length(): number {
    return this.ready.length;
  }

  get isShuttingDown(): boolean {
    return this.shuttingDown;
  }

  add(key: string): void {
    if (this.shuttingDown || this.dirty.has(key)) return;
    this.dirty.add(key);
    // Re-queued by done() when the current run finishes.
    if (this.processing.has(key)) return;
    const waiter = this.waiters.shift();
    if (waiter !== undefined) {
      this.dirty.delete(key);
      this.processing.add(key);
      waiter(key);
      return;
    }
    this.ready.push(key);
    this.reportDepth();
  }

  /** Adds the key after `ms`. If the key is already waiting, the earlier time wins. */
  addAfter(key: string, ms: number): void {
    if (this.shuttingDown) return;
    if (ms <= 0) {
      this.add(key);
      return;
    }
    const readyAt = this.clock.now() + ms;
    const existing = this.delayed.get(key);
    if (existing !== undefined) {
      if (existing.readyAt <= readyAt) return;
      this.timers.clearTimeout(existing.handle);
    }
    const handle = this.timers.setTimeout(() => {
      this.delayed.delete(key);
      this.add(key);
    }, ms);
    this.delayed.set(key, { readyAt, handle });
  }

  /** Adds the key after its backoff: base·2^n for the n-th consecutive failure, capped. */
  addRateLimited(key: string): void {
    if (this.shuttingDown) return;
    const n = this.failures.get(key) ?? 0;
    this.failures.set(key, n + 1);
    this.metrics?.retry();
    this.addAfter(key, exponentialBackoff(n, this.baseDelayMs, this.maxDelayMs));
  }

  /** Resets the key's backoff (call after it was processed successfully). */
  forget(key: string): void {
    this.failures.delete(key);
  }

  numRequeues(key: string): number {
    return this.failures.get(key) ?? 0;
  }

  /** The next key to process, or undefined once the queue is shutting down. Call done(key) afterwards. */
  get(): Promise<string | undefined> {
    if (this.shuttingDown) return Promise.resolve(undefined);
    const key = this.ready.shift();
    if (key !== undefined) {
      this.dirty.delete(key);
      this.processing.add(key);
      this.reportDepth();
      return Promise.resolve(key);
    }
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  done(key: string): void {
    if (!this.processing.delete(key)) return;
    if (this.dirty.has(key) && !this.shuttingDown) {
      // It was added again while processing; hand it out again (to a waiting worker if there is one).
      this.dirty.delete(key);
      this.add(key);
    }
    if (this.processing.size === 0) this.drained?.();
  }

  /**
   * Stops handing out keys and cancels delayed adds; resolves when every key in progress is done.
   * Queued keys are dropped: the next leader's caches will enqueue everything again.
   */
  shutdown(): Promise<void> {
    if (!this.shuttingDown) {
      this.shuttingDown = true;
      for (const waiter of this.waiters.splice(0)) waiter(undefined);
      for (const { handle } of this.delayed.values()) this.timers.clearTimeout(handle);
      this.delayed.clear();
      this.ready.length = 0;
      this.dirty.clear();
      this.reportDepth();
    }
    if (this.processing.size === 0) return Promise.resolve();
    return new Promise((resolve) => {
      const previous = this.drained;
      this.drained = () => {
        previous?.();
        resolve();
      };
    });
  }

  private reportDepth(): void {
    this.metrics?.depth(this.ready.length);
  }
}
