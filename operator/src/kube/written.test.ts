import { describe, expect, it } from "vitest";
import type { KubeObject } from "./resources.js";
import { WrittenObjects } from "./written.js";

const obj = (rv: string, note: string, uid = "u1"): KubeObject & { note: string } => ({
  metadata: { name: "a", namespace: "ns", uid, resourceVersion: rv },
  note,
});

describe("read-your-own-writes", () => {
  it("uses our write while the cache still shows the version it replaced, then trusts the cache again", () => {
    const written = new WrittenObjects<ReturnType<typeof obj>>();
    written.remember(obj("1", "cached"), obj("2", "finalizer"));
    written.remember(obj("2", "finalizer"), obj("3", "status"));
    expect(written.current("ns/a", obj("1", "cached"))?.note).toBe("status");
    expect(written.current("ns/a", obj("3", "from the watch"))?.note).toBe("from the watch");
    // The memo is gone once the cache caught up.
    expect(written.current("ns/a", obj("1", "cached"))?.note).toBe("cached");
  });

  it("keeps using our last write while the watch brings the intermediate version of a chain of writes", () => {
    const written = new WrittenObjects<ReturnType<typeof obj>>();
    written.remember(obj("1", "cached"), obj("2", "owner patched"));
    written.remember(obj("2", "owner patched"), obj("3", "status Running"));
    // The owner patch's own watch event arrives first: still older than what we wrote last.
    expect(written.current("ns/a", obj("2", "owner patched"))?.note).toBe("status Running");
    expect(written.current("ns/a", obj("1", "cached"))?.note).toBe("status Running");
    expect(written.current("ns/a", obj("3", "from the watch"))?.note).toBe("from the watch");
  });

  it("starts a new chain when a write is computed from a version it did not write", () => {
    const written = new WrittenObjects<ReturnType<typeof obj>>();
    written.remember(obj("1", "cached"), obj("2", "ours"));
    written.remember(obj("5", "someone else's"), obj("6", "ours again"));
    expect(written.current("ns/a", obj("1", "cached"))?.note).toBe("cached");
  });

  it("ignores no-op writes and replaced objects", () => {
    const written = new WrittenObjects<ReturnType<typeof obj>>();
    written.remember(obj("1", "cached"), undefined);
    expect(written.current("ns/a", obj("1", "cached"))?.note).toBe("cached");
    written.remember(obj("1", "cached"), obj("2", "status"));
    expect(written.current("ns/a", obj("1", "namesake", "u2"))?.note).toBe("namesake");
    expect(written.current("ns/a", undefined)).toBeUndefined();
  });
});
