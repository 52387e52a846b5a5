import { describe, expect, it } from "vitest";
import { CacheSet } from "./cache-set.js";
import { silentLogger } from "./log.js";
import { Builtin } from "./resources.js";
import { FakeListWatch, flush } from "./testing.js";

describe("CacheSet", () => {
  it("shares one cache per type and filter, and reports sync over all of them", async () => {
    const source = new FakeListWatch();
    const caches = new CacheSet(source, silentLogger());
    const pods = caches.get(Builtin.Pod);
    expect(caches.get(Builtin.Pod)).toBe(pods);
    const labelled = caches.get(Builtin.Pod, { labelSelector: "a=b" });
    expect(labelled).not.toBe(pods);
    expect(caches.get(Builtin.Pod, { namespace: "x" })).not.toBe(pods);
    expect(caches.all()).toHaveLength(3);

    for (let i = 0; i < 3; i++) source.queueList([], "1");
    expect(caches.hasSynced()).toBe(false);
    await caches.startAll();
    expect(caches.hasSynced()).toBe(true);
    expect(source.listCalls.map((c) => c.labelSelector ?? c.namespace ?? "")).toEqual(["", "a=b", "x"]);
    await flush();
    await caches.stopAll();
    expect(source.watches.every((w) => w.closed)).toBe(true);
  });
});
