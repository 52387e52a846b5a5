import { describe, expect, it } from "vitest";
import { networksSummary, novaAddresses } from "./addresses.js";

describe("Nova addresses from the VMI's interfaces", () => {
  const networking = { networkNames: { default: "pod-network", nic1: "private", nic2: "private" } };

  it("maps interfaces to networks, keeps the guest's order and both IP versions, and skips interfaces without one", () => {
    const addresses = novaAddresses(
      [
        { name: "default", mac: "02:00:00:AA:BB:CC", ipAddress: "10.244.1.5", ipAddresses: ["10.244.1.5"] },
        { name: "nic1", mac: "fa:16:3e:00:00:01", ipAddresses: ["10.0.0.5", "fd00::5"] },
        { name: "nic2", mac: "fa:16:3e:00:00:02", ipAddress: "10.0.0.6" },
        { name: "nic3", mac: "fa:16:3e:00:00:03" },
      ],
      networking,
    );
    expect(addresses).toEqual({
      "pod-network": [{ addr: "10.244.1.5", version: 4, type: "fixed", macAddr: "02:00:00:aa:bb:cc" }],
      private: [
        { addr: "10.0.0.5", version: 4, type: "fixed", macAddr: "fa:16:3e:00:00:01" },
        { addr: "fd00::5", version: 6, type: "fixed", macAddr: "fa:16:3e:00:00:01" },
        { addr: "10.0.0.6", version: 4, type: "fixed", macAddr: "fa:16:3e:00:00:02" },
      ],
    });
    expect(networksSummary(addresses)).toBe("pod-network=10.244.1.5; private=10.0.0.5, fd00::5, 10.0.0.6");
  });

  it("names a network after its interface when networking gives no name", () => {
    expect(Object.keys(novaAddresses([{ name: "eth-x", ipAddress: "192.0.2.1" }], undefined))).toEqual(["eth-x"]);
    expect(novaAddresses(undefined, networking)).toEqual({});
  });
});
