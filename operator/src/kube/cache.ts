// WatchCache: an informer. Lists, then watches from the list's resourceVersion (with bookmarks),
// keeps an indexed in-memory store, and tells handlers about adds, updates and deletes. After a
// 410 Gone it relists and reports the differences as synthetic events, so consumers see every
// change exactly once across watch restarts.
import type { Logger } from "pino";
import type { ListWatchClient, WatchEvent } from "./client.js";
import { KubeApiError, isGone } from "./errors.js";
import { keyOf, type KubeObject, type ResourceType } from "./resources.js";
import { exponentialBackoff, sleep, systemTimers, type Timers } from "./time.js";

/** Maps an object to the index values it should be found under. */
export type IndexFn<T> = (obj: T) => readonly string[];

export type AddHandler<T> = (obj: T) => void;
export type UpdateHandler<T> = (oldObj: T, newObj: T) => void;
export type DeleteHandler<T> = (obj: T) => void;

export interface WatchCacheOptions {
  client: ListWatchClient;
  resourceType: ResourceType;
  logger: Logger;
  /** Watch one namespace only; all namespaces when omitted. */
  namespace?: string;
  labelSelector?: string;
  fieldSelector?: string;
  timers?: Timers;
  /** Reconnect backoff after failures: initial delay (default 500 ms) doubling up to max (default 30 s). */
  backoff?: { initialMs?: number; maxMs?: number };
  /** Server-side watch duration; defaults to a random 5–10 min so caches don't reconnect in lockstep. */
  watchTimeoutSeconds?: () => number;
  /** Items per list page. Default 500. */
  pageSize?: number;
}

interface Index<T> {
  fn: IndexFn<T>;
  keysByValue: Map<string, Set<string>>;
  valuesByKey: Map<string, readonly string[]>;
}

interface CycleOutcome {
  /** At least one watch event arrived: the connection was healthy. */
  progressed: boolean;
  /** Ended by an error (including 410) rather than by the server closing the stream. */
  failed: boolean;
}

export class WatchCache<T extends KubeObject> {
  readonly resourceType: ResourceType;
  private readonly client: ListWatchClient;
  private readonly log: Logger;
  private readonly timers: Timers;
  private readonly initialBackoffMs: number;
  private readonly maxBackoffMs: number;
  private readonly watchTimeoutSeconds: () => number;
  private readonly opts: WatchCacheOptions;

  private readonly store = new Map<string, T>();
  private readonly indexes = new Map<string, Index<T>>();
  private readonly addHandlers = new Set<AddHandler<T>>();
  private readonly updateHandlers = new Set<UpdateHandler<T>>();
  private readonly deleteHandlers = new Set<DeleteHandler<T>>();

  private readonly stopController = new AbortController();
  private loop: Promise<void> | undefined;
  private needsList = true;
  private lastResourceVersion = "";
  private isSynced = false;
  private readonly syncedPromise: Promise<void>;
  private resolveSynced!: () => void;
  private rejectSynced!: (e: Error) => void;

  constructor(opts: WatchCacheOptions) {
    this.opts = opts;
    this.client = opts.client;
    this.resourceType = opts.resourceType;
    this.log = opts.logger.child({ cache: opts.resourceType.kind, namespace: opts.namespace });
    this.timers = opts.timers ?? systemTimers;
    this.initialBackoffMs = opts.backoff?.initialMs ?? 500;
    this.maxBackoffMs = opts.backoff?.maxMs ?? 30_000;
    this.watchTimeoutSeconds = opts.watchTimeoutSeconds ?? (() => 300 + Math.floor(Math.random() * 300));
    this.syncedPromise = new Promise<void>((resolve, reject) => {
      this.resolveSynced = resolve;
      this.rejectSynced = reject;
    });
    // Nobody may be waiting when stop() rejects it; that must not be an unhandled rejection.
    this.syncedPromise.catch(() => undefined);
  }

  /** Starts listing and watching. Idempotent, so caches shared by several controllers can all call it. */
  start(): void {
    if (this.loop !== undefined) return;
    if (this.stopController.signal.aborted) throw new Error(`${this.resourceType.kind} cache was stopped`);
    this.loop = this.run();
  }

  /** Resolves once the first list is in the store; rejects if the cache is stopped before that. */
  synced(): Promise<void> {
    return this.syncedPromise;
  }

  hasSynced(): boolean {
    return this.isSynced;
  }

  /** The resourceVersion the cache is up to date with. */
  get resourceVersion(): string {
    return this.lastResourceVersion;
  }

  async stop(): Promise<void> {
    this.stopController.abort();
    if (!this.isSynced) this.rejectSynced(new Error(`${this.resourceType.kind} cache stopped before it synced`));
    await this.loop;
  }

  // ---- reads (returned objects are shared with the cache: never mutate them) ----

  /** By key: `namespace/name`, or `name` for cluster-scoped objects. */
  get(key: string): T | undefined {
    return this.store.get(key);
  }

  list(namespace?: string): T[] {
    const all = [...this.store.values()];
    return namespace === undefined ? all : all.filter((o) => o.metadata.namespace === namespace);
  }

  keys(): string[] {
    return [...this.store.keys()];
  }

  get size(): number {
    return this.store.size;
  }

  /** Adds an index; existing objects are indexed at once. */
  addIndex(name: string, fn: IndexFn<T>): void {
    if (this.indexes.has(name)) throw new Error(`index ${name} already exists on the ${this.resourceType.kind} cache`);
    const index: Index<T> = { fn, keysByValue: new Map(), valuesByKey: new Map() };
    this.indexes.set(name, index);
    for (const [key, obj] of this.store) this.indexObject(index, key, obj);
  }

  byIndex(name: string, value: string): T[] {
    const index = this.indexes.get(name);
    if (index === undefined) throw new Error(`no index ${name} on the ${this.resourceType.kind} cache`);
    const keys = index.keysByValue.get(value);
    if (keys === undefined) return [];
    const result: T[] = [];
    for (const key of keys) {
      const obj = this.store.get(key);
      if (obj !== undefined) result.push(obj);
    }
    return result;
  }

  // ---- handlers (each returns an unsubscribe function) ----

  /** Also called at once for every object already in the store, so late subscribers miss nothing. */
  onAdd(handler: AddHandler<T>): () => void {
    this.addHandlers.add(handler);
    for (const obj of this.store.values()) this.call(() => { handler(obj); });
    return () => this.addHandlers.delete(handler);
  }

  onUpdate(handler: UpdateHandler<T>): () => void {
    this.updateHandlers.add(handler);
    return () => this.updateHandlers.delete(handler);
  }

  onDelete(handler: DeleteHandler<T>): () => void {
    this.deleteHandlers.add(handler);
    return () => this.deleteHandlers.delete(handler);
  }

  // ---- list/watch loop ----

  private async run(): Promise<void> {
    const signal = this.stopController.signal;
    let failures = 0;
    while (!signal.aborted) {
      const outcome = await this.cycle(signal);
      if (signal.aborted) break;
      if (outcome.progressed) failures = 0;
      // A healthy watch that ended (server timeout, or 410 after events) reconnects at once;
      // anything else backs off so a broken apiserver is not hammered.
      if (outcome.progressed) continue;
      const delay = exponentialBackoff(failures, this.initialBackoffMs, this.maxBackoffMs);
      failures++;
      this.log.debug({ delayMs: delay, failed: outcome.failed }, "watch reconnect backoff");
      await sleep(delay, this.timers, signal);
    }
  }

  private async cycle(signal: AbortSignal): Promise<CycleOutcome> {
    let progressed = false;
    try {
      if (this.needsList) await this.relist(signal);
      const stream = this.client.watch<T>(
        this.resourceType,
        {
          namespace: this.opts.namespace,
          labelSelector: this.opts.labelSelector,
          fieldSelector: this.opts.fieldSelector,
          resourceVersion: this.lastResourceVersion,
          allowWatchBookmarks: true,
          timeoutSeconds: this.watchTimeoutSeconds(),
        },
        signal,
      );
      for await (const event of stream) {
        if (signal.aborted) break;
        progressed = true;
        this.applyEvent(event);
      }
      return { progressed, failed: false };
    } catch (e) {
      if (signal.aborted) return { progressed, failed: false };
      if (isGone(e)) {
        this.log.info({ resourceVersion: this.lastResourceVersion }, "resourceVersion too old; relisting");
        this.needsList = true;
      } else {
        this.log.warn({ err: e }, "list/watch failed; retrying");
      }
      return { progressed, failed: true };
    }
  }

  private async relist(signal: AbortSignal): Promise<void> {
    const list = await this.client.listAll<T>(this.resourceType, {
      namespace: this.opts.namespace,
      labelSelector: this.opts.labelSelector,
      fieldSelector: this.opts.fieldSelector,
      pageSize: this.opts.pageSize,
      signal,
    });
    if (signal.aborted) return;
    this.replaceAll(list.items);
    this.lastResourceVersion = list.resourceVersion;
    this.needsList = false;
    if (!this.isSynced) {
      this.isSynced = true;
      this.log.debug({ count: this.store.size, resourceVersion: list.resourceVersion }, "cache synced");
      this.resolveSynced();
    }
  }

  private applyEvent(event: WatchEvent<T>): void {
    switch (event.type) {
      case "ADDED":
      case "MODIFIED":
        this.upsert(event.object);
        break;
      case "DELETED":
        this.remove(keyOf(event.object), event.object);
        break;
      case "BOOKMARK":
        break;
      case "ERROR":
        // Thrown so the loop handles it like a failed request (410 → relist, else backoff).
        throw KubeApiError.fromStatus(event.object);
    }
    const rv = event.object.metadata.resourceVersion;
    if (rv !== undefined && rv !== "") this.lastResourceVersion = rv;
  }

  /** Makes the store equal to a fresh list, emitting only real differences. */
  private replaceAll(items: readonly T[]): void {
    const present = new Set<string>();
    for (const item of items) {
      present.add(keyOf(item));
      this.upsert(item);
    }
    for (const [key, last] of [...this.store]) {
      // Deleted while we were not watching: consumers get the last state we knew.
      if (!present.has(key)) this.remove(key, last);
    }
  }

  private upsert(obj: T): void {
    const key = keyOf(obj);
    const old = this.store.get(key);
    // Same resourceVersion: a redelivery (relist or restarted watch), not a change.
    if (old !== undefined && old.metadata.resourceVersion === obj.metadata.resourceVersion) return;
    this.store.set(key, obj);
    for (const index of this.indexes.values()) this.indexObject(index, key, obj);
    if (old === undefined) {
      for (const handler of this.addHandlers) this.call(() => { handler(obj); });
    } else {
      for (const handler of this.updateHandlers) this.call(() => { handler(old, obj); });
    }
  }

  private remove(key: string, finalState: T): void {
    if (!this.store.has(key)) return;
    this.store.delete(key);
    for (const index of this.indexes.values()) this.unindexObject(index, key);
    for (const handler of this.deleteHandlers) this.call(() => { handler(finalState); });
  }

  private indexObject(index: Index<T>, key: string, obj: T): void {
    this.unindexObject(index, key);
    let values: readonly string[];
    try {
      values = [...new Set(index.fn(obj))];
    } catch (e) {
      this.log.error({ err: e, key }, "index function threw; object not indexed");
      return;
    }
    index.valuesByKey.set(key, values);
    for (const value of values) {
      let keys = index.keysByValue.get(value);
      if (keys === undefined) {
        keys = new Set();
        index.keysByValue.set(value, keys);
      }
      keys.add(key);
    }
  }

  private unindexObject(index: Index<T>, key: string): void {
    const previous = index.valuesByKey.get(key);
    if (previous === undefined) return;
    index.valuesByKey.delete(key);
    for (const value of previous) {
      const keys = index.keysByValue.get(value);
      keys?.delete(key);
      if (keys?.size === 0) index.keysByValue.delete(value);
    }
  }

  /** A throwing handler must not break the watch loop or starve the other handlers. */
  private call(fn: () => void): void {
    try {
      fn();
    } catch (e) {
      this.log.error({ err: e }, "cache event handler threw");
    }
  }
}

// ---- standard index functions ----

/** UIDs of the object's owners. */
export const byOwnerUid: IndexFn<KubeObject> = (obj) => (obj.metadata.ownerReferences ?? []).map((ref) => ref.uid);

export const byNamespace: IndexFn<KubeObject> = (obj) =>
  obj.metadata.namespace === undefined ? [] : [obj.metadata.namespace];

/** The value of one label (objects without the label are not indexed). */
export const byLabel =
  (labelKey: string): IndexFn<KubeObject> =>
  (obj) => {
    const value = obj.metadata.labels?.[labelKey];
    return value === undefined ? [] : [value];
  };

/**
 * Any derived value(s), e.g. servers by flavorRef: `byField((s: Server) => s.spec.flavorRef)`.
 * For namespaced references, include the namespace in the value (see `namespacedValue`).
 */
export const byField =
  <T>(fn: (obj: T) => string | readonly (string | undefined)[] | undefined | null): IndexFn<T> =>
  (obj) => {
    const raw = fn(obj);
    if (raw === undefined || raw === null) return [];
    if (typeof raw === "string") return raw === "" ? [] : [raw];
    return raw.filter((v): v is string => v !== undefined && v !== "");
  };

/** `namespace/value`, the shape to index same-namespace references under (matches cache keys). */
export function namespacedValue(namespace: string | undefined, value: string): string {
  return namespace === undefined || namespace === "" ? value : `${namespace}/${value}`;
}
