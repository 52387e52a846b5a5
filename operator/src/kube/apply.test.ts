import { describe, expect, it } from "vitest";
import {
  OwnerLabel,
  OwnerNameAnnotation,
  applyChild,
  canOwnerReference,
  fieldManager,
  ownerFromLabels,
  ownerLabelSelector,
  withOwner,
  writeStatusIfChanged,
} from "./apply.js";
import type { ApplyOptions } from "./client.js";
import { setCondition } from "./conditions.js";
import { Builtin, type KubeObject, type ResourceType } from "./resources.js";

const serverType: ResourceType = { group: "altostack.io", version: "v1alpha1", kind: "Server", plural: "servers", namespaced: true };

const project: KubeObject = {
  apiVersion: "altostack.io/v1alpha1",
  kind: "Project",
  metadata: { name: "p1", uid: "uid-p1" },
};
const server: KubeObject = {
  apiVersion: "altostack.io/v1alpha1",
  kind: "Server",
  metadata: { name: "s1", namespace: "p-p1", uid: "uid-s1", resourceVersion: "5" },
};

describe("fieldManager", () => {
  it("prefixes the controller name", () => {
    expect(fieldManager("server")).toBe("altostack-server");
  });
});

describe("canOwnerReference", () => {
  it.each([
    ["namespaced child, same-namespace owner", { namespace: "a" }, { namespaced: true, namespace: "a" }, true],
    ["namespaced child, other-namespace owner", { namespace: "a" }, { namespaced: true, namespace: "b" }, false],
    ["namespaced child, cluster-scoped owner", {}, { namespaced: true, namespace: "b" }, true],
    ["cluster-scoped child, cluster-scoped owner", {}, { namespaced: false }, true],
    ["cluster-scoped child, namespaced owner", { namespace: "a" }, { namespaced: false }, false],
  ] as const)("%s → %s", (_name, owner, child, legal) => {
    expect(canOwnerReference(owner, child)).toBe(legal);
  });
});

describe("withOwner / applyChild", () => {
  it("sets a controller ownerReference when legal, keeping other references", () => {
    const desired: KubeObject = {
      metadata: {
        name: "vm",
        namespace: "p-p1",
        ownerReferences: [
          { apiVersion: "v1", kind: "Other", name: "o", uid: "uid-o" },
          { apiVersion: "x", kind: "Server", name: "s1", uid: "uid-s1" },
        ],
      },
    };
    const result = withOwner(serverType, desired, server);
    expect(result.metadata.ownerReferences).toEqual([
      { apiVersion: "v1", kind: "Other", name: "o", uid: "uid-o" },
      { apiVersion: "altostack.io/v1alpha1", kind: "Server", name: "s1", uid: "uid-s1", controller: true, blockOwnerDeletion: true },
    ]);
    expect(result.metadata.labels?.[OwnerLabel.uid]).toBeUndefined();
    expect(desired.metadata.ownerReferences).toHaveLength(2);
  });

  it("uses owner labels (and the name annotation) where a reference is illegal", () => {
    const result = withOwner<KubeObject>(Builtin.ClusterRole, { metadata: { name: "role", labels: { keep: "me" } } }, server);
    expect(result.metadata.ownerReferences).toBeUndefined();
    expect(result.metadata.labels).toEqual({
      keep: "me",
      [OwnerLabel.kind]: "Server",
      [OwnerLabel.name]: "s1",
      [OwnerLabel.namespace]: "p-p1",
      [OwnerLabel.uid]: "uid-s1",
    });
    expect(result.metadata.annotations?.[OwnerNameAnnotation]).toBe("s1");
    expect(ownerFromLabels(result)).toEqual({ kind: "Server", name: "s1", namespace: "p-p1", uid: "uid-s1" });
  });

  it("leaves the name label out when the name is not a valid label value, and readers use the annotation", () => {
    const longName = `s-${"x".repeat(70)}`;
    const owner: KubeObject = { ...server, metadata: { ...server.metadata, name: longName } };
    const result = withOwner<KubeObject>(Builtin.ClusterRole, { metadata: { name: "role" } }, owner);
    expect(result.metadata.labels?.[OwnerLabel.name]).toBeUndefined();
    expect(ownerFromLabels(result)?.name).toBe(longName);
  });

  it("refuses an owner without identity", () => {
    expect(() => withOwner(Builtin.ConfigMap, { metadata: { name: "c", namespace: "p-p1" } }, { metadata: { name: "x" } })).toThrow(/owner needs/);
  });

  it("applyChild server-side applies the linked object with the manager", async () => {
    const calls: { rt: ResourceType; obj: KubeObject; opts: ApplyOptions }[] = [];
    const client = {
      apply: <T extends KubeObject>(rt: ResourceType, obj: T, opts: ApplyOptions) => {
        calls.push({ rt, obj, opts });
        return Promise.resolve(obj);
      },
    };
    await applyChild(client, Builtin.Namespace, { metadata: { name: "p-p1" } }, project, "altostack-project");
    expect(calls).toHaveLength(1);
    expect(calls[0]?.rt).toBe(Builtin.Namespace);
    expect(calls[0]?.opts).toEqual({ fieldManager: "altostack-project" });
    expect(calls[0]?.obj.metadata.ownerReferences?.[0]).toMatchObject({ kind: "Project", uid: "uid-p1", controller: true });
  });

  it("ownerLabelSelector selects by owner uid", () => {
    expect(ownerLabelSelector(server)).toBe("altostack.io/owner-uid=uid-s1");
  });
});

describe("writeStatusIfChanged", () => {
  const T0 = Date.parse("2025-01-01T00:00:00Z");

  function recordingClient() {
    const calls: { rt: ResourceType; obj: KubeObject & { status: unknown }; opts: ApplyOptions }[] = [];
    return {
      calls,
      applyStatus: <T extends KubeObject>(rt: ResourceType, obj: KubeObject & { status: unknown }, opts: ApplyOptions) => {
        calls.push({ rt, obj, opts });
        return Promise.resolve({ ...obj, metadata: { ...obj.metadata, resourceVersion: "6" } } as unknown as T);
      },
    };
  }

  it("writes only the status, by SSA on /status, when it changed", async () => {
    const client = recordingClient();
    const obj = { ...server, status: { phase: "Building" } };
    const written = await writeStatusIfChanged(client, serverType, obj, { phase: "Active" }, "altostack-server");
    expect(written?.metadata.resourceVersion).toBe("6");
    expect(client.calls).toEqual([
      {
        rt: serverType,
        obj: { apiVersion: "altostack.io/v1alpha1", kind: "Server", metadata: { name: "s1", namespace: "p-p1" }, status: { phase: "Active" } },
        opts: { fieldManager: "altostack-server" },
      },
    ]);
  });

  it("skips the write when nothing changed (conditions in another order included)", async () => {
    const client = recordingClient();
    const conditions = setCondition(setCondition(undefined, { type: "A", status: "True", reason: "R", message: "" }, T0), { type: "B", status: "False", reason: "R", message: "" }, T0);
    const obj = { ...server, status: { phase: "Active", conditions } };
    const written = await writeStatusIfChanged(client, serverType, obj, { phase: "Active", conditions: [...conditions].reverse() }, "m");
    expect(written).toBeUndefined();
    expect(client.calls).toHaveLength(0);
  });
});
