import { describe, expect, it } from "vitest";
import { Builtin, Upstream, type ApplyOptions, type KubeObject, type ResourceType } from "../kube/index.js";
import { applyStatus } from "./runtime.js";

/** Records applies instead of sending them. */
function recorder() {
  const calls: { via: "apply" | "applyStatus"; rt: string; obj: KubeObject & { status?: unknown }; manager: string }[] = [];
  const client = {
    apply: <T extends KubeObject>(rt: ResourceType, obj: T, opts: ApplyOptions): Promise<T> => {
      calls.push({ via: "apply", rt: rt.kind, obj, manager: opts.fieldManager });
      return Promise.resolve(obj);
    },
    applyStatus: <T extends KubeObject = KubeObject>(rt: ResourceType, obj: KubeObject & { status: unknown }, opts: ApplyOptions): Promise<T> => {
      calls.push({ via: "applyStatus", rt: rt.kind, obj, manager: opts.fieldManager });
      return Promise.resolve(obj as unknown as T); // a fake: the caller ignores the result
    },
  };
  return { client, calls };
}

const pod = { metadata: { name: "p", namespace: "ns", uid: "u1" }, status: { phase: "Running", qosClass: "BestEffort", podIP: "10.0.0.2" } };

describe("applyStatus", () => {
  it("skips the write when the fields it owns already match, whatever others wrote", async () => {
    const { client, calls } = recorder();
    const wrote = await applyStatus(client, Builtin.Pod, pod, { phase: "Running", podIP: "10.0.0.2" }, "kubelet", { owned: ["phase", "podIP", "hostIP"] });
    expect(wrote).toBe(false);
    expect(calls).toEqual([]);
  });

  it("writes when an owned field changes or has to disappear", async () => {
    const { client, calls } = recorder();
    expect(await applyStatus(client, Builtin.Pod, pod, { phase: "Running" }, "kubelet", { owned: ["phase", "podIP"] })).toBe(true);
    expect(calls).toEqual([
      { via: "applyStatus", rt: "Pod", manager: "kubelet", obj: { apiVersion: "v1", kind: "Pod", metadata: { name: "p", namespace: "ns" }, status: { phase: "Running" } } },
    ]);
  });

  it("goes through the main resource, guarded by the UID, for kinds without a status subresource", async () => {
    const { client, calls } = recorder();
    const vmi = { metadata: { name: "v", namespace: "ns", uid: "vmi-uid" }, status: { phase: "Pending" } };
    await applyStatus(client, Upstream.VirtualMachineInstance, vmi, { phase: "Scheduling" }, "virt-handler", { subresource: false });
    expect(calls[0]).toMatchObject({ via: "apply", obj: { metadata: { name: "v", namespace: "ns", uid: "vmi-uid" }, status: { phase: "Scheduling" } } });
  });
});
