// Read-your-own-writes for a controller's primary objects. A reconcile can run again before the watch has
// brought the status it just wrote into the cache; computed from that stale copy, it could write an older
// status back (RESIZE after VERIFY_RESIZE, Running after Succeeded). Server-side apply has no
// resourceVersion precondition to stop that, so the controller remembers what it wrote over which version,
// and uses its own write while the cache still shows exactly that older version.
import { keyOf, type KubeObject } from "../../kube/index.js";

export class WrittenObjects<T extends KubeObject> {
  private readonly memo = new Map<string, { over: string; written: T }>();

  /** After writing: `before` is the version the write was computed from, `after` what the apiserver returned. */
  remember(before: T, after: T | undefined): void {
    if (after === undefined || after === before) return;
    const key = keyOf(before);
    const existing = this.memo.get(key);
    // Several writes in one reconcile: the cache still shows the version before the first of them.
    const over =
      existing !== undefined && existing.written.metadata.resourceVersion === before.metadata.resourceVersion
        ? existing.over
        : before.metadata.resourceVersion;
    if (over === undefined) return;
    this.memo.set(key, { over, written: after });
  }

  /** The freshest known version: our own write while the cache still shows the version it replaced. */
  current(key: string, cached: T | undefined): T | undefined {
    const entry = this.memo.get(key);
    if (entry === undefined || cached === undefined) {
      if (cached === undefined) this.memo.delete(key);
      return cached;
    }
    if (cached.metadata.resourceVersion === entry.over && cached.metadata.uid === entry.written.metadata.uid) return entry.written;
    // The cache has moved past our write (or the object was replaced): it is the truth again.
    this.memo.delete(key);
    return cached;
  }
}
