// Our CRDs on the real apiserver: a valid object of every kind is accepted, and a table of invalid ones is
// rejected with a message a user can act on (OpenAPI schema or CEL rule).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ALL_KINDS, API_VERSION, type AnyKind } from "../src/api/index.js";
import { Builtin, KubeApiError, type KubeObject } from "../src/kube/index.js";
import { testClient, unique } from "./helpers.js";

const client = testClient();
const namespace = unique("crd-validation");

const kindByName = (name: string): AnyKind => {
  const kind = ALL_KINDS.find((k) => k.kind === name);
  if (kind === undefined) throw new Error(`no kind ${name}`);
  return kind;
};

/** A minimal valid spec for each kind; invalid cases are variations of it. */
const VALID: Record<string, Record<string, unknown>> = {
  Project: { quotas: { instances: 5 }, members: [{ user: "alice", role: "admin" }] },
  Flavor: { vcpus: 1, ram: 512, disk: 1, extraSpecs: { "hw:cpu_policy": "dedicated", "hw:cpu_sockets": "1" } },
  Keypair: {
    publicKey:
      "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJ1bm8uZXhhbXBsZS5rZXkuZm9yLnRlc3Rpbmcub25seQ alice@example",
  },
  Image: { source: { http: { url: "http://images.example/cirros.qcow2" } }, diskFormat: "qcow2" },
  Server: { flavorRef: "m1.tiny", imageRef: "cirros", networks: [{ networkRef: "private", fixedIP: "10.0.0.10" }] },
  Network: { mtu: 1450, providerNetworkType: "vlan", providerSegmentationId: 100 },
  Subnet: {
    networkRef: "private",
    cidr: "10.0.0.0/24",
    ipVersion: 4,
    gatewayIP: "10.0.0.1",
    allocationPools: [{ start: "10.0.0.10", end: "10.0.0.200" }],
  },
  Port: { networkRef: "private", fixedIPs: [{ subnetRef: "private-v4", ipAddress: "10.0.0.20" }] },
  SecurityGroup: {
    rules: [{ direction: "ingress", protocol: "tcp", portRangeMin: 22, portRangeMax: 22, remoteIPPrefix: "0.0.0.0/0" }],
  },
  Volume: { size: 1, source: { imageRef: "cirros" } },
  Snapshot: { volumeRef: "data" },
  Container: { image: "docker.io/library/nginx:1.27", networks: [{ networkRef: "private" }] },
  ServerAction: { serverRef: "web", action: "resize", flavorRef: "m1.large" },
};

interface InvalidCase {
  kind: string;
  why: string;
  spec: Record<string, unknown>;
  /** A piece of the apiserver's message that tells the user what is wrong. */
  message: string | RegExp;
}

const INVALID: InvalidCase[] = [
  { kind: "Project", why: "negative quota", spec: { quotas: { cores: -5 } }, message: "spec.quotas.cores" },
  {
    kind: "Project",
    why: "member with user and group",
    spec: { members: [{ user: "a", group: "b", role: "member" }] },
    message: "a member names exactly one of user or group",
  },
  { kind: "Project", why: "unknown role", spec: { members: [{ user: "a", role: "owner" }] }, message: /supported values.*admin/i },
  { kind: "Flavor", why: "zero vcpus", spec: { ...VALID.Flavor, vcpus: 0 }, message: "spec.vcpus" },
  { kind: "Flavor", why: "missing ram", spec: { vcpus: 1, disk: 1 }, message: "spec.ram: Required value" },
  {
    kind: "Flavor",
    why: "access list on a public flavor",
    spec: { ...VALID.Flavor, projects: ["demo"] },
    message: "flavor access (projects) can only be granted on a private flavor",
  },
  {
    kind: "Flavor",
    why: "bad cpu policy",
    spec: { ...VALID.Flavor, extraSpecs: { "hw:cpu_policy": "exclusive" } },
    message: "hw:cpu_policy must be one of shared, dedicated, mixed",
  },
  {
    kind: "Keypair",
    why: "not an OpenSSH key",
    spec: { publicKey: "-----BEGIN PUBLIC KEY----- MIIB" },
    message: "publicKey must be an OpenSSH public key line",
  },
  {
    kind: "Image",
    why: "two sources",
    spec: { source: { http: { url: "http://x/y" }, upload: {} } },
    message: "source must set exactly one of http, upload, volumeRef, serverRef",
  },
  { kind: "Image", why: "unknown disk format", spec: { ...VALID.Image, diskFormat: "vhdz" }, message: "spec.diskFormat" },
  {
    kind: "Image",
    why: "members on a private image",
    spec: { ...VALID.Image, visibility: "private", members: [{ project: "other" }] },
    message: "members can only be set on an image with visibility shared",
  },
  {
    kind: "Server",
    why: "no boot source",
    spec: { flavorRef: "m1.tiny" },
    message: "a server boots from exactly one of imageRef or bootVolume",
  },
  {
    kind: "Server",
    why: "network entry with port and network",
    spec: { ...VALID.Server, networks: [{ portRef: "p", networkRef: "n" }] },
    message: "set exactly one of portRef or networkRef",
  },
  {
    kind: "Server",
    why: "fixedIP that is not an address",
    spec: { ...VALID.Server, networks: [{ networkRef: "n", fixedIP: "10.0.0.300" }] },
    message: "fixedIP must be an IP address",
  },
  { kind: "Server", why: "unknown power state", spec: { ...VALID.Server, powerState: "Hibernate" }, message: "spec.powerState" },
  {
    kind: "ServerAction",
    why: "resize without a flavor",
    spec: { serverRef: "web", action: "resize" },
    message: "flavorRef is required for resize and only allowed there",
  },
  {
    kind: "ServerAction",
    why: "a reboot type on another action",
    spec: { serverRef: "web", action: "rebuild", type: "HARD" },
    message: "type is only allowed for reboot",
  },
  {
    kind: "Network",
    why: "segmentation id on a flat network",
    spec: { providerNetworkType: "flat", providerSegmentationId: 5 },
    message: "providerSegmentationId requires providerNetworkType vlan",
  },
  { kind: "Network", why: "VLAN out of range", spec: { providerNetworkType: "vlan", providerSegmentationId: 5000 }, message: "spec.providerSegmentationId" },
  { kind: "Subnet", why: "bad CIDR", spec: { ...VALID.Subnet, cidr: "10.0.0.0/33", gatewayIP: undefined, allocationPools: undefined }, message: "cidr must be a CIDR" },
  {
    kind: "Subnet",
    why: "host bits set",
    spec: { networkRef: "n", cidr: "10.0.0.5/24", ipVersion: 4 },
    message: "cidr must be a network address",
  },
  {
    kind: "Subnet",
    why: "IPv6 CIDR with ipVersion 4",
    spec: { networkRef: "n", cidr: "fd00::/64", ipVersion: 4 },
    message: "cidr does not match ipVersion",
  },
  {
    kind: "Subnet",
    why: "pool outside the CIDR",
    spec: { ...VALID.Subnet, allocationPools: [{ start: "10.0.1.10", end: "10.0.1.20" }] },
    message: "every allocation pool must be inside cidr",
  },
  {
    kind: "Subnet",
    why: "gateway outside the CIDR",
    spec: { ...VALID.Subnet, gatewayIP: "192.168.0.1" },
    message: "gatewayIP must be inside cidr",
  },
  {
    kind: "Port",
    why: "malformed MAC",
    spec: { networkRef: "n", macAddress: "FA:16:3E:00:00:0G" },
    message: "spec.macAddress",
  },
  {
    kind: "SecurityGroup",
    why: "port range on icmp-less protocol any",
    spec: { rules: [{ direction: "ingress", protocol: "any", portRangeMin: 1, portRangeMax: 2 }] },
    message: "a port range needs protocol tcp, udp or sctp",
  },
  {
    kind: "SecurityGroup",
    why: "inverted port range",
    spec: { rules: [{ direction: "ingress", protocol: "tcp", portRangeMin: 90, portRangeMax: 80 }] },
    message: "portRangeMin must not exceed portRangeMax",
  },
  {
    kind: "SecurityGroup",
    why: "remote prefix and remote group",
    spec: { rules: [{ direction: "egress", remoteIPPrefix: "10.0.0.0/8", remoteGroupRef: "default" }] },
    message: "set remoteIPPrefix or remoteGroupRef, not both",
  },
  { kind: "Volume", why: "size zero", spec: { size: 0 }, message: "spec.size" },
  {
    kind: "Volume",
    why: "two sources",
    spec: { size: 1, source: { imageRef: "cirros", snapshotRef: "s" } },
    message: "source sets at most one of imageRef, snapshotRef, volumeRef",
  },
  { kind: "Snapshot", why: "no volume", spec: {}, message: "spec.volumeRef: Required value" },
  { kind: "Container", why: "relative mount path", spec: { image: "nginx", volumes: [{ volumeRef: "v", mountPath: "data" }] }, message: "mountPath" },
];

function objectOf(kind: AnyKind, spec: Record<string, unknown>, name = unique(kind.singular)): KubeObject & { spec: unknown } {
  return {
    apiVersion: API_VERSION,
    kind: kind.kind,
    metadata: kind.namespaced ? { name, namespace } : { name },
    spec,
  };
}

beforeAll(async () => {
  await client.create(Builtin.Namespace, { apiVersion: "v1", kind: "Namespace", metadata: { name: namespace } });
});
afterAll(async () => {
  await client.delete(Builtin.Namespace, namespace, undefined);
});

describe("valid objects of every kind are accepted", () => {
  it("covers every kind", () => {
    expect(Object.keys(VALID).sort()).toEqual(ALL_KINDS.map((k) => k.kind).sort());
  });
  for (const kind of ALL_KINDS) {
    it(kind.kind, async () => {
      const created = await client.create(kind, objectOf(kind, VALID[kind.kind] ?? {}), { dryRun: true });
      expect(created.metadata.uid).toBeTruthy();
    });
  }
});

describe("invalid objects are rejected with a readable message", () => {
  for (const c of INVALID) {
    it(`${c.kind}: ${c.why}`, async () => {
      const kind = kindByName(c.kind);
      const error = await client.create(kind, objectOf(kind, c.spec), { dryRun: true }).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error, "the apiserver accepted it").toBeInstanceOf(KubeApiError);
      const apiError = error as KubeApiError;
      expect(apiError.statusCode).toBe(422);
      expect(apiError.message).toMatch(c.message);
    });
  }
});

describe("transition rules", () => {
  it("refuses to shrink a volume and to change a subnet's network", async () => {
    const volumeKind = kindByName("Volume");
    const volume = await client.create(volumeKind, objectOf(volumeKind, { size: 5 }));
    const shrink = await client
      .apply(volumeKind, { ...objectOf(volumeKind, { size: 2 }, volume.metadata.name) }, { fieldManager: "test" })
      .catch((e: unknown) => e);
    expect((shrink as KubeApiError).message).toContain("size can only grow");

    const subnetKind = kindByName("Subnet");
    const subnet = await client.create(subnetKind, objectOf(subnetKind, VALID.Subnet ?? {}));
    const moved = await client
      .apply(subnetKind, objectOf(subnetKind, { ...VALID.Subnet, networkRef: "other" }, subnet.metadata.name), {
        fieldManager: "test",
      })
      .catch((e: unknown) => e);
    expect((moved as KubeApiError).message).toContain("networkRef is immutable");
  });
});

describe("a kind whose spec may be left out", () => {
  it("is stored with spec {} when created without one (readers never meet a missing spec)", async () => {
    for (const kind of ALL_KINDS.filter((k) => k.specOptional === true && k.namespaced)) {
      const name = unique(kind.singular);
      const created = await client.create<KubeObject & { spec?: unknown }>(kind, {
        apiVersion: API_VERSION,
        kind: kind.kind,
        metadata: { name, namespace },
      });
      expect(created.spec, kind.kind).toEqual({});
      await client.delete(kind, name, namespace);
    }
  });
});
