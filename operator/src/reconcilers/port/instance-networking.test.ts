import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import type { Network, Port, Subnet } from "../../api/index.js";
import { memoryCache, network, NS, port, readyCondition, server, subnet } from "../network/fixtures.js";
import { Index } from "../network/sources.js";
import {
  autoPortName,
  containerNetworksAnnotation,
  instanceNetworking,
  novaAddresses,
  networksSummary,
  resolveNetworking,
  type ResolvedAttachment,
} from "./instance-networking.js";
import { portSecurityLabel, securityGroupLabel } from "../securitygroup/labels.js";
import { networkData } from "./network-data.js";

const TESTDATA = path.join(import.meta.dirname, "testdata");

/** Compares with testdata/<name>; UPDATE_GOLDEN=1 rewrites the file (review the diff!). */
function expectGolden(name: string, value: unknown): void {
  const file = path.join(TESTDATA, name);
  const text = `${JSON.stringify(value, null, 2)}\n`;
  if (process.env.UPDATE_GOLDEN === "1" || !existsSync(file)) {
    mkdirSync(TESTDATA, { recursive: true });
    writeFileSync(file, text);
  }
  expect(text).toBe(readFileSync(file, "utf8"));
}

const privateNet = network("private", { status: { mtu: 1450, attachments: [`${NS}/private`] } });
const storageNet = network("storage", { status: { mtu: 9000, attachments: [`${NS}/storage`] } });
const v4 = subnet("private-v4", {
  cidr: "10.0.0.0/24",
  dnsNameservers: ["10.0.0.53", "9.9.9.9"],
  hostRoutes: [{ destination: "192.168.100.0/24", nexthop: "10.0.0.254" }],
}, { status: { gatewayIP: "10.0.0.1" } });
const v6 = subnet("private-v6", { cidr: "fd00:10::/64", ipv6AddressMode: "slaac", ipv6RaMode: "slaac", dnsNameservers: ["fd00:10::53"] }, {
  status: { gatewayIP: "fd00:10::1" },
});
const storageV4 = subnet("storage-v4", { cidr: "172.16.0.0/16", networkRef: "storage", noGateway: true });

function boundPort(name: string, networkRef: string, mac: string, fixedIPs: { subnet: Subnet; ip: string }[], extra: Partial<Port["spec"]> = {}): Port {
  return port(name, { networkRef, ...extra }, {
    status: {
      macAddress: mac,
      fixedIPs: fixedIPs.map(({ subnet: s, ip }) => ({ subnet: s.metadata.name ?? "", subnetId: s.metadata.uid ?? "", ipAddress: ip })),
      deviceId: "web-uid",
      conditions: [readyCondition()],
    },
  });
}

const webPrivate = boundPort("web-private", "private", "fa:16:3e:11:22:33", [
  { subnet: v4, ip: "10.0.0.10" },
  { subnet: v6, ip: "fd00:10::f816:3eff:fe11:2233" },
], { securityGroupRefs: ["default", "web"] });
const webStorage = boundPort("web-storage", "storage", "fa:16:3e:44:55:66", [{ subnet: storageV4, ip: "172.16.0.20" }], {
  portSecurityEnabled: false,
});

const attach = (p: Port, n: Network, subnets: Subnet[]): ResolvedAttachment => ({
  port: p,
  network: n,
  subnets: new Map(subnets.map((s) => [s.metadata.uid ?? "", s])),
  nad: `${NS}/${n.metadata.name ?? ""}`,
});
const twoNetworks = [attach(webPrivate, privateNet, [v4, v6]), attach(webStorage, storageNet, [storageV4])];

describe("network_data.json (golden files)", () => {
  it("two networks, dual stack with routes and DNS, a subnet without gateway", () => {
    expectGolden("network-data-two-networks.json", instanceNetworking(twoNetworks).networkData);
  });

  it("one IPv4 port with only a gateway", () => {
    const plain = subnet("plain", { cidr: "192.168.1.0/24" }, { status: { gatewayIP: "192.168.1.1" } });
    expectGolden(
      "network-data-single.json",
      networkData([
        {
          portId: "0b3a3e51-7b56-4d26-9d3f-6a4f8ab1c2d3",
          macAddress: "fa:16:3e:aa:bb:cc",
          mtu: 1500,
          networkId: "5f3cf4d2-9a3e-4a8e-8f06-0a4a0b0c0d0e",
          addresses: [{ ipAddress: "192.168.1.5", cidr: plain.spec.cidr, gateway: "192.168.1.1", hostRoutes: [], dnsNameservers: [] }],
        },
      ]),
    );
  });
});

describe("KubeVirt wiring", () => {
  const wiring = instanceNetworking(twoNetworks);

  it("gives one bridge interface per port, with the port's MAC, on the port network's NAD, and no pod network", () => {
    expect(wiring.interfaces).toEqual([
      { name: "nic0", bridge: {}, macAddress: "fa:16:3e:11:22:33", model: "virtio" },
      { name: "nic1", bridge: {}, macAddress: "fa:16:3e:44:55:66", model: "virtio" },
    ]);
    expect(wiring.networks).toEqual([
      { name: "nic0", multus: { networkName: `${NS}/private` } },
      { name: "nic1", multus: { networkName: `${NS}/storage` } },
    ]);
    expect(wiring.autoattachPodInterface).toBe(false);
    expect(wiring.networkNames).toEqual({ nic0: "private", nic1: "storage" });
  });

  it("labels the pod with the security groups of ports that have port security, per network", () => {
    // The storage port has no port security: nothing selects the pod on storage.
    expect(wiring.podLabels).toEqual({
      [portSecurityLabel(`${NS}/private`)]: "enabled",
      [securityGroupLabel("default", `${NS}/private`)]: "true",
      [securityGroupLabel("web", `${NS}/private`)]: "true",
    });
  });

  it("reports addresses as Nova does", () => {
    const addresses = novaAddresses(twoNetworks);
    expect(addresses).toEqual({
      private: [
        { addr: "10.0.0.10", version: 4, type: "fixed", macAddr: "fa:16:3e:11:22:33" },
        { addr: "fd00:10::f816:3eff:fe11:2233", version: 6, type: "fixed", macAddr: "fa:16:3e:11:22:33" },
      ],
      storage: [{ addr: "172.16.0.20", version: 4, type: "fixed", macAddr: "fa:16:3e:44:55:66" }],
    });
    expect(networksSummary(addresses)).toBe("private=10.0.0.10, fd00:10::f816:3eff:fe11:2233; storage=172.16.0.20");
  });

  it("gives containers the Multus annotation with the port's addresses (CIDR) and MAC", () => {
    expect(JSON.parse(containerNetworksAnnotation(twoNetworks))).toEqual([
      { name: "private", namespace: NS, ips: ["10.0.0.10/24", "fd00:10::f816:3eff:fe11:2233/64"], mac: "fa:16:3e:11:22:33", interface: "net1" },
      { name: "storage", namespace: NS, ips: ["172.16.0.20/16"], mac: "fa:16:3e:44:55:66", interface: "net2" },
    ]);
  });
});

describe("auto-created port names", () => {
  it("are stable per network and numbered for repeats", () => {
    const nets = [{ networkRef: "private" }, { networkRef: "shared/public" }, { networkRef: "private" }];
    expect(nets.map((_, i) => autoPortName("web", nets, i))).toEqual(["web-private", "web-shared.public", "web-private-2"]);
  });

  it("stay within the 253-character name limit", () => {
    const name = autoPortName("s".repeat(250), [{ networkRef: "private" }], 0);
    expect(name.length).toBeLessThanOrEqual(253);
    expect(name).toMatch(/^s+-[0-9a-f]{12}$/);
  });
});

describe("resolving a server's networking from the caches", () => {
  const subnetIndex = { [Index.subnetsByUid]: (s: Subnet) => [s.metadata.uid] };
  const sources = (ports: Port[], networks: Network[] = [privateNet, storageNet]) => ({
    ports: memoryCache(ports),
    networks: memoryCache(networks),
    subnets: memoryCache([v4, v6, storageV4], subnetIndex),
  });
  const owned = (p: Port, owner = "web"): Port => ({
    ...p,
    metadata: { ...p.metadata, ownerReferences: [{ apiVersion: "altostack.io/v1alpha1", kind: "Server", name: owner, uid: `${owner}-uid`, controller: true }] },
  });
  const asAuto = (p: Port, name: string): Port => owned({ ...p, metadata: { ...p.metadata, name } });

  type Sources = Parameters<typeof resolveNetworking>[0];
  const resolve = (ports: Port[], spec: Parameters<typeof server>[1], networks?: Network[]) =>
    resolveNetworking(sources(ports, networks) as unknown as Sources, "Server", server("web", spec));

  it("is ready with both NICs when the ports are", () => {
    const result = resolve([asAuto(webPrivate, "web-private"), webStorage], { networks: [{ networkRef: "private" }, { portRef: "web-storage" }] });
    expect(result.state).toBe("ready");
    if (result.state !== "ready") return;
    expect(result.networking?.interfaces.map((i) => i.macAddress)).toEqual(["fa:16:3e:11:22:33", "fa:16:3e:44:55:66"]);
    expect(result.networksSummary).toBe("private=10.0.0.10, fd00:10::f816:3eff:fe11:2233; storage=172.16.0.20");
  });

  it("leaves servers without networks to the pod network", () => {
    expect(resolve([], {})).toMatchObject({ state: "ready", networking: undefined });
  });

  it.each([
    ["the auto port is not created yet", [] as Port[], [{ networkRef: "private" }], /creating port web-private/],
    ["an explicit port is missing", [], [{ portRef: "nope" }], /port nope not found/],
    ["an explicit port is not bound yet", [port("free", {}, { status: { macAddress: "fa:16:3e:00:00:09", conditions: [readyCondition()] } })], [{ portRef: "free" }], /binding port free/],
    [
      "the port is still allocating",
      [asAuto(port("x", {}, { status: { conditions: [readyCondition(1, "False", "Progressing", "allocating")] } }), "web-private")],
      [{ networkRef: "private" }],
      /waiting for port web-private: allocating/,
    ],
    [
      "the network is not attached in this namespace yet",
      [asAuto(webPrivate, "web-private")],
      [{ networkRef: "private" }],
      /to be attached in this project/,
    ],
  ])("waits while %s", (name, ports, networks, message) => {
    const unattached = name.includes("attached") ? [network("private", { status: { mtu: 1450 } })] : undefined;
    const result = resolve(ports, { networks }, unattached);
    expect(result.state).toBe("pending");
    expect(result.state === "pending" ? result.message : "").toMatch(message);
  });

  it.each([
    ["an explicit port bound to another server", [{ ...webStorage, status: { ...webStorage.status, deviceId: "other-uid" } }], [{ portRef: "web-storage" }], "PortInUse"],
    ["the auto port's name taken by a port of someone else", [owned(webPrivate, "other")], [{ networkRef: "private" }], "PortInUse"],
    [
      "the port cannot get an address",
      [asAuto(port("x", {}, { status: { conditions: [readyCondition(1, "False", "IpAddressGenerationFailure", "no more IP addresses")] } }), "web-private")],
      [{ networkRef: "private" }],
      "IpAddressGenerationFailure",
    ],
  ])("fails when %s", (_name, ports, networks, reason) => {
    const result = resolve(ports as Port[], { networks });
    expect(result.state).toBe("failed");
    expect(result.state === "failed" ? result.reason : "").toBe(reason);
  });
});
