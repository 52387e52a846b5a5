// Read-your-own-writes for a controller's primary objects. A reconcile can run again before the watch has
// brought the status it just wrote into the cache; computed from that stale copy, it could write an older
// status back (RESIZE after VERIFY_RESIZE, Running after Succeeded). Server-side apply has no
// resourceVersion precondition to stop that, so the controller remembers what it wrote over which version,
// and uses its own write while the cache still shows exactly that older version.
import { keyOf, type KubeObject } from "./resources.js";

export class WrittenObjects<T extends KubeObject> {
  /** Per object: our last write, and every version it supersedes (the cache may show any of them meanwhile). */
  private readonly memo = new Map<string, { superseded: Set<string>; written: T }>();

  /** After writing: `before` is the version the write was computed from, `after` what the apiserver returned. */
  remember(before: T, after: T | undefined): void {
    if (after === undefined || after === before) return;
    const version = before.metadata.resourceVersion;
    if (version === undefined) return;
    const key = keyOf(before);
    const existing = this.memo.get(key);
    // A chain of writes (a finalizer or owner patch, then status): the watch may bring the intermediate
    // version before the last one, so every version up to our last write counts as superseded.
    const chained =
      existing !== undefined &&
      existing.written.metadata.uid === after.metadata.uid &&
      existing.written.metadata.resourceVersion === version;
    const superseded = chained ? existing.superseded : new Set<string>();
    superseded.add(version);
    this.memo.set(key, { superseded, written: after });
  }

  /** The freshest known version: our own write while the cache still shows a version it superseded. */
  current(key: string, cached: T | undefined): T | undefined {
    const entry = this.memo.get(key);
    if (entry === undefined || cached === undefined) {
      if (cached === undefined) this.memo.delete(key);
      return cached;
    }
    const version = cached.metadata.resourceVersion;
    if (version !== undefined && entry.superseded.has(version) && cached.metadata.uid === entry.written.metadata.uid) return entry.written;
    // The cache has moved past our write (or the object was replaced): it is the truth again.
    this.memo.delete(key);
    return cached;
  }
}
