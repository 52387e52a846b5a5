// The controller runner: cache events become queue keys, workers reconcile keys one at a time per
// key, failures back off per key, and requeueAfter schedules a later look. Reconcilers only supply
// `reconcile`; everything else (queueing, retries, metrics, logging, shutdown) lives here.
import type { Logger } from "pino";
import { fieldManager as fieldManagerFor, ownerFromLabels } from "./apply.js";
import type { CacheSet } from "./cache-set.js";
import type { WatchCache } from "./cache.js";
import type { KubeClient } from "./client.js";
import type { EventRecorder } from "./events.js";
import { ReconcileResult, queueMetricsFor, type OperatorMetrics } from "./metrics.js";
import { WorkQueue } from "./queue.js";
import { groupOf, keyOf, objectKey, parseKey, type KubeObject, type ResourceType } from "./resources.js";
import { systemClock, type Clock, type Timers } from "./time.js";

export interface ReconcileContext<T> {
  key: string;
  namespace: string | undefined;
  name: string;
  /** The object as the cache has it now; undefined when it is gone (clean up by key). */
  object: T | undefined;
  /** Child logger with controller, kind, namespace and name. */
  log: Logger;
  /** `altostack-<controller>`, for server-side apply. */
  fieldManager: string;
  /** Aborted when the controller stops (e.g. leadership lost): stop writing soon. */
  signal: AbortSignal;
  /** How many times this key has failed in a row. */
  retries: number;
}

/** Return nothing when done; `requeueAfterMs` to look again later (only where no watch would tell us). */
export type ReconcileOutcome = { requeueAfterMs?: number } | undefined;

export type Reconciler<T> = (key: string, ctx: ReconcileContext<T>) => Promise<ReconcileOutcome>;

/** A cache whose changes enqueue keys of the controller's primary objects. */
export interface SecondaryWatch {
  readonly cache: Pick<WatchCache<KubeObject>, "start" | "synced" | "onAdd" | "onUpdate" | "onDelete">;
  /** Primary keys to reconcile when `obj` changes. Method syntax on purpose: caches of any kind fit. */
  mapToKeys(obj: KubeObject): readonly string[];
  /** Whether updates enqueue (default true). False for watches that only care that objects come and go. */
  readonly updates?: boolean;
}

/** Typed constructor for a SecondaryWatch (infers the object type of `mapToKeys` from the cache). */
export function watchOf<U extends KubeObject>(
  cache: WatchCache<U>,
  mapToKeys: (obj: U) => readonly string[],
  opts: { updates?: boolean } = {},
): SecondaryWatch {
  return {
    cache,
    mapToKeys: (obj) => mapToKeys(obj as U),
    ...(opts.updates === undefined ? {} : { updates: opts.updates }),
  };
}

/** What every reconciler's controller is built from; each adds its own settings. */
export interface ControllerDeps {
  client: KubeClient;
  caches: CacheSet;
  logger: Logger;
  metrics?: OperatorMetrics;
  now?: () => Date;
}

/** A controller that also records Events for users. */
export interface EventingControllerDeps extends ControllerDeps {
  events: EventRecorder;
}

export interface ControllerOptions<T extends KubeObject> {
  /** Short name, e.g. "server": field manager `altostack-server`, metrics label, log field. */
  name: string;
  cache: WatchCache<T>;
  watches?: readonly SecondaryWatch[];
  reconcile: Reconciler<T>;
  /** Parallel workers (distinct keys only). Default 2. */
  workers?: number;
  logger: Logger;
  metrics?: OperatorMetrics;
  /** Which updates of primary objects enqueue them. Default: every update. */
  shouldEnqueueUpdate?: (oldObj: T, newObj: T) => boolean;
  timers?: Timers;
  clock?: Clock;
  /** Per-key retry backoff: base (default 5 ms) doubling to max (default 5 min). */
  backoff?: { baseDelayMs?: number; maxDelayMs?: number };
}

/** What an operator needs to run controllers of different kinds side by side (Controller<X> for any X fits). */
export interface Runnable {
  readonly name: string;
  start(): Promise<void>;
  stop(): Promise<void>;
}

export class Controller<T extends KubeObject> implements Runnable {
  readonly name: string;
  readonly fieldManager: string;
  readonly queue: WorkQueue;
  private readonly opts: ControllerOptions<T>;
  private readonly log: Logger;
  private readonly clock: Clock;
  private readonly stopController = new AbortController();
  private readonly unsubscribes: (() => void)[] = [];
  private workers: Promise<void>[] = [];
  private started = false;

  constructor(opts: ControllerOptions<T>) {
    this.opts = opts;
    this.name = opts.name;
    this.fieldManager = fieldManagerFor(opts.name);
    this.log = opts.logger.child({ controller: opts.name });
    this.clock = opts.clock ?? systemClock;
    this.queue = new WorkQueue({
      timers: opts.timers,
      clock: opts.clock,
      baseDelayMs: opts.backoff?.baseDelayMs,
      maxDelayMs: opts.backoff?.maxDelayMs,
      metrics: opts.metrics === undefined ? undefined : queueMetricsFor(opts.metrics, opts.name),
    });
  }

  /**
   * Subscribes to the caches, starts them (idempotent; caches may be shared), waits until all have
   * synced, then starts the workers. Resolves once workers run, or early if stop() is called.
   */
  async start(): Promise<void> {
    if (this.started) throw new Error(`controller ${this.name} already started`);
    this.started = true;
    const { cache } = this.opts;
    const enqueueObject = (obj: T): void => {
      this.queue.add(keyOf(obj));
    };
    const shouldEnqueue = this.opts.shouldEnqueueUpdate ?? (() => true);
    this.unsubscribes.push(
      cache.onAdd(enqueueObject),
      cache.onUpdate((oldObj, newObj) => {
        if (shouldEnqueue(oldObj, newObj)) enqueueObject(newObj);
      }),
      cache.onDelete(enqueueObject),
    );
    for (const watch of this.opts.watches ?? []) {
      const enqueueMapped = (obj: KubeObject): void => {
        let keys: readonly string[];
        try {
          keys = watch.mapToKeys(obj);
        } catch (e) {
          this.log.error({ err: e }, "mapToKeys threw");
          return;
        }
        for (const key of keys) this.queue.add(key);
      };
      this.unsubscribes.push(
        watch.cache.onAdd(enqueueMapped),
        // Both versions: a changed reference must reach the old and the new primary.
        watch.cache.onUpdate((oldObj, newObj) => {
          if (watch.updates === false) return;
          enqueueMapped(oldObj);
          enqueueMapped(newObj);
        }),
        watch.cache.onDelete(enqueueMapped),
      );
    }

    const caches = [cache, ...(this.opts.watches ?? []).map((w) => w.cache)];
    for (const c of caches) c.start();
    const stopped = new Promise<"stopped">((resolve) => {
      this.stopController.signal.addEventListener("abort", () => {
        resolve("stopped");
      });
    });
    try {
      const outcome = await Promise.race([Promise.all(caches.map((c) => c.synced())).then(() => "synced"), stopped]);
      if (outcome === "stopped") return;
    } catch (e) {
      if (this.stopController.signal.aborted) return;
      throw new Error(`controller ${this.name}: caches did not sync`, { cause: e });
    }
    const count = Math.max(1, this.opts.workers ?? 2);
    this.log.info({ workers: count }, "caches synced; starting workers");
    this.workers = Array.from({ length: count }, () => this.work());
  }

  /** Enqueues a key by hand (e.g. from the facade after a write). */
  enqueue(key: string): void {
    this.queue.add(key);
  }

  /** Stops taking keys, aborts `ctx.signal`, and waits for reconciles in progress to finish. */
  async stop(): Promise<void> {
    this.stopController.abort();
    for (const unsubscribe of this.unsubscribes.splice(0)) unsubscribe();
    await this.queue.shutdown();
    await Promise.all(this.workers);
    this.log.info("stopped");
  }

  private async work(): Promise<void> {
    for (;;) {
      const key = await this.queue.get();
      if (key === undefined) return;
      await this.process(key);
    }
  }

  private async process(key: string): Promise<void> {
    const { namespace, name } = parseKey(key);
    const started = this.clock.now();
    const log = this.log.child({
      kind: this.opts.cache.resourceType.kind,
      ...(namespace === undefined ? {} : { namespace }),
      name,
    });
    const ctx: ReconcileContext<T> = {
      key,
      namespace,
      name,
      object: this.opts.cache.get(key),
      log,
      fieldManager: this.fieldManager,
      signal: this.stopController.signal,
      retries: this.queue.numRequeues(key),
    };
    let result: ReconcileResult = ReconcileResult.Success;
    try {
      const outcome = await this.opts.reconcile(key, ctx);
      this.queue.forget(key);
      const after = outcome?.requeueAfterMs;
      if (after !== undefined && after > 0) {
        result = ReconcileResult.Requeue;
        this.queue.addAfter(key, after);
      }
    } catch (e) {
      result = ReconcileResult.Error;
      if (this.stopController.signal.aborted) {
        log.debug({ err: e }, "reconcile interrupted by shutdown");
      } else {
        log.error({ err: e, retries: ctx.retries }, "reconcile failed; retrying with backoff");
        this.opts.metrics?.reconcileErrors.inc({ controller: this.name });
      }
      this.queue.addRateLimited(key);
    } finally {
      this.queue.done(key);
      const seconds = (this.clock.now() - started) / 1000;
      this.opts.metrics?.reconcileDuration.observe({ controller: this.name }, seconds);
      this.opts.metrics?.reconcileTotal.inc({ controller: this.name, result });
    }
  }
}

// ---- standard mappers for SecondaryWatch.mapToKeys ----

/** Keys of the object's owners of the given type (from ownerReferences). */
export function ownerKeysFor(
  ownerType: ResourceType,
  opts: { controllerOnly?: boolean } = {},
): (obj: KubeObject) => string[] {
  return (obj) =>
    (obj.metadata.ownerReferences ?? [])
      .filter(
        (ref) =>
          ref.kind === ownerType.kind &&
          groupOf(ref.apiVersion) === ownerType.group &&
          (opts.controllerOnly !== true || ref.controller === true),
      )
      .map((ref) => objectKey(ownerType.namespaced ? obj.metadata.namespace : undefined, ref.name));
}

/** Key of the owner named by altostack.io/owner-* labels (children that cannot hold an ownerReference). */
export function ownerLabelKeysFor(ownerType: ResourceType): (obj: KubeObject) => string[] {
  return (obj) => {
    const owner = ownerFromLabels(obj);
    if (owner?.kind !== ownerType.kind) return [];
    return [objectKey(ownerType.namespaced ? owner.namespace : undefined, owner.name)];
  };
}

/** Key named by a label's value, e.g. `altostack.io/project` → the Project (cluster-scoped). */
export function labelKeysFor(labelKey: string, target: ResourceType): (obj: KubeObject) => string[] {
  return (obj) => {
    const value = obj.metadata.labels?.[labelKey];
    if (value === undefined || value === "") return [];
    return [objectKey(target.namespaced ? obj.metadata.namespace : undefined, value)];
  };
}

/**
 * Keys of primaries that reference `obj`, found through an index on the primary cache, e.g. a
 * Flavor change enqueues the Servers indexed under that flavor: `keysFromIndex(servers, "flavor", f => f.metadata.name)`.
 */
export function keysFromIndex<P extends KubeObject>(
  primary: Pick<WatchCache<P>, "byIndex">,
  indexName: string,
  valueOf: (obj: KubeObject) => string | undefined = keyOf,
): (obj: KubeObject) => string[] {
  return (obj) => {
    const value = valueOf(obj);
    return value === undefined ? [] : primary.byIndex(indexName, value).map(keyOf);
  };
}
