import { describe, expect, it } from "vitest";
import type { Subnet } from "../../api/index.js";
import { formatIp } from "../ipam/addresses.js";
import { subnet } from "../network/fixtures.js";
import { evaluateSubnet, poolsText } from "./evaluate.js";

type Spec = Partial<Subnet["spec"]> & { cidr: string };

describe("subnet gateway and pools", () => {
  it.each<[string, Spec, string | undefined, { start: string; end: string }[], number]>([
    ["defaults: first host is the gateway", { cidr: "10.0.0.0/24" }, "10.0.0.1", [{ start: "10.0.0.2", end: "10.0.0.254" }], 253],
    ["explicit gateway splits the default pool", { cidr: "10.0.0.0/29", gatewayIP: "10.0.0.4" }, "10.0.0.4", [
      { start: "10.0.0.1", end: "10.0.0.3" },
      { start: "10.0.0.5", end: "10.0.0.6" },
    ], 5],
    ["no gateway", { cidr: "10.0.0.0/29", noGateway: true }, undefined, [{ start: "10.0.0.1", end: "10.0.0.6" }], 6],
    ["explicit pools", { cidr: "10.0.0.0/24", allocationPools: [{ start: "10.0.0.100", end: "10.0.0.109" }] }, "10.0.0.1", [
      { start: "10.0.0.100", end: "10.0.0.109" },
    ], 10],
    ["IPv6", { cidr: "fd00:1::/120", ipv6AddressMode: "dhcpv6-stateful" }, "fd00:1::1", [{ start: "fd00:1::2", end: "fd00:1::ff" }], 254],
  ])("%s", (_name, spec, gateway, pools, total) => {
    const result = evaluateSubnet(subnet("s", spec), []);
    if (!result.ok) throw new Error(result.message);
    const { view } = result;
    expect(view.gateway === undefined ? undefined : formatIp(view.cidr.version, view.gateway)).toBe(gateway);
    expect(poolsText(result.view)).toEqual(pools);
    expect(result.total).toBe(BigInt(total));
  });
});

describe("subnet validation Neutron does and CEL cannot", () => {
  it.each<[string, Spec, string, RegExp]>([
    ["a pool that runs backwards", { cidr: "10.0.0.0/24", allocationPools: [{ start: "10.0.0.50", end: "10.0.0.10" }] }, "InvalidAllocationPool", /starts after it ends; swap start and end/],
    ["overlapping pools", { cidr: "10.0.0.0/24", allocationPools: [{ start: "10.0.0.10", end: "10.0.0.20" }, { start: "10.0.0.15", end: "10.0.0.30" }] }, "InvalidAllocationPool", /10.0.0.10-10.0.0.20 and 10.0.0.15-10.0.0.30 overlap/],
    ["a pool including the broadcast address", { cidr: "10.0.0.0/24", allocationPools: [{ start: "10.0.0.200", end: "10.0.0.255" }] }, "InvalidAllocationPool", /network or broadcast address of 10.0.0.0\/24/],
    ["the gateway inside a pool", { cidr: "10.0.0.0/24", gatewayIP: "10.0.0.15", allocationPools: [{ start: "10.0.0.10", end: "10.0.0.20" }] }, "GatewayConflictWithAllocationPools", /gatewayIP 10.0.0.15 is inside an allocation pool/],
    ["the default gateway inside an explicit pool", { cidr: "10.0.0.0/24", allocationPools: [{ start: "10.0.0.1", end: "10.0.0.20" }] }, "GatewayConflictWithAllocationPools", /gatewayIP 10.0.0.1/],
  ])("rejects %s", (_name, spec, reason, message) => {
    const result = evaluateSubnet(subnet("s", spec), []);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.reason).toBe(reason);
    expect(result.message).toMatch(message);
  });

  it("rejects the newer of two overlapping subnets on a network and keeps the older one valid", () => {
    const older = subnet("older", { cidr: "10.0.0.0/24" }, { meta: { creationTimestamp: "2026-01-01T00:00:00Z" } });
    const newer = subnet("newer", { cidr: "10.0.0.128/25" }, { meta: { creationTimestamp: "2026-01-02T00:00:00Z" } });
    const siblings = [older, newer];
    expect(evaluateSubnet(older, siblings).ok).toBe(true);
    const result = evaluateSubnet(newer, siblings);
    expect(result.ok ? "" : result.reason).toBe("OverlappingSubnet");
    expect(result.ok ? "" : result.message).toMatch(/cidr 10.0.0.128\/25 overlaps subnet older \(10.0.0.0\/24\) on network private/);
  });

  it("lets IPv4 and IPv6 subnets share a network", () => {
    const v4 = subnet("v4", { cidr: "10.0.0.0/24" });
    const v6 = subnet("v6", { cidr: "fd00::/64" }, { meta: { creationTimestamp: "2026-01-02T00:00:00Z" } });
    expect(evaluateSubnet(v6, [v4, v6]).ok).toBe(true);
  });
});
