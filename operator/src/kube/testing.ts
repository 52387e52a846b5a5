// Helpers for tests of code built on this package (not used at runtime).
import { KubeConfig } from "@kubernetes/client-node";
import {
  KubeClient,
  type KubeClientOptions,
  type ListAllOptions,
  type ListResult,
  type ListWatchClient,
  type WatchEvent,
  type WatchOptions,
} from "./client.js";
import type { KubeStatus } from "./errors.js";
import type { KubeObject, ResourceType } from "./resources.js";
import type { Clock, TimerHandle, Timers } from "./time.js";

/** A kubeconfig for `server` with a bearer token, for clients talking to nock or a test apiserver. */
export function testKubeConfig(server: string, token = "test-token"): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromClusterAndUser(
    { name: "test", server, skipTLSVerify: server.startsWith("http:") },
    { name: "test", token },
  );
  return kc;
}

export function testClient(server: string, opts: KubeClientOptions & { token?: string } = {}): KubeClient {
  return new KubeClient(testKubeConfig(server, opts.token), opts);
}

/**
 * Timers and clock under the test's control: nothing fires until advance(). Unlike global fake
 * timers it leaves setImmediate/promises alone, so I/O-free async code can be flushed normally.
 */
export class ManualTimers implements Timers, Clock {
  private current = 0;
  private nextId = 1;
  private readonly timers = new Map<number, { at: number; fn: () => void; ms: number }>();

  constructor(start = 0) {
    this.current = start;
  }

  now(): number {
    return this.current;
  }

  setTimeout(fn: () => void, ms: number): TimerHandle {
    const id = this.nextId++;
    this.timers.set(id, { at: this.current + Math.max(0, ms), fn, ms });
    return id;
  }

  clearTimeout(handle: TimerHandle): void {
    this.timers.delete(handle as number);
  }

  /** Delays (as requested) of the timers still pending, in scheduling order. */
  pendingDelays(): number[] {
    return [...this.timers.values()].map((t) => t.ms);
  }

  /** Moves time forward, firing due timers in time order (and timers they schedule, if due). */
  advance(ms: number): void {
    const target = this.current + ms;
    for (;;) {
      let next: [number, { at: number; fn: () => void }] | undefined;
      for (const entry of this.timers) {
        if (entry[1].at <= target && (next === undefined || entry[1].at < next[1].at)) next = entry;
      }
      if (next === undefined) break;
      this.timers.delete(next[0]);
      this.current = next[1].at;
      next[1].fn();
    }
    this.current = target;
  }
}

/** Lets pending promise callbacks and I/O callbacks run (a few macrotask turns). */
export async function flush(turns = 5): Promise<void> {
  for (let i = 0; i < turns; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}

/** One watch opened on a FakeListWatch; the test pushes events into it. */
export class FakeWatchStream implements AsyncIterable<WatchEvent<KubeObject>> {
  private readonly buffered: ({ event: WatchEvent<KubeObject> } | { error: unknown } | { end: true })[] = [];
  private wake: (() => void) | undefined;
  closed = false;

  constructor(
    readonly opts: WatchOptions,
    private readonly signal: AbortSignal | undefined,
  ) {
    signal?.addEventListener("abort", () => {
      this.end();
    });
  }

  push(type: "ADDED" | "MODIFIED" | "DELETED" | "BOOKMARK", object: KubeObject): void {
    this.enqueue({ event: { type, object } });
  }

  pushError(status: KubeStatus): void {
    this.enqueue({ event: { type: "ERROR", object: status } });
  }

  /** The server closes the stream normally. */
  end(): void {
    this.enqueue({ end: true });
  }

  /** The connection breaks. */
  fail(error: unknown): void {
    this.enqueue({ error });
  }

  private enqueue(item: (typeof this.buffered)[number]): void {
    this.buffered.push(item);
    this.wake?.();
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<WatchEvent<KubeObject>> {
    try {
      for (;;) {
        const item = this.buffered.shift();
        if (item === undefined) {
          if (this.signal?.aborted === true) return;
          await new Promise<void>((resolve) => (this.wake = resolve));
          this.wake = undefined;
          continue;
        }
        if ("end" in item) return;
        if ("error" in item) throw item.error;
        yield item.event;
      }
    } finally {
      this.closed = true;
    }
  }
}

/** A scripted list/watch source for cache and controller tests. */
export class FakeListWatch implements ListWatchClient {
  readonly listCalls: ListAllOptions[] = [];
  readonly watches: FakeWatchStream[] = [];
  private readonly listResponses: (ListResult<KubeObject> | Error)[] = [];
  private readonly watchErrors: unknown[] = [];

  /** The answer to the next listAll. */
  queueList(items: KubeObject[], resourceVersion: string): void {
    this.listResponses.push({ items, resourceVersion });
  }

  queueListError(error: Error): void {
    this.listResponses.push(error);
  }

  /** The next watch call fails at once with `error`. */
  failNextWatch(error: unknown): void {
    this.watchErrors.push(error);
  }

  get lastWatch(): FakeWatchStream {
    const last = this.watches.at(-1);
    if (last === undefined) throw new Error("no watch has been opened");
    return last;
  }

  listAll<T extends KubeObject>(_rt: ResourceType, opts: ListAllOptions = {}): Promise<ListResult<T>> {
    this.listCalls.push(opts);
    const next = this.listResponses.shift();
    if (next === undefined) return Promise.reject(new Error("FakeListWatch: no list response queued"));
    if (next instanceof Error) return Promise.reject(next);
    return Promise.resolve(next as ListResult<T>);
  }

  watch<T extends KubeObject>(_rt: ResourceType, opts: WatchOptions, signal?: AbortSignal): AsyncIterable<WatchEvent<T>> {
    if (this.watchErrors.length > 0) {
      const error = this.watchErrors.shift();
      return {
        [Symbol.asyncIterator]: () => ({ next: () => Promise.reject(error instanceof Error ? error : new Error(String(error))) }),
      };
    }
    const stream = new FakeWatchStream(opts, signal);
    this.watches.push(stream);
    return stream as unknown as AsyncIterable<WatchEvent<T>>;
  }
}
