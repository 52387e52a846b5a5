// The kube plumbing against a real kube-apiserver: CRUD and server-side apply, status, errors,
// finalizer concurrency, impersonation, watch caches, events and leader election.
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import {
  Builtin,
  EventRecorder,
  KubeClient,
  LeaderElector,
  WatchCache,
  byLabel,
  ensureFinalizer,
  isAlreadyExists,
  isConflict,
  isForbidden,
  isInvalid,
  removeFinalizer,
  silentLogger,
  writeStatusIfChanged,
  type KubeEvent,
  type KubeObject,
  type Lease,
  type ResourceType,
} from "../src/kube/index.js";
import { eventually, unique } from "./helpers.js";

const client = KubeClient.fromFile(inject("kubeconfigPath"), { logger: silentLogger() });
const logger = silentLogger();
const namespace = unique("kube-plumbing");
const MANAGER = "altostack-plumbing-test";

interface ConfigMap extends KubeObject {
  data?: Record<string, string>;
}

interface Flavor extends KubeObject {
  spec: { vcpus: number; ram: number; disk: number };
  status?: { observedGeneration?: number; conditions?: unknown[] };
}

const flavorType: ResourceType = { group: "altostack.io", version: "v1alpha1", kind: "Flavor", plural: "flavors", namespaced: false };

const configMap = (name: string, data: Record<string, string> = {}, labels: Record<string, string> = {}): ConfigMap => ({
  apiVersion: "v1",
  kind: "ConfigMap",
  metadata: { name, namespace, labels },
  data,
});

beforeAll(async () => {
  await client.create(Builtin.Namespace, { metadata: { name: namespace } });
});
afterAll(async () => {
  await client.delete(Builtin.Namespace, namespace);
  client.close();
});

describe("KubeClient on a real apiserver", () => {
  it("creates, reads, applies, replaces, lists and deletes", async () => {
    const created = await client.create(Builtin.ConfigMap, configMap("crud", { a: "1" }));
    expect(created.metadata.uid).toBeDefined();
    expect((await client.get<ConfigMap>(Builtin.ConfigMap, "crud", namespace))?.data).toEqual({ a: "1" });
    expect(await client.get(Builtin.ConfigMap, "absent", namespace)).toBeUndefined();

    const desired: ConfigMap = { metadata: { name: "crud", namespace }, data: { a: "1", b: "2" } };
    const applied = await client.apply(Builtin.ConfigMap, desired, { fieldManager: MANAGER });
    expect(applied.data).toEqual({ a: "1", b: "2" });
    const managers = (applied.metadata.managedFields as { manager?: string; operation?: string }[] | undefined) ?? [];
    expect(managers).toContainEqual(expect.objectContaining({ manager: MANAGER, operation: "Apply" }));

    const replaced = await client.replace(Builtin.ConfigMap, { ...applied, data: { c: "3" } });
    expect(replaced.data).toEqual({ c: "3" });

    const dry = await client.create(Builtin.ConfigMap, configMap("dry"), { dryRun: true });
    expect(dry.metadata.name).toBe("dry");
    expect(await client.get(Builtin.ConfigMap, "dry", namespace)).toBeUndefined();

    for (let i = 0; i < 5; i++) await client.create(Builtin.ConfigMap, configMap(`page-${i}`, {}, { page: "yes" }));
    const all = await client.listAll<ConfigMap>(Builtin.ConfigMap, { namespace, labelSelector: "page=yes", pageSize: 2 });
    expect(all.items.map((c) => c.metadata.name).sort()).toEqual(["page-0", "page-1", "page-2", "page-3", "page-4"]);
    expect(all.items[0]?.kind).toBe("ConfigMap");
    expect(all.resourceVersion).not.toBe("");

    expect(await client.delete(Builtin.ConfigMap, "crud", namespace)).toBe(true);
    expect(await client.delete(Builtin.ConfigMap, "crud", namespace)).toBe(false);
  });

  it("reports apiserver refusals as typed errors", async () => {
    await client.create(Builtin.ConfigMap, configMap("errors"));
    const duplicate: unknown = await client.create(Builtin.ConfigMap, configMap("errors")).catch((e: unknown) => e);
    expect(isAlreadyExists(duplicate)).toBe(true);

    const current = await client.get<ConfigMap>(Builtin.ConfigMap, "errors", namespace);
    if (current === undefined) throw new Error("configmap vanished");
    await client.replace(Builtin.ConfigMap, { ...current, data: { v: "1" } });
    const stale: unknown = await client.replace(Builtin.ConfigMap, { ...current, data: { v: "2" } }).catch((e: unknown) => e);
    expect(isConflict(stale)).toBe(true);

    const invalid: unknown = await client.create(Builtin.ConfigMap, configMap("Not_A_Valid_Name")).catch((e: unknown) => e);
    expect(isInvalid(invalid)).toBe(true);
    expect((invalid as { details?: { causes?: unknown[] } }).details?.causes?.length).toBeGreaterThan(0);
  });

  it("impersonates: an unprivileged user is forbidden", async () => {
    await client.create(Builtin.ConfigMap, configMap("secret-ish"));
    const mallory = client.impersonate({ user: "mallory", groups: ["system:authenticated", "nobody"] });
    const error: unknown = await mallory.get(Builtin.ConfigMap, "secret-ish", namespace).catch((e: unknown) => e);
    expect(isForbidden(error)).toBe(true);
    expect((error as Error).message).toContain("mallory");
  });

  it("guards finalizer patches with the resourceVersion", async () => {
    const created = await client.create(Builtin.ConfigMap, configMap("fin"));
    const withFinalizer = await ensureFinalizer(client, Builtin.ConfigMap, created, "altostack.io/test");
    expect(withFinalizer.metadata.finalizers).toEqual(["altostack.io/test"]);
    // A second finalizer on the stale copy must fail: the object changed since `created` was read.
    const stale: unknown = await ensureFinalizer(client, Builtin.ConfigMap, created, "altostack.io/other").catch((e: unknown) => e);
    expect(isConflict(stale)).toBe(true);

    // The same for a removal from a list that shifted underneath: another finalizer before ours went away.
    const shifted = await client.create(Builtin.ConfigMap, {
      ...configMap("fin-shift"),
      metadata: { name: "fin-shift", namespace, finalizers: ["example.com/first", "altostack.io/test"] },
    });
    await client.patch(Builtin.ConfigMap, "fin-shift", namespace, [{ op: "remove", path: "/metadata/finalizers/0" }], "json");
    const shiftedError: unknown = await removeFinalizer(client, Builtin.ConfigMap, shifted, "altostack.io/test").catch((e: unknown) => e);
    expect(isConflict(shiftedError)).toBe(true);
    const fresh = await client.get<ConfigMap>(Builtin.ConfigMap, "fin-shift", namespace);
    if (fresh === undefined) throw new Error("configmap vanished");
    expect((await removeFinalizer(client, Builtin.ConfigMap, fresh, "altostack.io/test")).metadata.finalizers).toBeUndefined();

    expect(await client.delete(Builtin.ConfigMap, "fin", namespace)).toBe(true);
    const deleting = await client.get<ConfigMap>(Builtin.ConfigMap, "fin", namespace);
    expect(deleting?.metadata.deletionTimestamp).toBeDefined();
    if (deleting === undefined) throw new Error("configmap vanished");
    await removeFinalizer(client, Builtin.ConfigMap, deleting, "altostack.io/test");
    await eventually("finalized configmap gone", async () => (await client.get(Builtin.ConfigMap, "fin", namespace)) === undefined);
  });

  it("applies status of a custom resource only when it changed", async () => {
    const name = unique("plumbing");
    const flavor = await client.create<Flavor>(flavorType, {
      apiVersion: "altostack.io/v1alpha1",
      kind: "Flavor",
      metadata: { name },
      spec: { vcpus: 1, ram: 512, disk: 1 },
    });
    try {
      const status = { observedGeneration: flavor.metadata.generation };
      const written = await writeStatusIfChanged(client, flavorType, flavor, status, MANAGER);
      expect(written?.status).toEqual(status);
      if (written === undefined) throw new Error("status not written");
      expect(await writeStatusIfChanged(client, flavorType, written, status, MANAGER)).toBeUndefined();
      // The spec is untouched by a status write.
      expect((await client.get<Flavor>(flavorType, name))?.spec).toEqual({ vcpus: 1, ram: 512, disk: 1 });
    } finally {
      await client.delete(flavorType, name);
    }
  });
});

describe("WatchCache on a real apiserver", () => {
  it("sees creates, updates and deletes, and indexes them", async () => {
    const cache = new WatchCache<ConfigMap>({ client, resourceType: Builtin.ConfigMap, namespace, labelSelector: "cache=yes", logger });
    cache.addIndex("color", byLabel("color"));
    const seen: string[] = [];
    cache.onAdd((o) => seen.push(`add ${o.metadata.name ?? ""}`));
    cache.onUpdate((_old, o) => seen.push(`update ${o.metadata.name ?? ""} ${o.data?.v ?? ""}`));
    cache.onDelete((o) => seen.push(`delete ${o.metadata.name ?? ""}`));
    await client.create(Builtin.ConfigMap, configMap("before", {}, { cache: "yes", color: "red" }));
    cache.start();
    try {
      await cache.synced();
      expect(cache.get(`${namespace}/before`)).toBeDefined();

      await client.create(Builtin.ConfigMap, configMap("after", { v: "1" }, { cache: "yes", color: "blue" }));
      await client.patch(Builtin.ConfigMap, "after", namespace, { data: { v: "2" } }, "merge");
      await client.delete(Builtin.ConfigMap, "before", namespace);
      await client.create(Builtin.ConfigMap, configMap("ignored", {}, { cache: "no" }));
      await eventually("cache to see the delete", () => seen.includes("delete before"));
      expect(seen).toEqual(["add before", "add after", "update after 2", "delete before"]);
      expect(cache.byIndex("color", "blue").map((o) => o.metadata.name)).toEqual(["after"]);
      expect(cache.byIndex("color", "red")).toEqual([]);
      expect(cache.get(`${namespace}/ignored`)).toBeUndefined();
    } finally {
      await cache.stop();
    }
  });
});

describe("EventRecorder on a real apiserver", () => {
  it("writes valid events.k8s.io/v1 Events and counts repeats", async () => {
    const regarding = await client.create(Builtin.ConfigMap, configMap("evented"));
    const events = new EventRecorder({ client, controller: "plumbing-test", instance: "test-0", logger });
    events.warning(regarding, "Testing", "something happened");
    events.warning(regarding, "Testing", "something happened");
    await events.flush();
    const list = await client.list<KubeEvent>(Builtin.Event, { namespace });
    const ours = list.items.filter((e) => e.regarding.uid === regarding.metadata.uid);
    expect(ours).toHaveLength(1);
    expect(ours[0]).toMatchObject({
      reason: "Testing",
      note: "something happened",
      type: "Warning",
      reportingController: "altostack.io/plumbing-test",
      series: { count: 2 },
    });
  });
});

describe("LeaderElector on a real apiserver", () => {
  it("lets exactly one of two replicas lead, and hands over on release", async () => {
    const leaseName = unique("leader");
    const make = (identity: string) =>
      new LeaderElector({
        client,
        namespace,
        name: leaseName,
        identity,
        logger,
        leaseDurationMs: 4_000,
        renewDeadlineMs: 3_000,
        retryPeriodMs: 300,
      });
    const a = make("replica-a");
    const b = make("replica-b");
    const stopA = new AbortController();
    const stopB = new AbortController();
    const leading: string[] = [];
    const callbacks = (who: string) => ({
      onStartedLeading: () => {
        leading.push(`${who} started`);
      },
      onStoppedLeading: () => {
        leading.push(`${who} stopped`);
      },
    });
    const runA = a.run(callbacks("a"), stopA.signal);
    await eventually("a to lead", () => a.isLeader());
    const runB = b.run(callbacks("b"), stopB.signal);
    // Several renewal periods: b must stay standby the whole time.
    for (let i = 0; i < 10; i++) {
      await new Promise((r) => setTimeout(r, 200));
      expect(a.isLeader() && !b.isLeader()).toBe(true);
    }
    const released = Date.now();
    stopA.abort();
    await runA;
    await eventually("b to lead", () => b.isLeader());
    // Released, not expired: b took over well within the lease duration.
    expect(Date.now() - released).toBeLessThan(4_000);
    expect(leading).toEqual(["a started", "a stopped", "b started"]);
    const lease = await client.get<Lease>(Builtin.Lease, leaseName, namespace);
    expect(lease?.spec).toMatchObject({ holderIdentity: "replica-b", leaseTransitions: 1 });
    stopB.abort();
    await runB;
    expect((await client.get<Lease>(Builtin.Lease, leaseName, namespace))?.spec?.holderIdentity).toBe("");
  });
});
