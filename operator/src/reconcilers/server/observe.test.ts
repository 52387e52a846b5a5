import { describe, expect, it } from "vitest";
import { observeVmi, quantityBytes, unschedulableMessage, vmiRunsFlavor, vmiUsesDisk, type VmiObject } from "./observe.js";

function vmi(domain: Partial<VmiObject["spec"]["domain"]>, status: VmiObject["status"] = {}): VmiObject {
  return {
    apiVersion: "kubevirt.io/v1",
    kind: "VirtualMachineInstance",
    metadata: { name: "web", namespace: "ns" },
    spec: { domain: { devices: {}, ...domain }, volumes: [{ name: "root", dataVolume: { name: "web-root-1" } }] },
    status,
  };
}

describe("reading a VMI", () => {
  it("compares memory as quantities, not as text (KubeVirt writes canonical forms)", () => {
    expect(quantityBytes("1024Mi")).toBe(quantityBytes("1Gi"));
    expect(quantityBytes("1G")).toBe(1e9);
    expect(quantityBytes("junk")).toBeUndefined();
    const flavor = { name: "f", vcpus: 2, ram: 1024, disk: 1 };
    expect(vmiRunsFlavor(vmi({ cpu: { sockets: 2, cores: 1, threads: 1 }, memory: { guest: "1Gi" } }), flavor)).toBe(true);
    expect(vmiRunsFlavor(vmi({ cpu: { sockets: 1, cores: 1, threads: 1 }, memory: { guest: "1Gi" } }), flavor)).toBe(false);
    expect(vmiRunsFlavor(vmi({ cpu: { sockets: 2, cores: 1, threads: 1 }, memory: { guest: "512Mi" } }), flavor)).toBe(false);
  });

  it("finds the root disk, pause, migration and scheduling problems", () => {
    expect(vmiUsesDisk(vmi({}), "web-root-1")).toBe(true);
    expect(vmiUsesDisk(vmi({}), "web-root")).toBe(false);
    const observed = observeVmi(
      vmi({}, {
        phase: "Running",
        nodeName: "n1",
        conditions: [{ type: "Paused", status: "True" }],
        migrationState: { startTimestamp: "2026-01-01T00:00:00Z" },
      }),
    );
    expect(observed).toEqual({ phase: "Running", paused: true, deleting: false, nodeName: "n1", migrating: true });
    const stuck = vmi({}, { phase: "Scheduling", conditions: [{ type: "PodScheduled", status: "False", reason: "Unschedulable", message: "0/2 nodes" }] });
    expect(unschedulableMessage(stuck)).toBe("0/2 nodes");
    expect(unschedulableMessage(vmi({}))).toBeUndefined();
  });
});
