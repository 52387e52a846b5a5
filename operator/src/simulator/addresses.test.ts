import { describe, expect, it } from "vitest";
import {
  generatedMac,
  ipv4ToNumber,
  nextFreeAddress,
  nodeCidrCapacity,
  nodeInternalIp,
  nodePodCidr,
  numberToIpv4,
  PodAddressPool,
} from "./addresses.js";

describe("addresses", () => {
  it("round-trips IPv4 numbers", () => {
    expect(numberToIpv4(ipv4ToNumber("10.244.3.17"))).toBe("10.244.3.17");
    expect(() => ipv4ToNumber("10.244.300.1")).toThrow(/not an IPv4/);
  });

  it("carves node /24s out of the cluster range", () => {
    expect(nodePodCidr("10.244.0.0/16", 0)).toBe("10.244.0.0/24");
    expect(nodePodCidr("10.244.0.0/16", 5)).toBe("10.244.5.0/24");
    expect(nodePodCidr("10.0.0.0/8", 300)).toBe("10.1.44.0/24");
    expect(nodeCidrCapacity("10.244.0.0/22")).toBe(4);
    expect(() => nodePodCidr("10.244.0.0/22", 4)).toThrow(/no room/);
  });

  it("gives nodes distinct addresses outside the pod range", () => {
    expect(nodeInternalIp(0)).toBe("172.18.0.10");
    expect(nodeInternalIp(201)).toBe("172.18.1.11");
  });

  it("hands out the lowest free host address, skipping network, gateway and broadcast", () => {
    expect(nextFreeAddress("10.244.1.0/24", new Set())).toBe("10.244.1.2");
    expect(nextFreeAddress("10.244.1.0/24", new Set(["10.244.1.2", "10.244.1.3"]))).toBe("10.244.1.4");
    const full = new Set(Array.from({ length: 253 }, (_, i) => `10.244.1.${i + 2}`));
    expect(nextFreeAddress("10.244.1.0/24", full)).toBeUndefined();
  });

  it("generates stable, locally administered MACs", () => {
    expect(generatedMac("uid/eth0")).toBe(generatedMac("uid/eth0"));
    expect(generatedMac("uid/eth0")).not.toBe(generatedMac("uid/eth1"));
    expect(generatedMac("x")).toMatch(/^02(:[0-9a-f]{2}){5}$/);
  });
});

describe("PodAddressPool", () => {
  it("keeps an owner's address, never hands one out twice, and reuses released ones", () => {
    const observed = ["10.244.0.2"];
    const pool = new PodAddressPool(() => observed);
    expect(pool.acquire("pod:a", "10.244.0.0/24")).toBe("10.244.0.3");
    expect(pool.acquire("pod:a", "10.244.0.0/24")).toBe("10.244.0.3");
    expect(pool.acquire("pod:b", "10.244.0.0/24")).toBe("10.244.0.4");
    pool.release("pod:a");
    expect(pool.acquire("pod:c", "10.244.0.0/24")).toBe("10.244.0.3");
  });

  it("moves an owner to a new range (a migrated VMI) and adopts reported addresses", () => {
    const pool = new PodAddressPool(() => []);
    pool.adopt("vmi:x", "10.244.0.0/24", "10.244.0.9");
    expect(pool.acquire("vmi:x", "10.244.0.0/24")).toBe("10.244.0.9");
    expect(pool.acquire("vmi:x", "10.244.1.0/24")).toBe("10.244.1.2");
  });
});
