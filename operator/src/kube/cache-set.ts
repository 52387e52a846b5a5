// One WatchCache per resource type (and namespace/selector), shared by every controller that needs it,
// so two controllers watching Pods cost one watch, not two.
import type { Logger } from "pino";
import { WatchCache } from "./cache.js";
import type { ListWatchClient } from "./client.js";
import type { KubeObject, ResourceType } from "./resources.js";

export interface CacheFilter {
  namespace?: string;
  labelSelector?: string;
}

export class CacheSet {
  private readonly caches = new Map<string, WatchCache<KubeObject>>();

  constructor(
    private readonly client: ListWatchClient,
    private readonly logger: Logger,
  ) {}

  /** The shared cache of `rt` (created on first use; started by the first controller that starts it). */
  get<T extends KubeObject>(rt: ResourceType, filter: CacheFilter = {}): WatchCache<T> {
    const key = [rt.group, rt.version, rt.plural, filter.namespace ?? "", filter.labelSelector ?? ""].join("|");
    let cache = this.caches.get(key);
    if (cache === undefined) {
      cache = new WatchCache<KubeObject>({
        client: this.client,
        resourceType: rt,
        logger: this.logger,
        ...(filter.namespace === undefined ? {} : { namespace: filter.namespace }),
        ...(filter.labelSelector === undefined ? {} : { labelSelector: filter.labelSelector }),
      });
      this.caches.set(key, cache);
    }
    return cache as unknown as WatchCache<T>;
  }

  all(): WatchCache<KubeObject>[] {
    return [...this.caches.values()];
  }

  /** Starts every cache (idempotent) and resolves once all have synced. */
  async startAll(): Promise<void> {
    for (const cache of this.all()) cache.start();
    await Promise.all(this.all().map((c) => c.synced()));
  }

  hasSynced(): boolean {
    return this.all().every((c) => c.hasSynced());
  }

  async stopAll(): Promise<void> {
    await Promise.all(this.all().map((c) => c.stop()));
  }
}
