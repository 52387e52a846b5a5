import { Registry } from "prom-client";
import { describe, expect, it } from "vitest";
import { withOwner } from "./apply.js";
import { WatchCache } from "./cache.js";
import {
  Controller,
  keysFromIndex,
  labelKeysFor,
  ownerKeysFor,
  ownerLabelKeysFor,
  watchOf,
  type ReconcileContext,
  type ReconcileOutcome,
} from "./controller.js";
import { silentLogger } from "./log.js";
import { createOperatorMetrics } from "./metrics.js";
import { Builtin, type KubeObject, type ResourceType } from "./resources.js";
import { FakeListWatch, ManualTimers, flush } from "./testing.js";

const serverType: ResourceType = { group: "altostack.io", version: "v1alpha1", kind: "Server", plural: "servers", namespaced: true };
const projectType: ResourceType = { group: "altostack.io", version: "v1alpha1", kind: "Project", plural: "projects", namespaced: false };

interface Server extends KubeObject {
  spec?: { flavorRef?: string };
}

const server = (name: string, rv: string, flavorRef?: string): Server => ({
  apiVersion: "altostack.io/v1alpha1",
  kind: "Server",
  metadata: { name, namespace: "p", uid: `uid-${name}`, resourceVersion: rv },
  ...(flavorRef === undefined ? {} : { spec: { flavorRef } }),
});

interface Call {
  key: string;
  object: Server | undefined;
  fieldManager: string;
  retries: number;
}

function setup(
  reconcile: (key: string, ctx: ReconcileContext<Server>) => Promise<ReconcileOutcome>,
  extra: { workers?: number; shouldEnqueueUpdate?: (a: Server, b: Server) => boolean; childUpdates?: boolean } = {},
) {
  const { childUpdates, ...controllerExtra } = extra;
  const timers = new ManualTimers();
  const source = new FakeListWatch();
  const childSource = new FakeListWatch();
  const logger = silentLogger();
  const cache = new WatchCache<Server>({ client: source, resourceType: serverType, logger, timers, watchTimeoutSeconds: () => 60 });
  const children = new WatchCache<KubeObject>({ client: childSource, resourceType: Builtin.ConfigMap, logger, timers, watchTimeoutSeconds: () => 60 });
  const registry = new Registry();
  const metrics = createOperatorMetrics(registry);
  const controller = new Controller<Server>({
    name: "server",
    cache,
    watches: [watchOf(children, ownerKeysFor(serverType), childUpdates === undefined ? {} : { updates: childUpdates })],
    reconcile,
    logger,
    metrics,
    timers,
    clock: timers,
    ...controllerExtra,
  });
  return { timers, source, childSource, cache, children, controller, registry };
}

async function metric(registry: Registry, name: string): Promise<string> {
  return registry.getSingleMetricAsString(name);
}

describe("Controller", () => {
  it("starts workers only after every cache synced, then reconciles each object with its context", async () => {
    const calls: Call[] = [];
    const t = setup((key, ctx) => {
      calls.push({ key, object: ctx.object, fieldManager: ctx.fieldManager, retries: ctx.retries });
      expect(ctx.namespace).toBe("p");
      expect(ctx.name).toBe(key.split("/")[1]);
      return Promise.resolve(undefined);
    });
    const started = t.controller.start();
    t.source.queueList([server("a", "1"), server("b", "2")], "10");
    await flush();
    expect(calls).toHaveLength(0); // the child cache's list failed; it has not synced yet
    t.childSource.queueList([], "5");
    t.timers.advance(500);
    await started;
    await flush();
    expect(calls.map((c) => c.key).sort()).toEqual(["p/a", "p/b"]);
    expect(calls[0]).toMatchObject({ fieldManager: "altostack-server", retries: 0 });
    expect(calls[0]?.object?.metadata.name).toBe(calls[0]?.key.split("/")[1]);

    t.source.lastWatch.push("MODIFIED", server("a", "11"));
    t.source.lastWatch.push("DELETED", server("b", "12"));
    await flush();
    expect(calls.slice(2).map((c) => [c.key, c.object?.metadata.resourceVersion])).toEqual([
      ["p/a", "11"],
      ["p/b", undefined],
    ]);
    expect(await metric(t.registry, "altostack_reconcile_total")).toContain('controller="server",result="success"} 4');
    await t.controller.stop();
  });

  it("retries failures with per-key backoff, counts errors, and forgets on success", async () => {
    const retriesSeen: number[] = [];
    let failuresLeft = 3;
    const t = setup((_key, ctx) => {
      retriesSeen.push(ctx.retries);
      if (failuresLeft-- > 0) return Promise.reject(new Error("apiserver said no"));
      return Promise.resolve(undefined);
    });
    t.source.queueList([server("a", "1")], "10");
    t.childSource.queueList([], "5");
    await t.controller.start();
    await flush();
    expect(retriesSeen).toEqual([0]);
    expect(t.timers.pendingDelays()).toContain(5);
    t.timers.advance(5);
    await flush();
    t.timers.advance(10);
    await flush();
    t.timers.advance(19);
    await flush();
    expect(retriesSeen).toEqual([0, 1, 2]);
    t.timers.advance(1);
    await flush();
    expect(retriesSeen).toEqual([0, 1, 2, 3]);
    expect(t.controller.queue.numRequeues("p/a")).toBe(0);
    expect(await metric(t.registry, "altostack_reconcile_errors_total")).toContain('controller="server"} 3');
    expect(await metric(t.registry, "altostack_workqueue_retries_total")).toContain('controller="server"} 3');
    expect(await metric(t.registry, "altostack_reconcile_total")).toContain('result="error"} 3');
    await t.controller.stop();
  });

  it("requeues after requeueAfterMs", async () => {
    let calls = 0;
    const t = setup(() => {
      calls++;
      return Promise.resolve(calls === 1 ? { requeueAfterMs: 30_000 } : undefined);
    });
    t.source.queueList([server("a", "1")], "10");
    t.childSource.queueList([], "5");
    await t.controller.start();
    await flush();
    expect(calls).toBe(1);
    t.timers.advance(29_999);
    await flush();
    expect(calls).toBe(1);
    t.timers.advance(1);
    await flush();
    expect(calls).toBe(2);
    expect(await metric(t.registry, "altostack_reconcile_total")).toContain('result="requeue"} 1');
    await t.controller.stop();
  });

  it("enqueues the owner when an owned child changes (old and new owner on a reference change)", async () => {
    const keys: string[] = [];
    const t = setup((key) => {
      keys.push(key);
      return Promise.resolve(undefined);
    });
    t.source.queueList([server("a", "1"), server("b", "1")], "10");
    t.childSource.queueList([], "5");
    await t.controller.start();
    await flush();
    keys.length = 0;
    const child = withOwner(Builtin.ConfigMap, { metadata: { name: "c", namespace: "p", resourceVersion: "6" } }, server("a", "1"));
    t.childSource.lastWatch.push("ADDED", child);
    await flush();
    expect(keys).toEqual(["p/a"]);
    const moved = withOwner<KubeObject>(Builtin.ConfigMap, { metadata: { name: "c", namespace: "p", resourceVersion: "7" } }, server("b", "1"));
    t.childSource.lastWatch.push("MODIFIED", { ...moved, metadata: { ...moved.metadata, ownerReferences: moved.metadata.ownerReferences?.slice(-1) } });
    await flush();
    expect(keys.slice(1).sort()).toEqual(["p/a", "p/b"]);
    await t.controller.stop();
  });

  it("a watch with updates: false enqueues when children come and go, not when they change", async () => {
    const keys: string[] = [];
    const t = setup(
      (key) => {
        keys.push(key);
        return Promise.resolve(undefined);
      },
      { childUpdates: false },
    );
    t.source.queueList([server("a", "1")], "10");
    t.childSource.queueList([], "5");
    await t.controller.start();
    await flush();
    keys.length = 0;
    const child = withOwner(Builtin.ConfigMap, { metadata: { name: "c", namespace: "p", resourceVersion: "6" } }, server("a", "1"));
    t.childSource.lastWatch.push("ADDED", child);
    await flush();
    expect(keys).toEqual(["p/a"]);
    t.childSource.lastWatch.push("MODIFIED", { ...child, metadata: { ...child.metadata, resourceVersion: "7" } });
    await flush();
    expect(keys).toEqual(["p/a"]);
    t.childSource.lastWatch.push("DELETED", { ...child, metadata: { ...child.metadata, resourceVersion: "8" } });
    await flush();
    expect(keys).toEqual(["p/a", "p/a"]);
    await t.controller.stop();
  });

  it("never reconciles one key concurrently, even with several workers", async () => {
    let active = 0;
    let maxActive = 0;
    const releases: (() => void)[] = [];
    const t = setup(
      async () => {
        active++;
        maxActive = Math.max(maxActive, active);
        await new Promise<void>((resolve) => releases.push(resolve));
        active--;
        return undefined;
      },
      { workers: 4 },
    );
    t.source.queueList([server("a", "1")], "10");
    t.childSource.queueList([], "5");
    await t.controller.start();
    await flush();
    t.source.lastWatch.push("MODIFIED", server("a", "2"));
    t.source.lastWatch.push("MODIFIED", server("a", "3"));
    await flush();
    expect(active).toBe(1);
    releases.shift()?.();
    await flush();
    // The changes during the first run collapse into exactly one more run.
    expect(active).toBe(1);
    releases.shift()?.();
    await flush();
    expect(active).toBe(0);
    expect(releases).toHaveLength(0);
    expect(maxActive).toBe(1);
    await t.controller.stop();
  });

  it("shouldEnqueueUpdate filters primary updates", async () => {
    const keys: string[] = [];
    const t = setup(
      (key) => {
        keys.push(key);
        return Promise.resolve(undefined);
      },
      { shouldEnqueueUpdate: (a, b) => a.spec?.flavorRef !== b.spec?.flavorRef },
    );
    t.source.queueList([server("a", "1", "small")], "10");
    t.childSource.queueList([], "5");
    await t.controller.start();
    await flush();
    t.source.lastWatch.push("MODIFIED", server("a", "2", "small"));
    await flush();
    expect(keys).toEqual(["p/a"]);
    t.source.lastWatch.push("MODIFIED", server("a", "3", "large"));
    await flush();
    expect(keys).toEqual(["p/a", "p/a"]);
    await t.controller.stop();
  });

  it("stop waits for the reconcile in progress, aborts its signal, and runs nothing more", async () => {
    let signal: AbortSignal | undefined;
    const releases: (() => void)[] = [];
    let calls = 0;
    const t = setup(async (_key, ctx) => {
      calls++;
      signal = ctx.signal;
      await new Promise<void>((resolve) => releases.push(resolve));
      return undefined;
    });
    t.source.queueList([server("a", "1"), server("b", "1")], "10");
    t.childSource.queueList([], "5");
    await t.controller.start();
    await flush();
    expect(calls).toBe(2);
    let stopped = false;
    const stopping = t.controller.stop().then(() => (stopped = true));
    await flush();
    expect(signal?.aborted).toBe(true);
    expect(stopped).toBe(false);
    // Both workers hold a key; it is done only when both finish.
    releases.shift()?.();
    await flush();
    expect(stopped).toBe(false);
    releases.shift()?.();
    await stopping;
    expect(stopped).toBe(true);
    t.source.lastWatch.push("MODIFIED", server("a", "2"));
    t.controller.enqueue("p/b");
    await flush();
    expect(calls).toBe(2);
  });
});

describe("mappers", () => {
  it("ownerKeysFor picks owners of the given kind and group", () => {
    const obj: KubeObject = {
      metadata: {
        name: "vm",
        namespace: "p",
        ownerReferences: [
          { apiVersion: "altostack.io/v1alpha1", kind: "Server", name: "s1", uid: "1", controller: true },
          { apiVersion: "kubevirt.io/v1", kind: "Server", name: "wrong-group", uid: "2" },
          { apiVersion: "altostack.io/v1alpha1", kind: "Port", name: "other-kind", uid: "3" },
          { apiVersion: "altostack.io/v1alpha1", kind: "Server", name: "s2", uid: "4" },
        ],
      },
    };
    expect(ownerKeysFor(serverType)(obj)).toEqual(["p/s1", "p/s2"]);
    expect(ownerKeysFor(serverType, { controllerOnly: true })(obj)).toEqual(["p/s1"]);
    const nsOwned: KubeObject = { metadata: { name: "p-x", ownerReferences: [{ apiVersion: "altostack.io/v1alpha1", kind: "Project", name: "x", uid: "9" }] } };
    expect(ownerKeysFor(projectType)(nsOwned)).toEqual(["x"]);
  });

  it("ownerLabelKeysFor reads the owner labels written by withOwner", () => {
    const role = withOwner(Builtin.ClusterRole, { metadata: { name: "r" } }, server("s1", "1"));
    expect(ownerLabelKeysFor(serverType)(role)).toEqual(["p/s1"]);
    expect(ownerLabelKeysFor(projectType)(role)).toEqual([]);
  });

  it("labelKeysFor maps a label value to a key", () => {
    const obj: KubeObject = { metadata: { name: "x", namespace: "p", labels: { "altostack.io/project": "demo" } } };
    expect(labelKeysFor("altostack.io/project", projectType)(obj)).toEqual(["demo"]);
    expect(labelKeysFor("altostack.io/server", serverType)({ metadata: { name: "y", namespace: "p", labels: { "altostack.io/server": "s" } } })).toEqual(["p/s"]);
    expect(labelKeysFor("missing", projectType)(obj)).toEqual([]);
  });

  it("keysFromIndex finds the primaries that reference an object", async () => {
    const source = new FakeListWatch();
    const cache = new WatchCache<Server>({ client: source, resourceType: serverType, logger: silentLogger(), timers: new ManualTimers() });
    cache.addIndex("flavor", (s) => (s.spec?.flavorRef === undefined ? [] : [s.spec.flavorRef]));
    source.queueList([server("a", "1", "small"), server("b", "1", "large"), server("c", "1", "small")], "1");
    cache.start();
    await cache.synced();
    const flavor: KubeObject = { metadata: { name: "small" } };
    expect(keysFromIndex(cache, "flavor", (f) => f.metadata.name)(flavor).sort()).toEqual(["p/a", "p/c"]);
    await cache.stop();
  });
});
