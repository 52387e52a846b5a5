import { describe, expect, it } from "vitest";
import type { Subnet } from "../../api/index.js";
import type { SlotCandidate, SlotRequest } from "../ipam/arbiter.js";
import { port, subnet } from "../network/fixtures.js";
import { evaluateSubnet } from "../subnet/evaluate.js";
import { macSlot, planAddresses, type PlannerSubnet } from "./plan.js";

const MAC = "fa:16:3e:00:00:01";
const usable = (s: Subnet): PlannerSubnet => {
  const e = evaluateSubnet(s, []);
  return { subnet: s, view: e.ok ? e.view : undefined };
};
const frozen = (s: Subnet): PlannerSubnet => ({ subnet: s, view: undefined });
const v4 = subnet("v4", { cidr: "10.0.0.0/29" });
const v4b = subnet("v4b", { cidr: "10.0.1.0/29" });
const slaac = subnet("slaac", { cidr: "fd00:1::/64", ipv6AddressMode: "slaac", ipv6RaMode: "slaac" });
const stateful = subnet("stateful", { cidr: "fd00:2::/120", ipv6AddressMode: "dhcpv6-stateful" });

/** The first few candidates a slot would try, none taken. */
const firstCandidates = (slot: SlotRequest | undefined, n = 2): SlotCandidate[] => {
  const out: SlotCandidate[] = [];
  for (const c of slot?.candidates?.(() => false) ?? []) {
    out.push(c);
    if (out.length === n) break;
  }
  return out;
};
const summary = (slots: readonly SlotRequest[]) =>
  slots.map((s) => ({ key: s.key, pools: s.pools, requested: s.requested?.value, keepOnly: s.keepOnly ?? false }));

describe("planning a port's addresses", () => {
  it("without fixedIPs: one IPv4 address (falling through to the next subnet), SLAAC per auto subnet, one stateful IPv6", () => {
    const plan = planAddresses(port("p"), [usable(v4), usable(v4b), usable(slaac), usable(stateful)], MAC);
    expect(summary(plan.slots)).toEqual([
      { key: "auto:v4", pools: ["v4-uid", "v4b-uid"], requested: undefined, keepOnly: false },
      { key: "auto:v6:slaac-uid", pools: ["slaac-uid"], requested: "fd00:1::f816:3eff:fe00:1", keepOnly: false },
      { key: "auto:v6", pools: ["stateful-uid"], requested: undefined, keepOnly: false },
    ]);
    // Every address of the first subnet's pool, once, before any of the second's.
    const all = [...(plan.slots[0]?.candidates?.(() => false) ?? [])];
    expect(all.slice(0, 5).map((c) => c.value).sort()).toEqual(["10.0.0.2", "10.0.0.3", "10.0.0.4", "10.0.0.5", "10.0.0.6"]);
    expect(all.slice(5).map((c) => c.value).sort()).toEqual(["10.0.1.2", "10.0.1.3", "10.0.1.4", "10.0.1.5", "10.0.1.6"]);
    // Exhausting the first subnet moves on to the second.
    expect([...(plan.slots[0]?.candidates?.((c) => c.pool === "v4-uid") ?? [])][0]?.pool).toBe("v4b-uid");
    expect(plan.problems).toEqual([]);
  });

  it("spreads ports over the pool, but proposes the same address to two reconciles of one port", () => {
    const big = subnet("big", { cidr: "10.1.0.0/16" });
    const first = (name: string) => firstCandidates(planAddresses(port(name), [usable(big)], MAC).slots[0], 1)[0]?.value;
    expect(first("a")).toBe(first("a"));
    const starts = new Set(["a", "b", "c", "d", "e", "f"].map(first));
    expect(starts.size).toBeGreaterThan(4);
  });

  it("with fixedIPs: an address, a subnet, or both", () => {
    const spec = { fixedIPs: [{ ipAddress: "10.0.0.5" }, { subnetRef: "v4b" }, { subnetRef: "v4", ipAddress: "10.0.0.6" }] };
    const plan = planAddresses(port("p", spec), [usable(v4), usable(v4b)], MAC);
    expect(summary(plan.slots)).toEqual([
      { key: "fixed:0", pools: ["v4-uid"], requested: "10.0.0.5", keepOnly: false },
      { key: "fixed:1", pools: ["v4b-uid"], requested: undefined, keepOnly: false },
      { key: "fixed:2", pools: ["v4-uid"], requested: "10.0.0.6", keepOnly: false },
    ]);
  });

  it("fixedIPs: [] means no address at all", () => {
    expect(planAddresses(port("p", { fixedIPs: [] }), [usable(v4)], MAC).slots).toEqual([]);
  });

  it.each([
    ["a subnet of another network", { fixedIPs: [{ subnetRef: "elsewhere" }] }, "DependencyNotFound", /subnet elsewhere is not a subnet of network private/],
    ["an address in no subnet", { fixedIPs: [{ ipAddress: "192.168.9.9" }] }, "InvalidSpec", /192.168.9.9 is in no ready subnet/],
    ["the gateway", { fixedIPs: [{ ipAddress: "10.0.0.1" }] }, "InvalidSpec", /is the gateway of subnet v4/],
    ["the broadcast address", { fixedIPs: [{ subnetRef: "v4", ipAddress: "10.0.0.7" }] }, "InvalidSpec", /not a usable address of subnet v4/],
  ])("explains why it cannot ask for %s", (_name, spec, reason, message) => {
    const plan = planAddresses(port("p", spec), [usable(v4)], MAC);
    expect(plan.slots).toEqual([]);
    expect(plan.problems[0]?.reason).toBe(reason);
    expect(plan.problems[0]?.message).toMatch(message);
  });

  it("reuses what the status names, each entry for one slot only", () => {
    const status = { fixedIPs: [{ subnet: "v4", subnetId: "v4-uid", ipAddress: "10.0.0.4" }] };
    const plan = planAddresses(port("p", { fixedIPs: [{ subnetRef: "v4" }, { subnetRef: "v4" }] }, { status }), [usable(v4)], MAC);
    expect(plan.slots.map((s) => s.current?.value)).toEqual(["10.0.0.4", undefined]);
  });

  it("keeps addresses on subnets that exist but give out nothing now (being deleted, invalid), and drops those of gone subnets", () => {
    const status = {
      fixedIPs: [
        { subnet: "v4", subnetId: "v4-uid", ipAddress: "10.0.0.4" },
        { subnet: "gone", subnetId: "gone-uid", ipAddress: "10.9.0.4" },
      ],
    };
    const plan = planAddresses(port("p", {}, { status }), [frozen(v4)], MAC);
    expect(summary(plan.slots)).toEqual([{ key: "keep:0", pools: ["v4-uid"], requested: "10.0.0.4", keepOnly: true }]);
  });
});

describe("planning a port's MAC", () => {
  it("asks for the requested MAC, keeps the status's, or tries generated ones", () => {
    expect(macSlot(port("p", { macAddress: "fa:16:3e:aa:bb:cc" })).requested?.value).toBe("fa:16:3e:aa:bb:cc");
    expect(macSlot(port("p", {}, { status: { macAddress: MAC } })).current?.value).toBe(MAC);
    const generated = firstCandidates(macSlot(port("p")), 3).map((c) => c.value);
    expect(new Set(generated).size).toBe(3);
    for (const mac of generated) expect(mac).toMatch(/^fa:16:3e:/);
  });
});
