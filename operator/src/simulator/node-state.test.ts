import { describe, expect, it } from "vitest";
import { parseSimulatorConfig } from "./config.js";
import { T0 } from "./fixtures.js";
import { desiredNodes, labelsToFix, nodeObject, nodeStatus } from "./node-state.js";

describe("nodes", () => {
  it("names nodes, hands zones out round-robin and gives each a pod range", () => {
    const config = parseSimulatorConfig({ nodes: { count: 3, zones: ["az1", "az2"] } });
    expect(desiredNodes(config).map((n) => [n.name, n.zone, n.podCidr, n.internalIp])).toEqual([
      ["sim-node-1", "az1", "10.244.0.0/24", "172.18.0.10"],
      ["sim-node-2", "az2", "10.244.1.0/24", "172.18.0.11"],
      ["sim-node-3", "az1", "10.244.2.0/24", "172.18.0.12"],
    ]);
  });

  it("registers with the labels schedulers and the operator look at", () => {
    const [first] = desiredNodes(parseSimulatorConfig({}));
    if (first === undefined) throw new Error("no node");
    expect(nodeObject(first).metadata.labels).toEqual({
      "sim.altostack.io/node": "true",
      "kubernetes.io/hostname": "sim-node-1",
      "topology.kubernetes.io/zone": "nova",
      "kubernetes.io/os": "linux",
      "kubernetes.io/arch": "amd64",
      "kubevirt.io/schedulable": "true",
    });
    expect(labelsToFix(nodeObject(first), first)).toBeUndefined();
    expect(labelsToFix({ metadata: { name: "sim-node-1", labels: { "topology.kubernetes.io/zone": "old" } } }, first)).toMatchObject({
      "topology.kubernetes.io/zone": "nova",
    });
  });

  it("reports Ready with KVM capacity and stable heartbeat times", () => {
    const config = parseSimulatorConfig({});
    const [first] = desiredNodes(config);
    if (first === undefined) throw new Error("no node");
    const status = nodeStatus(first, config, undefined, T0);
    expect(status.capacity).toMatchObject({ cpu: "32", memory: "128Gi", "devices.kubevirt.io/kvm": "1k" });
    expect(status.conditions?.find((c) => c.type === "Ready")).toMatchObject({ status: "True", reason: "KubeletReady" });
    expect(status.addresses).toEqual([
      { type: "InternalIP", address: "172.18.0.10" },
      { type: "Hostname", address: "sim-node-1" },
    ]);
    expect(nodeStatus(first, config, status, T0 + 60_000)).toEqual(status);
  });
});
