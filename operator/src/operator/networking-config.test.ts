import { describe, expect, it } from "vitest";
import { loadOperatorConfig } from "./config.js";

const load = (argv: string[], env: Record<string, string> = {}) => loadOperatorConfig(["--identity=t", ...argv], env);

describe("networking configuration", () => {
  it("defaults to one physnet with a thousand tenant VLANs and MTU 1500", () => {
    expect(load([]).networking).toEqual({
      physnets: [{ name: "physnet1", bridge: "br1", vlanRanges: [{ min: 1000, max: 1999 }] }],
      defaultMtu: 1500,
      providerProjects: ["admin"],
    });
  });

  it("names the projects whose networks may set provider attributes", () => {
    expect(load(["--provider-network-projects=admin, infra"]).networking.providerProjects).toEqual(["admin", "infra"]);
    expect(load([], { ALTOSTACK_PROVIDER_NETWORK_PROJECTS: "ops" }).networking.providerProjects).toEqual(["ops"]);
  });

  it("reads Neutron-style mappings from the flag, several ranges per physnet and flat-only physnets", () => {
    const { networking } = load(["--physnets=physnet1:br-ten:100-199,physnet1:br-ten:300-349,extnet:br-ex", "--network-mtu=9000"]);
    expect(networking.physnets).toEqual([
      { name: "physnet1", bridge: "br-ten", vlanRanges: [{ min: 100, max: 199 }, { min: 300, max: 349 }] },
      { name: "extnet", bridge: "br-ex", vlanRanges: [] },
    ]);
    expect(networking.defaultMtu).toBe(9000);
  });

  it("reads ALTOSTACK_PHYSNETS when the flag is absent", () => {
    expect(load([], { ALTOSTACK_PHYSNETS: "p:b:5-6" }).networking.physnets).toEqual([{ name: "p", bridge: "b", vlanRanges: [{ min: 5, max: 6 }] }]);
  });

  it.each([
    ["physnet1", /not name:bridge/],
    ["physnet1:br1:100", /VLAN range "100" of physnet physnet1 is not min-max/],
    ["physnet1:br1:200-100", /start must not exceed its end/],
    ["physnet1:br1:1-5000", /physnets/],
    ["physnet1:br1,physnet1:br2", /mapped to two bridges/],
    ["Physnet_1:br1", /DNS label/],
  ])("refuses %s with a message", (value, message) => {
    expect(() => load([`--physnets=${value}`])).toThrow(message);
  });
});
