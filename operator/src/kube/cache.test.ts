import { describe, expect, it } from "vitest";
import { WatchCache, byField, byLabel, byNamespace, byOwnerUid, namespacedValue } from "./cache.js";
import { KubeApiError, KubeRequestError } from "./errors.js";
import { silentLogger } from "./log.js";
import { Builtin, type KubeObject } from "./resources.js";
import { FakeListWatch, ManualTimers, flush } from "./testing.js";

interface Thing extends KubeObject {
  spec?: { ref?: string };
}

const thing = (name: string, rv: string, extra: Partial<Thing["metadata"]> = {}, ref?: string): Thing => ({
  apiVersion: "v1",
  kind: "ConfigMap",
  metadata: { name, namespace: "ns", resourceVersion: rv, ...extra },
  ...(ref === undefined ? {} : { spec: { ref } }),
});

type Seen = [string, string, string?];

function setup(opts: { namespace?: string } = {}) {
  const source = new FakeListWatch();
  const timers = new ManualTimers();
  const cache = new WatchCache<Thing>({
    client: source,
    resourceType: Builtin.ConfigMap,
    logger: silentLogger(),
    timers,
    backoff: { initialMs: 100, maxMs: 1_000 },
    watchTimeoutSeconds: () => 300,
    ...opts,
  });
  const seen: Seen[] = [];
  cache.onAdd((o) => seen.push(["add", o.metadata.name ?? "", o.metadata.resourceVersion]));
  cache.onUpdate((old, o) => seen.push(["update", o.metadata.name ?? "", `${old.metadata.resourceVersion}->${o.metadata.resourceVersion}`]));
  cache.onDelete((o) => seen.push(["delete", o.metadata.name ?? "", o.metadata.resourceVersion]));
  return { source, timers, cache, seen };
}

describe("WatchCache", () => {
  it("lists, then watches from the list's resourceVersion with bookmarks", async () => {
    const { source, cache, seen } = setup({ namespace: "ns" });
    source.queueList([thing("a", "1"), thing("b", "2")], "10");
    cache.start();
    await cache.synced();
    await flush();
    expect(cache.hasSynced()).toBe(true);
    expect(source.listCalls[0]).toMatchObject({ namespace: "ns" });
    expect(source.lastWatch.opts).toMatchObject({ resourceVersion: "10", allowWatchBookmarks: true, namespace: "ns", timeoutSeconds: 300 });
    expect(seen).toEqual([
      ["add", "a", "1"],
      ["add", "b", "2"],
    ]);

    source.lastWatch.push("ADDED", thing("c", "11"));
    source.lastWatch.push("MODIFIED", thing("a", "12"));
    source.lastWatch.push("DELETED", thing("b", "13"));
    await flush();
    expect(seen.slice(2)).toEqual([
      ["add", "c", "11"],
      ["update", "a", "1->12"],
      ["delete", "b", "13"],
    ]);
    expect(cache.get("ns/a")?.metadata.resourceVersion).toBe("12");
    expect(cache.get("ns/b")).toBeUndefined();
    expect(cache.keys().sort()).toEqual(["ns/a", "ns/c"]);
    expect(cache.list("ns")).toHaveLength(2);
    expect(cache.list("other")).toHaveLength(0);
    expect(cache.resourceVersion).toBe("13");
    await cache.stop();
  });

  it("ignores redeliveries of a version it already has, and deletes of unknown objects", async () => {
    const { source, cache, seen } = setup();
    source.queueList([thing("a", "1")], "10");
    cache.start();
    await cache.synced();
    await flush();
    source.lastWatch.push("ADDED", thing("a", "1"));
    source.lastWatch.push("MODIFIED", thing("a", "1"));
    source.lastWatch.push("DELETED", thing("zz", "11"));
    await flush();
    expect(seen).toEqual([["add", "a", "1"]]);
    await cache.stop();
  });

  it("reconnects from the last resourceVersion (bookmarks included) when the server ends the watch", async () => {
    const { source, cache, seen } = setup();
    source.queueList([], "10");
    cache.start();
    await flush();
    source.lastWatch.push("ADDED", thing("a", "11"));
    source.lastWatch.push("BOOKMARK", { metadata: { resourceVersion: "20" } });
    source.lastWatch.end();
    await flush();
    expect(source.watches).toHaveLength(2);
    expect(source.lastWatch.opts.resourceVersion).toBe("20");
    expect(source.listCalls).toHaveLength(1);
    // The new watch replays nothing we have not seen; a redelivered version is not an event.
    source.lastWatch.push("MODIFIED", thing("a", "11"));
    await flush();
    expect(seen).toEqual([["add", "a", "11"]]);
    await cache.stop();
  });

  it("relists after a 410 ERROR event and emits synthetic events for the differences", async () => {
    const { source, cache, seen } = setup();
    source.queueList([thing("keep", "1"), thing("change", "2"), thing("gone", "3")], "10");
    cache.start();
    await flush();
    seen.length = 0;
    source.lastWatch.push("MODIFIED", thing("keep", "11"));
    source.queueList([thing("keep", "11"), thing("change", "25"), thing("new", "26")], "30");
    source.lastWatch.pushError({ kind: "Status", code: 410, reason: "Expired", message: "too old resource version" });
    await flush();
    expect(source.listCalls).toHaveLength(2);
    expect(seen).toEqual([
      ["update", "keep", "1->11"],
      ["update", "change", "2->25"],
      ["add", "new", "26"],
      // Deleted while we were not watching: reported with the last state we knew.
      ["delete", "gone", "3"],
    ]);
    expect(source.lastWatch.opts.resourceVersion).toBe("30");
    expect(cache.keys().sort()).toEqual(["ns/change", "ns/keep", "ns/new"]);
    await cache.stop();
  });

  it("relists when the watch request itself answers 410", async () => {
    const { source, timers, cache } = setup();
    source.queueList([], "10");
    source.failNextWatch(new KubeApiError({ statusCode: 410, reason: "Gone", message: "gone" }));
    source.queueList([thing("a", "40")], "40");
    cache.start();
    await flush();
    // A 410 right after a fresh list made no progress, so the relist waits out the first backoff step.
    expect(source.listCalls).toHaveLength(1);
    timers.advance(100);
    await flush();
    expect(source.listCalls).toHaveLength(2);
    expect(cache.get("ns/a")).toBeDefined();
    expect(source.lastWatch.opts.resourceVersion).toBe("40");
    await cache.stop();
  });

  it("backs off exponentially (capped) on failures and resets after a healthy watch", async () => {
    const { source, timers, cache } = setup();
    source.queueList([], "10");
    const broken = new KubeRequestError("connection refused", "GET", "/api/v1/configmaps");
    for (let i = 0; i < 6; i++) source.failNextWatch(broken);
    cache.start();
    const delays: number[] = [];
    for (let i = 0; i < 6; i++) {
      await flush();
      delays.push(...timers.pendingDelays());
      timers.advance(timers.pendingDelays()[0] ?? 0);
    }
    expect(delays).toEqual([100, 200, 400, 800, 1_000, 1_000]);
    await flush();
    // The seventh watch connects; an event proves it healthy, so when it breaks the cache
    // reconnects at once, and a failure after that starts the backoff over.
    const healthy = source.lastWatch;
    healthy.push("ADDED", thing("a", "11"));
    await flush();
    healthy.fail(broken);
    await flush();
    expect(timers.pendingDelays()).toEqual([]);
    expect(source.lastWatch).not.toBe(healthy);
    expect(source.lastWatch.opts.resourceVersion).toBe("11");
    source.lastWatch.fail(broken);
    await flush();
    expect(timers.pendingDelays()).toEqual([100]);
    await cache.stop();
  });

  it("retries a failed initial list and only then reports synced", async () => {
    const { source, timers, cache } = setup();
    source.queueListError(new Error("apiserver down"));
    source.queueList([thing("a", "1")], "5");
    cache.start();
    let synced = false;
    void cache.synced().then(() => (synced = true));
    await flush();
    expect(synced).toBe(false);
    expect(cache.hasSynced()).toBe(false);
    timers.advance(100);
    await flush();
    expect(synced).toBe(true);
    expect(cache.size).toBe(1);
    await cache.stop();
  });

  it("stop ends the watch; synced() rejects when stopped before syncing", async () => {
    const { source, cache } = setup();
    source.queueList([], "1");
    cache.start();
    await flush();
    await cache.stop();
    expect(source.lastWatch.closed).toBe(true);

    const never = setup();
    never.source.queueListError(new Error("down"));
    never.cache.start();
    await flush();
    const synced = never.cache.synced();
    await never.cache.stop();
    await expect(synced).rejects.toThrow(/stopped before it synced/);
  });

  it("maintains indexes across adds, updates and deletes", async () => {
    const { source, cache } = setup();
    source.queueList(
      [
        thing("a", "1", { labels: { tier: "web" }, ownerReferences: [{ apiVersion: "v1", kind: "X", name: "o", uid: "u1" }] }, "flavor-1"),
        thing("b", "2", { labels: { tier: "db" } }, "flavor-1"),
      ],
      "10",
    );
    cache.addIndex("owner", byOwnerUid);
    cache.addIndex("tier", byLabel("tier"));
    cache.start();
    await flush();
    // An index added after objects arrived covers them too.
    cache.addIndex("flavor", byField((t: Thing) => t.spec?.ref));
    cache.addIndex("namespace", byNamespace);
    const names = (objs: Thing[]) => objs.map((o) => o.metadata.name).sort();

    expect(names(cache.byIndex("owner", "u1"))).toEqual(["a"]);
    expect(names(cache.byIndex("tier", "web"))).toEqual(["a"]);
    expect(names(cache.byIndex("flavor", "flavor-1"))).toEqual(["a", "b"]);
    expect(names(cache.byIndex("namespace", "ns"))).toEqual(["a", "b"]);

    source.lastWatch.push("MODIFIED", thing("a", "11", { labels: { tier: "db" } }, "flavor-2"));
    await flush();
    expect(cache.byIndex("owner", "u1")).toEqual([]);
    expect(names(cache.byIndex("tier", "db"))).toEqual(["a", "b"]);
    expect(names(cache.byIndex("flavor", "flavor-1"))).toEqual(["b"]);
    expect(names(cache.byIndex("flavor", "flavor-2"))).toEqual(["a"]);

    source.lastWatch.push("DELETED", thing("b", "12"));
    await flush();
    expect(cache.byIndex("flavor", "flavor-1")).toEqual([]);
    expect(names(cache.byIndex("namespace", "ns"))).toEqual(["a"]);
    expect(() => cache.byIndex("nope", "x")).toThrow(/no index nope/);
    expect(() => {
      cache.addIndex("owner", byOwnerUid);
    }).toThrow(/already exists/);
    await cache.stop();
  });

  it("replays existing objects to late onAdd subscribers; unsubscribed or throwing handlers do not interfere", async () => {
    const { source, cache } = setup();
    source.queueList([thing("a", "1")], "10");
    cache.start();
    await flush();
    const late: string[] = [];
    const unsubscribe = cache.onAdd((o) => late.push(o.metadata.name ?? ""));
    expect(late).toEqual(["a"]);
    cache.onAdd(() => {
      throw new Error("handler bug");
    });
    const after: string[] = [];
    cache.onAdd((o) => after.push(o.metadata.name ?? ""));
    unsubscribe();
    source.lastWatch.push("ADDED", thing("b", "11"));
    await flush();
    expect(late).toEqual(["a"]);
    expect(after).toEqual(["a", "b"]);
    expect(cache.get("ns/b")).toBeDefined();
    await cache.stop();
  });
});

describe("index helpers", () => {
  it.each([
    ["byOwnerUid", byOwnerUid(thing("a", "1", { ownerReferences: [{ apiVersion: "v1", kind: "K", name: "o", uid: "u1" }, { apiVersion: "v1", kind: "K", name: "p", uid: "u2" }] })), ["u1", "u2"]],
    ["byOwnerUid without owners", byOwnerUid(thing("a", "1")), []],
    ["byNamespace", byNamespace(thing("a", "1")), ["ns"]],
    ["byNamespace cluster-scoped", byNamespace({ metadata: { name: "n" } }), []],
    ["byLabel present", byLabel("x")(thing("a", "1", { labels: { x: "1" } })), ["1"]],
    ["byLabel absent", byLabel("x")(thing("a", "1")), []],
    ["byField string", byField((t: Thing) => t.spec?.ref)(thing("a", "1", {}, "r")), ["r"]],
    ["byField empty", byField((t: Thing) => t.spec?.ref)(thing("a", "1", {}, "")), []],
    ["byField list", byField(() => ["x", undefined, "", "y"])(thing("a", "1")), ["x", "y"]],
  ] as const)("%s", (_name, actual, expected) => {
    expect(actual).toEqual(expected);
  });

  it("namespacedValue matches cache keys", () => {
    expect(namespacedValue("ns", "a")).toBe("ns/a");
    expect(namespacedValue(undefined, "a")).toBe("a");
  });
});
