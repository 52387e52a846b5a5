import { describe, expect, it } from "vitest";
import type { Physnet } from "../../operator/config.js";
import {
  attachmentNamespaces,
  desiredNad,
  nadName,
  networkUsableFrom,
  otherNamespaces,
  ovsCniConfig,
  planSegment,
  sharingInUse,
  vlanCandidates,
} from "./desired.js";
import { network, NS } from "./fixtures.js";

describe("OVS-CNI NetworkAttachmentDefinition config", () => {
  it.each([
    [
      "tenant VLAN",
      { networkType: "vlan", physnet: "physnet1", bridge: "br1", vlan: 1001, mtu: 1450 },
      { cniVersion: "0.4.0", name: "private", type: "ovs", bridge: "br1", vlan: 1001, mtu: 1450 },
    ],
    [
      "flat: no vlan key at all",
      { networkType: "flat", physnet: "physnet2", bridge: "br-ex", mtu: 1500 },
      { cniVersion: "0.4.0", name: "private", type: "ovs", bridge: "br-ex", mtu: 1500 },
    ],
  ] as const)("%s", (_name, segment, expected) => {
    const config = JSON.parse(ovsCniConfig("private", segment)) as Record<string, unknown>;
    expect(config).toEqual({ ...expected, capabilities: { ips: true, mac: true }, ipam: { type: "static" } });
    expect("vlan" in config).toBe(segment.networkType === "vlan");
  });

  it("annotates the bridge's device-plugin resource for scheduling and labels the network's uid", () => {
    const nad = desiredNad(network(), NS, { networkType: "vlan", physnet: "physnet1", bridge: "br1", vlan: 1001, mtu: 1500 });
    expect(nad.metadata.annotations?.["k8s.v1.cni.cncf.io/resourceName"]).toBe("ovs-cni.network.kubevirt.io/br1");
    expect(nad.metadata.labels).toMatchObject({ "altostack.io/network-uid": "net-private-uid", "altostack.io/project": "demo" });
    expect(nad.apiVersion).toBe("k8s.cni.cncf.io/v1");
  });

  it("names NADs after the network at home and by uid elsewhere (two projects may share same-named networks)", () => {
    const net = network("public");
    expect(nadName(net, NS)).toBe("public");
    expect(nadName(net, "project-other")).toBe("net-net-public-uid");
  });

  it("attaches shared networks where their ports are, private ones only at home", () => {
    const ports = ["project-b", NS, "project-a", "project-b", undefined].map((namespace) => ({ namespace, joined: false }));
    expect(attachmentNamespaces(network("n", { spec: { shared: true } }), ports)).toEqual([NS, "project-a", "project-b"]);
    expect(attachmentNamespaces(network("n"), ports)).toEqual([NS]);
  });
});

describe("unsharing a network other projects use (Neutron: InvalidSharedSetting)", () => {
  const presence = (namespace: string, joined: boolean) => ({ namespace, joined });
  it.each([
    ["shared: every port's namespace is attached, nothing is in use against the spec", true, [presence("project-b", false), presence("project-c", true)], [NS, "project-b", "project-c"], []],
    ["unshared: namespaces of ports that joined keep their attachment", false, [presence("project-b", true), presence("project-b", false), presence("project-c", true)], [NS, "project-b", "project-c"], ["project-b", "project-c"]],
    ["unshared: ports that never joined (refused) attach nothing and block nothing", false, [presence("project-b", false)], [NS], []],
    ["unshared: the network's own ports never count", false, [presence(NS, true), presence(NS, false)], [NS], []],
    ["unshared, no ports left", false, [], [NS], []],
  ] as const)("%s", (_name, shared, ports, attached, inUse) => {
    const net = network("n", { spec: { shared } });
    expect(attachmentNamespaces(net, ports)).toEqual(attached);
    expect(sharingInUse(net, ports)).toEqual(inUse);
  });

  it.each([
    ["a port of the network's own project", NS, {}, false, true],
    ["another project's port on a shared network", "project-b", { shared: true }, false, true],
    ["another project's new port on a network no longer shared", "project-b", { shared: false }, false, false],
    ["another project's port that joined while the network was shared", "project-b", { shared: false }, true, true],
    ["another project's port on a private network", "project-b", {}, false, false],
  ] as const)("usable from %s", (_name, namespace, spec, joined, usable) => {
    expect(networkUsableFrom(network("n", { spec }), namespace, joined)).toBe(usable);
  });

  it("lists other projects' namespaces once, sorted, without the network's own", () => {
    expect(otherNamespaces(network("n"), ["project-c", NS, undefined, "", "project-b", "project-c"])).toEqual(["project-b", "project-c"]);
  });
});

describe("segments", () => {
  const physnets: Physnet[] = [
    { name: "physnet0", bridge: "br0", vlanRanges: [] },
    { name: "physnet1", bridge: "br1", vlanRanges: [{ min: 100, max: 102 }, { min: 200, max: 200 }] },
  ];

  it.each([
    ["tenant network: a VLAN from the first physnet with ranges", {}, { ok: true, networkType: "vlan", vlan: undefined, physnet: "physnet1" }],
    ["pinned VLAN", { providerNetworkType: "vlan", providerSegmentationId: 42 }, { ok: true, networkType: "vlan", vlan: 42, physnet: "physnet1" }],
    ["flat defaults to the first physnet", { providerNetworkType: "flat" }, { ok: true, networkType: "flat", physnet: "physnet0" }],
    ["flat on a named physnet", { providerNetworkType: "flat", providerPhysicalNetwork: "physnet1" }, { ok: true, networkType: "flat", physnet: "physnet1" }],
  ] as const)("%s", (_name, spec, expected) => {
    const plan = planSegment(spec, physnets);
    expect(plan.ok).toBe(true);
    if (!plan.ok) return;
    expect({ ...plan, physnet: plan.physnet.name }).toEqual(expected);
  });

  it.each([
    ["an unknown physnet", { providerPhysicalNetwork: "nope" }, /physical network nope is not configured \(the operator knows: physnet0, physnet1\)/],
    ["a tenant VLAN on a physnet without ranges", { providerPhysicalNetwork: "physnet0" }, /physnet0 has no tenant VLAN ranges/],
  ] as const)("refuses %s with a message saying what to do", (_name, spec, message) => {
    const plan = planSegment(spec, physnets);
    expect(plan.ok).toBe(false);
    expect(plan.ok ? "" : plan.message).toMatch(message);
  });

  it("honours provider attributes only where admins may set them (Neutron: admin-only)", () => {
    expect(planSegment({}, physnets, false).ok).toBe(true);
    const refused = planSegment({ providerNetworkType: "vlan", providerSegmentationId: 7 }, physnets, false);
    expect(refused.ok ? "" : refused.message).toMatch(/provider attributes .* are for admins/);
  });

  it("offers tenant VLANs range by range, skipping taken ones", () => {
    const physnet = physnets[1];
    if (physnet === undefined) throw new Error("fixture");
    expect([...vlanCandidates(physnet, (v) => v === 101)]).toEqual([100, 102, 200]);
  });
});
