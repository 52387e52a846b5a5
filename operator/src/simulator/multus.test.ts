import { describe, expect, it } from "vitest";
import { CLUSTER_NETWORK_NAME, formatNetworkStatus, networkStatus, parseNetworkSelections } from "./multus.js";

describe("parseNetworkSelections", () => {
  it("reads the JSON form, defaulting the namespace to the pod's", () => {
    const parsed = parseNetworkSelections(
      JSON.stringify([{ name: "net-a", ips: ["10.1.0.5/24"], mac: "fa:16:3e:00:00:01", interface: "eth1" }, { name: "net-b", namespace: "shared" }]),
      "tenant",
    );
    expect(parsed).toEqual({
      ok: true,
      selections: [
        { name: "net-a", namespace: "tenant", ips: ["10.1.0.5/24"], mac: "fa:16:3e:00:00:01", interface: "eth1" },
        { name: "net-b", namespace: "shared" },
      ],
    });
  });

  it("reads the short form", () => {
    expect(parseNetworkSelections("net-a, shared/net-b@eth5", "tenant")).toEqual({
      ok: true,
      selections: [
        { name: "net-a", namespace: "tenant" },
        { name: "net-b", namespace: "shared", interface: "eth5" },
      ],
    });
    expect(parseNetworkSelections(undefined, "tenant")).toEqual({ ok: true, selections: [] });
  });

  it.each(["[{", '[{"namespace":"x"}]', "/"])("rejects %s as Multus would", (text) => {
    expect(parseNetworkSelections(text, "tenant").ok).toBe(false);
  });
});

describe("networkStatus", () => {
  it("lists the cluster network first, then each attachment with its interface, IPs and MAC", () => {
    const entries = networkStatus("pod-uid", "10.244.0.7", [
      { name: "net-a", namespace: "tenant", ips: ["10.1.0.5/24"], mac: "fa:16:3e:00:00:01" },
      { name: "net-b", namespace: "shared", interface: "data0" },
    ]);
    expect(entries).toEqual([
      { name: CLUSTER_NETWORK_NAME, interface: "eth0", ips: ["10.244.0.7"], mac: expect.stringMatching(/^02:/) as unknown, default: true, dns: {} },
      { name: "tenant/net-a", interface: "net1", ips: ["10.1.0.5"], mac: "fa:16:3e:00:00:01", dns: {} },
      { name: "shared/net-b", interface: "data0", mac: expect.stringMatching(/^02:/) as unknown, dns: {} },
    ]);
    expect(JSON.parse(formatNetworkStatus(entries))).toEqual(entries);
  });
});
