// The facade's view of the cluster: one watch cache per kind (its own identity reads; what a caller may see is
// decided per request), indexed by uid (OpenStack ids) and namespace. Writes wait until the cache has seen
// them, so a client that creates something and GETs it at once (every `--wait`) reads its own write.
import { keyOf, type CacheSet, type KubeObject, type ResourceType, type WatchCache } from "../../kube/index.js";

const UID_INDEX = "uid";
const NAMESPACE_INDEX = "namespace";
/** How long a write waits for the cache to catch up before answering anyway. */
const DEFAULT_CATCH_UP_MS = 5_000;

export class FacadeStore {
  private readonly indexed = new Set<WatchCache<KubeObject>>();

  constructor(
    private readonly caches: CacheSet,
    private readonly catchUpMs = DEFAULT_CATCH_UP_MS,
  ) {}

  /** The shared cache of `rt`, with the uid and namespace indexes. */
  cache<T extends KubeObject>(rt: ResourceType): WatchCache<T> {
    const cache = this.caches.get<T>(rt);
    const untyped = cache as unknown as WatchCache<KubeObject>;
    if (!this.indexed.has(untyped)) {
      cache.addIndex(UID_INDEX, (o) => (o.metadata.uid === undefined ? [] : [o.metadata.uid]));
      cache.addIndex(NAMESPACE_INDEX, (o) => (o.metadata.namespace === undefined ? [] : [o.metadata.namespace]));
      this.indexed.add(untyped);
    }
    return cache;
  }

  // The caller names the object type of the cache it reads, as with CacheSet.get.
  // eslint-disable-next-line @typescript-eslint/no-unnecessary-type-parameters
  byUid<T extends KubeObject>(rt: ResourceType, uid: string): T | undefined {
    return this.cache<T>(rt).byIndex(UID_INDEX, uid)[0];
  }

  inNamespace<T extends KubeObject>(rt: ResourceType, namespace: string): T[] {
    return this.cache<T>(rt).byIndex(NAMESPACE_INDEX, namespace);
  }

  all<T extends KubeObject>(rt: ResourceType): T[] {
    return this.cache<T>(rt).list();
  }

  // eslint-disable-next-line @typescript-eslint/no-unnecessary-type-parameters
  get<T extends KubeObject>(rt: ResourceType, key: string): T | undefined {
    return this.cache<T>(rt).get(key);
  }

  /** Runs a write and returns its result once the cache holds that version of the object (or gone). */
  async write<T extends KubeObject>(rt: ResourceType, write: () => Promise<T>): Promise<T> {
    const cache = this.cache<KubeObject>(rt);
    const seen = new Set<string>();
    const record = (obj: KubeObject): void => {
      seen.add(`${keyOf(obj)}@${obj.metadata.resourceVersion ?? ""}`);
    };
    // onAdd replays the objects already cached; only what arrives from now on is of interest.
    let live = false;
    const offAdd = cache.onAdd((obj) => {
      if (live) record(obj);
    });
    live = true;
    const offUpdate = cache.onUpdate((_old, obj) => {
      record(obj);
    });
    try {
      const written = await write();
      const key = keyOf(written);
      const version = written.metadata.resourceVersion ?? "";
      await this.until(cache, () => seen.has(`${key}@${version}`) || cache.get(key)?.metadata.resourceVersion === version);
      return written;
    } finally {
      offAdd();
      offUpdate();
    }
  }

  /** Waits until the cache shows `obj` deleted or being deleted. */
  async deleted(rt: ResourceType, obj: KubeObject): Promise<void> {
    const cache = this.cache<KubeObject>(rt);
    const key = keyOf(obj);
    await this.until(cache, () => {
      const current = cache.get(key);
      return current === undefined || current.metadata.uid !== obj.metadata.uid || current.metadata.deletionTimestamp !== undefined;
    });
  }

  /** Resolves when `done()` holds (checked on every cache event) or after the catch-up time. */
  private until(cache: WatchCache<KubeObject>, done: () => boolean): Promise<void> {
    if (done()) return Promise.resolve();
    return new Promise((resolve) => {
      let settled = false;
      const unsubscribe: (() => void)[] = [];
      const finish = (): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        for (const off of unsubscribe) off();
        resolve();
      };
      const check = (): void => {
        if (done()) finish();
      };
      const timer = setTimeout(finish, this.catchUpMs);
      unsubscribe.push(cache.onUpdate(check), cache.onDelete(check));
      let replaying = true;
      unsubscribe.push(
        cache.onAdd(() => {
          if (!replaying) check();
        }),
      );
      replaying = false;
      if (settled) for (const off of unsubscribe) off();
    });
  }
}
