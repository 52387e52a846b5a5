import { describe, expect, it } from "vitest";
import { addressesByMac, networkDataFromSecret, networkDataSourceOf } from "./network-data.js";

describe("addressesByMac", () => {
  it("reads OpenStack network_data.json the way cloud-init does", () => {
    const json = JSON.stringify({
      links: [
        { id: "tap1", type: "phy", ethernet_mac_address: "FA:16:3E:AA:BB:01" },
        { id: "tap2", type: "phy", ethernet_mac_address: "fa:16:3e:aa:bb:02" },
        { id: "vlan5", type: "vlan", vlan_link: "tap2", vlan_id: 5, vlan_mac_address: "fa:16:3e:aa:bb:05" },
      ],
      networks: [
        { id: "n1", type: "ipv4", link: "tap1", ip_address: "10.0.0.5", netmask: "255.255.255.0" },
        { id: "n2", type: "ipv6", link: "tap1", ip_address: "fd00::5/64" },
        { id: "n3", type: "ipv4_dhcp", link: "tap2" },
        { id: "n4", type: "ipv4", link: "vlan5", ip_address: "172.16.5.9" },
        { id: "n5", type: "ipv4", link: "nowhere", ip_address: "1.2.3.4" },
      ],
      services: [{ type: "dns", address: "8.8.8.8" }],
    });
    expect([...addressesByMac(json)]).toEqual([
      ["fa:16:3e:aa:bb:01", ["10.0.0.5", "fd00::5"]],
      ["fa:16:3e:aa:bb:05", ["172.16.5.9"]],
    ]);
  });

  it.each(["not json", "[]", '{"links": "nope"}', "{}"])("yields nothing for %s", (text) => {
    expect(addressesByMac(text).size).toBe(0);
  });
});

describe("networkDataSourceOf", () => {
  it("finds inline, base64 and Secret network data on the config drive", () => {
    expect(networkDataSourceOf([{ name: "ci", cloudInitConfigDrive: { networkData: "{}" } }])).toEqual({ kind: "inline", json: "{}" });
    expect(networkDataSourceOf([{ name: "ci", cloudInitConfigDrive: { networkDataBase64: Buffer.from('{"a":1}').toString("base64") } }])).toEqual({
      kind: "inline",
      json: '{"a":1}',
    });
    expect(networkDataSourceOf([{ name: "ci", cloudInitConfigDrive: { networkDataSecretRef: { name: "s" } } }])).toEqual({ kind: "secret", secretName: "s" });
    expect(networkDataSourceOf([{ name: "root", dataVolume: { name: "x" } }])).toEqual({ kind: "none" });
  });

  it("decodes the networkdata key of a Secret", () => {
    expect(networkDataFromSecret({ networkdata: Buffer.from("{}").toString("base64") })).toBe("{}");
    expect(networkDataFromSecret({ userdata: "eA==" })).toBeUndefined();
  });
});
