import { describe, expect, it } from "vitest";
import type { PatchType } from "./client.js";
import { KubeApiError, isConflict } from "./errors.js";
import { ensureFinalizer, hasFinalizer, removeFinalizer } from "./finalizers.js";
import type { KubeObject, ResourceType } from "./resources.js";

const serverType: ResourceType = { group: "altostack.io", version: "v1alpha1", kind: "Server", plural: "servers", namespaced: true };
const F = "altostack.io/server";

const server = (finalizers?: string[], extra: Partial<KubeObject["metadata"]> = {}): KubeObject => ({
  metadata: { name: "s1", namespace: "p", resourceVersion: "7", ...(finalizers === undefined ? {} : { finalizers }), ...extra },
});

interface PatchCall {
  name: string;
  namespace: string | undefined;
  patch: unknown;
  type: PatchType;
}

function fakeClient(fail?: Error) {
  const calls: PatchCall[] = [];
  return {
    calls,
    patch: <T extends KubeObject>(_rt: ResourceType, name: string, namespace: string | undefined, patch: unknown, type: PatchType) => {
      calls.push({ name, namespace, patch, type });
      if (fail !== undefined) return Promise.reject(fail);
      return Promise.resolve({ metadata: { name, namespace, resourceVersion: "8" } } as T);
    },
  };
}

describe("ensureFinalizer", () => {
  it.each([
    ["no finalizers yet", undefined, [F]],
    ["other finalizers present", ["x/y"], ["x/y", F]],
  ] as const)("%s: writes the whole list, guarded by the resourceVersion read", async (_name, finalizers, expected) => {
    const client = fakeClient();
    const result = await ensureFinalizer(client, serverType, server(finalizers ? [...finalizers] : undefined), F);
    expect(result.metadata.resourceVersion).toBe("8");
    expect(client.calls).toEqual([
      {
        name: "s1",
        namespace: "p",
        type: "json",
        patch: [
          { op: "replace", path: "/metadata/resourceVersion", value: "7" },
          { op: "add", path: "/metadata/finalizers", value: expected },
        ],
      },
    ]);
  });

  it("is a no-op when present, or when the object is being deleted", async () => {
    const client = fakeClient();
    const present = server([F]);
    expect(await ensureFinalizer(client, serverType, present, F)).toBe(present);
    const deleting = server([], { deletionTimestamp: "2025-01-01T00:00:00Z" });
    expect(await ensureFinalizer(client, serverType, deleting, F)).toBe(deleting);
    expect(client.calls).toHaveLength(0);
  });
});

describe("removeFinalizer", () => {
  it("writes the list without it (every occurrence), guarded by the resourceVersion", async () => {
    const client = fakeClient();
    await removeFinalizer(client, serverType, server(["a/b", F, "c/d", F]), F);
    expect(client.calls[0]?.patch).toEqual([
      { op: "replace", path: "/metadata/resourceVersion", value: "7" },
      { op: "add", path: "/metadata/finalizers", value: ["a/b", "c/d"] },
    ]);
  });

  it("writes an empty list when it was the last one", async () => {
    const client = fakeClient();
    await removeFinalizer(client, serverType, server([F]), F);
    expect(client.calls[0]?.patch).toContainEqual({ op: "add", path: "/metadata/finalizers", value: [] });
  });

  it("is a no-op when absent", async () => {
    const client = fakeClient();
    const obj = server(["a/b"]);
    expect(await removeFinalizer(client, serverType, obj, F)).toBe(obj);
    expect(client.calls).toHaveLength(0);
  });
});

describe("optimistic concurrency", () => {
  it("lets the apiserver's Conflict through for the caller to retry", async () => {
    const conflict = new KubeApiError({ statusCode: 409, reason: "Conflict", message: "the object has been modified" });
    const error: unknown = await ensureFinalizer(fakeClient(conflict), serverType, server(), F).catch((e: unknown) => e);
    expect(error).toBe(conflict);
    expect(isConflict(error)).toBe(true);
  });

  it("needs a resourceVersion to guard with", async () => {
    await expect(ensureFinalizer(fakeClient(), serverType, { metadata: { name: "s1", namespace: "p" } }, F)).rejects.toThrow(/resourceVersion/);
  });
});

describe("hasFinalizer", () => {
  it("reports presence", () => {
    expect(hasFinalizer(server([F]), F)).toBe(true);
    expect(hasFinalizer(server(), F)).toBe(false);
  });
});
