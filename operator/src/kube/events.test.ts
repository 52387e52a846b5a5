import { describe, expect, it } from "vitest";
import type { PatchType, WriteOptions } from "./client.js";
import { KubeApiError } from "./errors.js";
import { EventRecorder, type KubeEvent } from "./events.js";
import { silentLogger } from "./log.js";
import type { KubeObject, ResourceType } from "./resources.js";
import { ManualTimers } from "./testing.js";

const server: KubeObject = {
  apiVersion: "altostack.io/v1alpha1",
  kind: "Server",
  metadata: { name: "s1", namespace: "p", uid: "uid-s1", resourceVersion: "4" },
};
const project: KubeObject = { apiVersion: "altostack.io/v1alpha1", kind: "Project", metadata: { name: "demo", uid: "uid-p" } };

function fakeClient(opts: { failCreate?: boolean; patchNotFound?: boolean } = {}) {
  const created: KubeEvent[] = [];
  const patches: { name: string; namespace: string | undefined; patch: unknown; type: PatchType }[] = [];
  return {
    created,
    patches,
    create: <T extends KubeObject>(_rt: ResourceType, obj: T, _opts?: WriteOptions): Promise<T> => {
      if (opts.failCreate === true) return Promise.reject(new Error("apiserver down"));
      created.push(obj as unknown as KubeEvent);
      return Promise.resolve(obj);
    },
    patch: <T extends KubeObject>(_rt: ResourceType, name: string, namespace: string | undefined, patch: unknown, type: PatchType): Promise<T> => {
      patches.push({ name, namespace, patch, type });
      if (opts.patchNotFound === true) return Promise.reject(new KubeApiError({ statusCode: 404, reason: "NotFound", message: "gone" }));
      return Promise.resolve({ metadata: { name, namespace } } as T);
    },
  };
}

function recorder(client: ReturnType<typeof fakeClient>, clock = new ManualTimers(Date.parse("2025-03-01T12:00:00Z"))) {
  return { clock, events: new EventRecorder({ client, controller: "server", instance: "operator-0", logger: silentLogger(), clock }) };
}

describe("EventRecorder", () => {
  it("creates an events.k8s.io/v1 Event about the object", async () => {
    const client = fakeClient();
    const { events } = recorder(client);
    events.warning(server, "ImageNotFound", "image cirros does not exist", { action: "Boot", related: project });
    await events.flush();
    expect(client.created).toHaveLength(1);
    const event = client.created[0];
    expect(event).toMatchObject({
      apiVersion: "events.k8s.io/v1",
      kind: "Event",
      metadata: { namespace: "p" },
      eventTime: "2025-03-01T12:00:00.000000Z",
      reportingController: "altostack.io/server",
      reportingInstance: "operator-0",
      action: "Boot",
      reason: "ImageNotFound",
      note: "image cirros does not exist",
      type: "Warning",
      regarding: { apiVersion: "altostack.io/v1alpha1", kind: "Server", name: "s1", namespace: "p", uid: "uid-s1", resourceVersion: "4" },
      related: { kind: "Project", name: "demo", uid: "uid-p" },
    });
    expect(event?.metadata.name).toMatch(/^s1\.[0-9a-f]+$/);
  });

  it("counts repeats in a series on the same Event instead of creating new ones", async () => {
    const client = fakeClient();
    const { events, clock } = recorder(client);
    events.normal(server, "Started", "server is running");
    events.normal(server, "Started", "server is running");
    clock.advance(60_000);
    events.normal(server, "Started", "server is running");
    await events.flush();
    expect(client.created).toHaveLength(1);
    const name = client.created[0]?.metadata.name;
    expect(client.patches).toEqual([
      { name, namespace: "p", type: "merge", patch: { series: { count: 2, lastObservedTime: "2025-03-01T12:00:00.000000Z" } } },
      { name, namespace: "p", type: "merge", patch: { series: { count: 3, lastObservedTime: "2025-03-01T12:01:00.000000Z" } } },
    ]);
  });

  it("treats a different reason, note, type or object as a different event", async () => {
    const client = fakeClient();
    const { events } = recorder(client);
    events.normal(server, "Started", "a");
    events.normal(server, "Started", "b");
    events.normal(server, "Stopped", "a");
    events.warning(server, "Started", "a");
    events.normal({ ...server, metadata: { ...server.metadata, name: "s2", uid: "uid-s2" } }, "Started", "a");
    await events.flush();
    expect(client.created).toHaveLength(5);
    expect(client.patches).toHaveLength(0);
    expect(new Set(client.created.map((e) => e.metadata.name)).size).toBe(5);
  });

  it("starts a new Event when the one in the series has expired", async () => {
    const client = fakeClient({ patchNotFound: true });
    const { events } = recorder(client);
    events.normal(server, "Started", "x");
    events.normal(server, "Started", "x");
    await events.flush();
    expect(client.patches).toHaveLength(1);
    expect(client.created).toHaveLength(2);
  });

  it("puts events about cluster-scoped objects in the default namespace", async () => {
    const client = fakeClient();
    const { events } = recorder(client);
    events.normal(project, "Reconciled", "ok");
    await events.flush();
    expect(client.created[0]?.metadata.namespace).toBe("default");
  });

  it("never throws into the caller when the apiserver fails", async () => {
    const client = fakeClient({ failCreate: true });
    const { events } = recorder(client);
    expect(() => {
      events.normal(server, "Started", "x");
    }).not.toThrow();
    await expect(events.flush()).resolves.toBeUndefined();
  });

  it("keeps the note within 1 KiB without splitting characters", async () => {
    const client = fakeClient();
    const { events } = recorder(client);
    events.normal(server, "Long", "🌍".repeat(400));
    await events.flush();
    const note = client.created[0]?.note ?? "";
    expect(Buffer.byteLength(note)).toBeLessThanOrEqual(1024);
    expect(note.endsWith("…")).toBe(true);
    expect(note).not.toMatch(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])/);
  });
});
