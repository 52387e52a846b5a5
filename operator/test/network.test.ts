// Networking on the real apiserver (with the real NAD and MultiNetworkPolicy CRDs) and the simulator:
// networks get segments and OVS-CNI NADs, subnets are validated, ports get unique addresses, exhaustion and
// in-use deletion are reported in Neutron's terms, shared networks reach other projects (and private ones
// do not), security groups become MultiNetworkPolicies, and a server on two networks gets two interfaces and
// a network_data.json the guest (the simulator) reads its addresses from, through the real Server reconciler.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  API_VERSION,
  allocationKind,
  containerKind,
  networkKind,
  portKind,
  projectKind,
  securityGroupKind,
  serverKind,
  subnetKind,
  type Allocation,
  type Container,
  type Network,
  type Port,
  type Project,
  type SecurityGroup,
  type Server,
  type Subnet,
} from "../src/api/index.js";
import { Builtin, Upstream, type KubeApiError, type KubeObject, type ResourceType } from "../src/kube/index.js";
import { loadOperatorConfig } from "../src/operator/config.js";
import { startOperator, type RunningOperator } from "../src/operator/operator.js";
import { allocationObject } from "../src/reconcilers/ipam/arbiter.js";
import type { PodObject } from "../src/reconcilers/container/desired.js";
import type { NadObject, PolicyObject } from "../src/reconcilers/network/sources.js";
import { baselinePolicyName, policyName } from "../src/reconcilers/securitygroup/desired.js";
import { portSecurityLabel, securityGroupLabel } from "../src/reconcilers/securitygroup/labels.js";
import { startSimulator, uniformDelays, type Simulator } from "../src/simulator/index.js";
import { activeImage, createFlavor } from "./compute-fixtures.js";
import { TEST_OPERATOR_FLAGS, conditionOf, eventually, operatorClient, testClient, testLogger, unique } from "./helpers.js";

const client = testClient();
let operator: RunningOperator;
/** The project allowed to set provider attributes in these tests (as `admin` is by default). */
const providerProject = unique("provider");
let simulator: Simulator;
const projects: string[] = [];

type Spec = Record<string, unknown>;
const obj = (kind: string, namespace: string, name: string, spec: Spec): KubeObject & { spec: Spec } => ({
  apiVersion: API_VERSION,
  kind,
  metadata: { name, namespace },
  spec,
});

async function newProject(prefix: string, name = unique(prefix)): Promise<string> {
  projects.push(name);
  await client.create<Project>(projectKind, { apiVersion: API_VERSION, kind: "Project", metadata: { name }, spec: { deletionPolicy: "Cascade" } });
  await eventually(`project ${name} ready`, async () => conditionOf(await client.get(projectKind, name))?.status === "True");
  return `project-${name}`;
}

/** The object once its Ready condition has `reason` (or status True when no reason is given), for its generation. */
async function waitReady<T extends KubeObject>(rt: ResourceType, namespace: string | undefined, name: string, reason?: string, timeoutMs = 30_000): Promise<T> {
  return eventually(
    `${rt.kind} ${name} ${reason ?? "Ready"}`,
    async () => {
      const o = await client.get<T>(rt, name, namespace);
      const c = conditionOf(o) as { status: string; reason: string; observedGeneration?: number } | undefined;
      if (o === undefined || c === undefined || c.observedGeneration !== o.metadata.generation) return undefined;
      return (reason === undefined ? c.status === "True" : c.reason === reason) ? o : undefined;
    },
    timeoutMs,
  );
}

async function gone(rt: ResourceType, namespace: string | undefined, name: string): Promise<void> {
  await eventually(`${rt.kind} ${name} gone`, async () => (await client.get(rt, name, namespace)) === undefined);
}

async function networkWithSubnet(namespace: string, net: string, cidr: string, subnetSpec: Spec = {}, netSpec: Spec = {}): Promise<Network> {
  await client.create(networkKind, obj("Network", namespace, net, netSpec));
  await client.create(subnetKind, obj("Subnet", namespace, `${net}-v4`, { networkRef: net, cidr, ipVersion: cidr.includes(":") ? 6 : 4, ...subnetSpec }));
  await waitReady(subnetKind, namespace, `${net}-v4`);
  return waitReady<Network>(networkKind, namespace, net);
}

const ipsOf = (p: Port | undefined): string[] => (p?.status?.fixedIPs ?? []).map((f) => f.ipAddress);

beforeAll(async () => {
  const config = loadOperatorConfig(
    [...TEST_OPERATOR_FLAGS, "--identity=network-test", `--provider-network-projects=admin,${providerProject}`],
    {},
  );
  operator = await startOperator({ client: operatorClient(), logger: testLogger("operator"), config });
  simulator = await startSimulator({ client, log: testLogger("simulator"), config: { delays: uniformDelays(20), nodes: { count: 1 } } });
});
afterAll(async () => {
  for (const name of projects) await client.delete(projectKind, name, undefined);
  for (const name of projects) await gone(projectKind, undefined, name).catch(() => undefined);
  await simulator.stop();
  for (const name of ["sim-node-1"]) await client.delete(Builtin.Node, name, undefined);
  await operator.stop();
});

describe("networks", () => {
  it("get a tenant VLAN and an OVS-CNI NAD the real CRD accepts; admins may pin a VLAN, and only one network gets it", async () => {
    const ns = await newProject("net", providerProject);
    const net = await networkWithSubnet(ns, "private", "10.10.0.0/24");
    expect(net.status).toMatchObject({ status: "ACTIVE", networkType: "vlan", physicalNetwork: "physnet1", bridge: "br1", mtu: 1500, subnets: ["private-v4"] });
    expect(net.status?.segmentationId).toBeGreaterThanOrEqual(1000);
    expect(net.status?.segmentationId).toBeLessThanOrEqual(1999);
    const nad = await client.get<NadObject>(Upstream.NetworkAttachmentDefinition, "private", ns);
    expect(JSON.parse(nad?.spec?.config ?? "{}")).toMatchObject({ type: "ovs", bridge: "br1", vlan: net.status?.segmentationId, mtu: 1500 });
    expect(nad?.metadata.annotations?.["k8s.v1.cni.cncf.io/resourceName"]).toBe("ovs-cni.network.kubevirt.io/br1");
    expect(nad?.metadata.ownerReferences?.[0]?.uid).toBe(net.metadata.uid);
    const allocation = await client.get<Allocation>(allocationKind, `vlan-physnet1-${net.status?.segmentationId ?? 0}`);
    expect(allocation?.spec.holder.uid).toBe(net.metadata.uid);

    const pin = { providerNetworkType: "vlan", providerSegmentationId: 42, mtu: 9000 };
    await client.create(networkKind, obj("Network", ns, "pinned", pin));
    const pinned = await waitReady<Network>(networkKind, ns, "pinned");
    expect(pinned.status).toMatchObject({ segmentationId: 42, mtu: 9000 });
    await client.create(networkKind, obj("Network", ns, "pinned-again", pin));
    const refused = await waitReady<Network>(networkKind, ns, "pinned-again", "VlanIdInUse");
    expect(conditionOf(refused)?.message).toMatch(/VLAN 42 on physnet1 is already used by network .*\/pinned; pick another providerSegmentationId/);
    // The VLAN is freed with its network, and the waiting one gets it.
    await client.delete(networkKind, "pinned", ns);
    await waitReady(networkKind, ns, "pinned-again");

    // Deleting a network without ports takes its subnets, NAD and VLAN with it (as Neutron does).
    await client.delete(networkKind, "private", ns);
    await gone(subnetKind, ns, "private-v4");
    await gone(networkKind, ns, "private");
    await gone(Upstream.NetworkAttachmentDefinition, ns, "private");
    await gone(allocationKind, undefined, `vlan-physnet1-${net.status?.segmentationId ?? 0}`);
  });

  it("refuse provider attributes outside the admin projects", async () => {
    const ns = await newProject("tenant");
    await client.create(networkKind, obj("Network", ns, "sneaky", { providerNetworkType: "vlan", providerSegmentationId: 7 }));
    const refused = await waitReady<Network>(networkKind, ns, "sneaky", "InvalidSpec");
    expect(conditionOf(refused)?.message).toContain("provider attributes");
    expect(await client.get(allocationKind, "vlan-physnet1-7")).toBeUndefined();
    expect(await client.get(Upstream.NetworkAttachmentDefinition, "sneaky", ns)).toBeUndefined();
  });

  it("reach other projects only when shared", async () => {
    const home = await newProject("home");
    const away = await newProject("away");
    const shared = await networkWithSubnet(home, "public", "10.20.0.0/24", {}, { shared: true });
    await networkWithSubnet(home, "secret", "10.21.0.0/24");
    const homeProject = home.slice("project-".length);
    await client.create(portKind, obj("Port", away, "guest", { networkRef: `${homeProject}/public` }));
    await client.create(portKind, obj("Port", away, "spy", { networkRef: `${homeProject}/secret` }));
    const guest = await waitReady<Port>(portKind, away, "guest");
    expect(ipsOf(guest)[0]).toMatch(/^10\.20\.0\./);
    const foreignNad = `net-${shared.metadata.uid ?? ""}`;
    expect(await client.get(Upstream.NetworkAttachmentDefinition, foreignNad, away)).toBeDefined();
    await eventually("shared network lists its attachment", async () =>
      ((await client.get<Network>(networkKind, "public", home))?.status?.attachments ?? []).includes(`${away}/${foreignNad}`),
    );
    const spy = await waitReady<Port>(portKind, away, "spy", "DependencyNotFound");
    expect(conditionOf(spy)?.message).toContain(`network ${homeProject}/secret not found`);
    expect(spy.status?.fixedIPs ?? []).toEqual([]);
    const nads = await client.list(Upstream.NetworkAttachmentDefinition, { namespace: away });
    expect(nads.items.map((n) => n.metadata.name)).toEqual([foreignNad]);
    // The last port leaving takes the NAD out of the other project.
    await client.delete(portKind, "guest", away);
    await eventually("foreign NAD removed", async () => (await client.get(Upstream.NetworkAttachmentDefinition, foreignNad, away)) === undefined);
  });
});

describe("subnets", () => {
  it("are refused in Neutron's terms when they overlap a sibling or put the gateway in a pool", async () => {
    const ns = await newProject("subnets");
    await networkWithSubnet(ns, "net", "10.30.0.0/24");
    await client.create(subnetKind, obj("Subnet", ns, "overlap", { networkRef: "net", cidr: "10.30.0.128/25", ipVersion: 4 }));
    const overlap = await waitReady<Subnet>(subnetKind, ns, "overlap", "OverlappingSubnet");
    expect(conditionOf(overlap)?.message).toMatch(/overlaps subnet net-v4 \(10.30.0.0\/24\)/);
    await client.create(
      subnetKind,
      obj("Subnet", ns, "gateway", { networkRef: "net", cidr: "10.31.0.0/24", ipVersion: 4, gatewayIP: "10.31.0.50", allocationPools: [{ start: "10.31.0.10", end: "10.31.0.99" }] }),
    );
    const gateway = await waitReady<Subnet>(subnetKind, ns, "gateway", "GatewayConflictWithAllocationPools");
    expect(conditionOf(gateway)?.message).toContain("gatewayIP 10.31.0.50 is inside an allocation pool");
    // A fix is picked up.
    await client.patch(subnetKind, "gateway", ns, { spec: { gatewayIP: "10.31.0.1" } }, "merge");
    const fixed = await waitReady<Subnet>(subnetKind, ns, "gateway");
    expect(fixed.status).toMatchObject({ gatewayIP: "10.31.0.1", allocationPools: [{ start: "10.31.0.10", end: "10.31.0.99" }], total: 90 });
  });
});

describe("ports", () => {
  it("get an IPv4 address and their SLAAC IPv6 address on a dual-stack network", async () => {
    const ns = await newProject("dual");
    await networkWithSubnet(ns, "net", "10.41.0.0/24");
    await client.create(subnetKind, obj("Subnet", ns, "net-v6", { networkRef: "net", cidr: "fd00:41::/64", ipVersion: 6, ipv6AddressMode: "slaac", ipv6RaMode: "slaac" }));
    await waitReady(subnetKind, ns, "net-v6");
    await client.create(portKind, obj("Port", ns, "p", { networkRef: "net" }));
    const port = await eventually("two addresses", async () => {
      const p = await client.get<Port>(portKind, "p", ns);
      return ipsOf(p).length === 2 && conditionOf(p)?.status === "True" ? p : undefined;
    });
    const [v4, v6] = ipsOf(port);
    expect(v4).toMatch(/^10\.41\.0\./);
    const mac = (port.status?.macAddress ?? "").split(":").map((b) => parseInt(b, 16));
    const eui = `fd00:41::${(((mac[0] ?? 0) ^ 2) * 256 + (mac[1] ?? 0)).toString(16)}:${(mac[2] ?? 0).toString(16)}ff:fe${(mac[3] ?? 0).toString(16).padStart(2, "0")}:${((mac[4] ?? 0) * 256 + (mac[5] ?? 0)).toString(16)}`;
    expect(v6).toBe(eui);
  });

  it("get OpenStack MACs and free addresses from the pool; a requested address taken twice is refused", async () => {
    const ns = await newProject("ports");
    await networkWithSubnet(ns, "net", "10.40.0.0/24");
    await client.create(portKind, obj("Port", ns, "a", { networkRef: "net" }));
    await client.create(portKind, obj("Port", ns, "b", { networkRef: "net", fixedIPs: [{ ipAddress: "10.40.0.77" }], macAddress: "fa:16:3e:77:77:77" }));
    const a = await waitReady<Port>(portKind, ns, "a");
    const b = await waitReady<Port>(portKind, ns, "b");
    expect(a.status?.macAddress).toMatch(/^fa:16:3e(:[0-9a-f]{2}){3}$/);
    expect(ipsOf(a)).toHaveLength(1);
    expect(ipsOf(a)[0]).toMatch(/^10\.40\.0\.([2-9]|[1-9][0-9]|1[0-9][0-9]|2[0-4][0-9]|25[0-4])$/);
    expect(a.status).toMatchObject({ status: "DOWN", networkId: (await client.get(networkKind, "net", ns))?.metadata.uid });
    expect(ipsOf(b)).toEqual(["10.40.0.77"]);
    expect(b.status?.macAddress).toBe("fa:16:3e:77:77:77");

    await client.create(portKind, obj("Port", ns, "c", { networkRef: "net", fixedIPs: [{ ipAddress: "10.40.0.77" }] }));
    await client.create(portKind, obj("Port", ns, "d", { networkRef: "net", macAddress: "fa:16:3e:77:77:77" }));
    const c = await waitReady<Port>(portKind, ns, "c", "IpAddressAlreadyAllocated");
    expect(conditionOf(c)?.message).toContain("IP address 10.40.0.77 on subnet net-v4 is already allocated to port b");
    const d = await waitReady<Port>(portKind, ns, "d", "MacAddressInUse");
    expect(conditionOf(d)?.message).toContain("fa:16:3e:77:77:77 is already in use by port b");
    // Freed by b's deletion, the address goes to c.
    await client.delete(portKind, "b", ns);
    expect(ipsOf(await waitReady<Port>(portKind, ns, "c"))).toEqual(["10.40.0.77"]);
    await waitReady(portKind, ns, "d");
  });

  it("wait for the security groups they name", async () => {
    const ns = await newProject("sgwait");
    await networkWithSubnet(ns, "net", "10.42.0.0/24");
    await client.create(portKind, obj("Port", ns, "p", { networkRef: "net", securityGroupRefs: ["later"] }));
    const waiting = await waitReady<Port>(portKind, ns, "p", "DependencyNotFound");
    expect(conditionOf(waiting)?.message).toContain("security group(s) later not found");
    expect(ipsOf(waiting)).toHaveLength(1); // its address is allocated meanwhile
    await client.create(securityGroupKind, obj("SecurityGroup", ns, "later", {}));
    await waitReady(portKind, ns, "p");
  });

  it("report exhaustion as IpAddressGenerationFailure and get an address once one is freed", async () => {
    const ns = await newProject("exhaust");
    await networkWithSubnet(ns, "tiny", "10.50.0.0/29"); // .2–.6 usable: 5 addresses
    for (let i = 0; i < 6; i++) await client.create(portKind, obj("Port", ns, `p${i}`, { networkRef: "tiny" }));
    const failed = await eventually("five ports ready, one failing", async () => {
      const { items } = await client.list<Port>(portKind, { namespace: ns });
      const ready = items.filter((p) => conditionOf(p)?.status === "True");
      const failing = items.filter((p) => conditionOf(p)?.reason === "IpAddressGenerationFailure");
      return ready.length === 5 && failing.length === 1 ? { ready, failing: failing[0] } : undefined;
    });
    expect(new Set(failed.ready.flatMap(ipsOf))).toEqual(new Set(["10.50.0.2", "10.50.0.3", "10.50.0.4", "10.50.0.5", "10.50.0.6"]));
    expect(conditionOf(failed.failing)?.message).toContain("no more IP addresses available on subnet tiny-v4");
    expect((await client.get<Subnet>(subnetKind, "tiny-v4", ns))?.status).toMatchObject({ allocated: 5, total: 5 });

    const freed = ipsOf(failed.ready[0])[0];
    await client.delete(portKind, failed.ready[0]?.metadata.name ?? "", ns);
    const recovered = await waitReady<Port>(portKind, ns, failed.failing?.metadata.name ?? "");
    expect(ipsOf(recovered)).toEqual([freed]);
  });

  it("keep allocations out of tenants' reach: members can manage ports but not forge or free an allocation", async () => {
    const ns = await newProject("rbac");
    await networkWithSubnet(ns, "net", "10.61.0.0/24");
    const project = ns.slice("project-".length);
    const member = client.impersonate({ user: "mallory", groups: [`altostack:project:${project}:member`] });
    await eventually("member may create ports", async () => {
      await member.create(portKind, obj("Port", ns, "mine", { networkRef: "net" }));
      return true;
    });
    const port = await waitReady<Port>(portKind, ns, "mine");
    const subnetUid = (await client.get(subnetKind, "net-v4", ns))?.metadata.uid ?? "";
    const forged = allocationObject("ip", subnetUid, "10.61.0.99", { kind: "Port", namespace: ns, name: "mine", uid: port.metadata.uid ?? "" });
    const createError = await member.create(allocationKind, forged).catch((e: unknown) => e);
    expect((createError as KubeApiError).statusCode).toBe(403);
    const held = (await client.list<Allocation>(allocationKind, { labelSelector: `altostack.io/holder-uid=${port.metadata.uid ?? ""}` })).items;
    const deleteError = await member.delete(allocationKind, held[0]?.metadata.name ?? "").catch((e: unknown) => e);
    expect((deleteError as KubeApiError).statusCode).toBe(403);
    const listError = await member.list(allocationKind).catch((e: unknown) => e);
    expect((listError as KubeApiError).statusCode).toBe(403);
  });

  it("free values a crash left behind: an allocation whose holder is gone, and one its holder does not name", async () => {
    const ns = await newProject("crash");
    await networkWithSubnet(ns, "net", "10.60.0.0/24");
    await client.create(portKind, obj("Port", ns, "p", { networkRef: "net" }));
    const port = await waitReady<Port>(portKind, ns, "p");
    const subnetUid = (await client.get(subnetKind, "net-v4", ns))?.metadata.uid ?? "";
    const holder = { kind: "Port", namespace: ns, name: "p", uid: port.metadata.uid ?? "" };
    // A replica crashed after taking .200 for p but before writing p's status: p's next reconcile frees it.
    await client.create(allocationKind, allocationObject("ip", subnetUid, "10.60.0.200", holder));
    // A replica crashed after taking .201 for a port that is gone since: garbage collection frees it.
    await client.create(allocationKind, allocationObject("ip", subnetUid, "10.60.0.201", { ...holder, name: "vanished", uid: "00000000-dead-beef-0000-000000000000" }));
    await gone(allocationKind, undefined, `ip-${subnetUid}-0a3c00c8`);
    await gone(allocationKind, undefined, `ip-${subnetUid}-0a3c00c9`);
    expect(ipsOf(await client.get<Port>(portKind, "p", ns))).toEqual(ipsOf(port));
  });
});

describe("deletion in use", () => {
  it("holds a network with ports (NetworkInUse) and a subnet with addresses (SubnetInUse) until the ports go", async () => {
    const ns = await newProject("inuse");
    const net = await networkWithSubnet(ns, "net", "10.70.0.0/24");
    await client.create(portKind, obj("Port", ns, "p", { networkRef: "net" }));
    const address = ipsOf(await waitReady<Port>(portKind, ns, "p"));
    await client.delete(subnetKind, "net-v4", ns);
    const subnet = await waitReady<Subnet>(subnetKind, ns, "net-v4", "SubnetInUse");
    expect(conditionOf(subnet)?.message).toMatch(/1 allocated address\(es\), held by port p; delete those ports/);
    await client.delete(networkKind, "net", ns);
    const network = await waitReady<Network>(networkKind, ns, "net", "NetworkInUse");
    expect(conditionOf(network)?.message).toMatch(/still has 1 port\(s\): p; delete them/);
    // The port keeps its address while its subnet waits to be deleted.
    expect(ipsOf(await client.get<Port>(portKind, "p", ns))).toEqual(address);

    await client.delete(portKind, "p", ns);
    await gone(subnetKind, ns, "net-v4");
    await gone(networkKind, ns, "net");
    await gone(Upstream.NetworkAttachmentDefinition, ns, "net");
    await gone(allocationKind, undefined, `vlan-physnet1-${net.status?.segmentationId ?? 0}`);
  });
});

describe("security groups", () => {
  it("every project gets OpenStack's default group, enforced by MultiNetworkPolicies the real CRD accepts", async () => {
    const ns = await newProject("sg");
    const group = await waitReady<SecurityGroup>(securityGroupKind, ns, "default");
    expect(group.spec.rules).toHaveLength(4);
    expect(group.status?.policies).toEqual([]); // no port yet
    await networkWithSubnet(ns, "net", "10.80.0.0/24");
    // A port that names no group is in `default` (Neutron's rule): the group is enforced on its network.
    await client.create(portKind, obj("Port", ns, "p", { networkRef: "net" }));
    const enforced = await eventually("default group enforced", async () => {
      const g = await client.get<SecurityGroup>(securityGroupKind, "default", ns);
      return (g?.status?.policies ?? []).length === 2 ? g : undefined;
    });
    const defaultPolicy = policyName("default", `${ns}/net`);
    expect(enforced.status?.policies).toEqual([defaultPolicy, baselinePolicyName(`${ns}/net`)]);
    const policy = await client.get<PolicyObject>(Upstream.MultiNetworkPolicy, defaultPolicy, ns);
    expect(policy?.metadata.annotations?.["k8s.v1.cni.cncf.io/policy-for"]).toBe(`${ns}/net`);
    expect(policy?.spec?.podSelector).toEqual({ matchLabels: { [securityGroupLabel("default", `${ns}/net`)]: "true" } });
    const baseline = await client.get<PolicyObject>(Upstream.MultiNetworkPolicy, baselinePolicyName(`${ns}/net`), ns);
    expect(baseline?.spec?.podSelector).toEqual({ matchLabels: { [portSecurityLabel(`${ns}/net`)]: "enabled" } });

    // Tenants may add rules to `default`; the operator does not put them back.
    await client.patch(securityGroupKind, "default", ns, { spec: { rules: [...(group.spec.rules ?? []), { direction: "ingress", protocol: "tcp", portRangeMin: 22, portRangeMax: 22 }] } }, "merge");
    await eventually("ssh rule enforced", async () =>
      ((await client.get<PolicyObject>(Upstream.MultiNetworkPolicy, defaultPolicy, ns))?.spec?.ingress ?? []).some((r) =>
        (r.ports ?? []).some((p) => p.port === 22),
      ),
    );
    // Deleted, it comes back (Neutron does not let the default group go).
    await client.delete(securityGroupKind, "default", ns);
    await eventually("default group re-created", async () => {
      const g = await client.get(securityGroupKind, "default", ns);
      return g !== undefined && g.metadata.uid !== group.metadata.uid;
    });
  });

  it("names the rules MultiNetworkPolicy cannot enforce instead of widening them", async () => {
    const ns = await newProject("sgpartial");
    await networkWithSubnet(ns, "net", "10.81.0.0/24");
    await client.create(portKind, obj("Port", ns, "p", { networkRef: "net", securityGroupRefs: ["web"] }));
    await client.create(securityGroupKind, obj("SecurityGroup", ns, "web", {
      rules: [
        { direction: "ingress", protocol: "tcp", portRangeMin: 80, portRangeMax: 81, remoteIPPrefix: "192.0.2.0/24" },
        { direction: "ingress", protocol: "icmp" },
        { direction: "ingress", remoteGroupRef: "default" },
      ],
    }));
    const web = await waitReady<SecurityGroup>(securityGroupKind, ns, "web", "PartiallyEnforced");
    expect(conditionOf(web)?.status).toBe("True");
    expect(conditionOf(web)?.message).toContain("rule 2: protocol icmp");
    const policy = await eventually("web enforced on net", () => client.get<PolicyObject>(Upstream.MultiNetworkPolicy, policyName("web", `${ns}/net`), ns));
    expect(policy.spec?.ingress).toEqual([
      { from: [{ ipBlock: { cidr: "192.0.2.0/24" } }], ports: [{ protocol: "TCP", port: 80 }, { protocol: "TCP", port: 81 }] },
      // The remote group: the pods with a port in `default` on this same network.
      { from: [{ podSelector: { matchLabels: { [securityGroupLabel("default", `${ns}/net`)]: "true" } } }] },
    ]);
  });

  it("apply per port: a container on two networks in two groups is filtered by each group on its own network only", async () => {
    const ns = await newProject("sgport");
    await networkWithSubnet(ns, "front", "10.82.0.0/24");
    await networkWithSubnet(ns, "back", "10.83.0.0/24");
    await client.create(securityGroupKind, obj("SecurityGroup", ns, "web", { rules: [{ direction: "ingress", protocol: "tcp", portRangeMin: 443, portRangeMax: 443 }] }));
    const db = await client.create<SecurityGroup>(securityGroupKind, obj("SecurityGroup", ns, "db", {
      rules: [{ direction: "ingress", protocol: "tcp", portRangeMin: 5432, portRangeMax: 5432, remoteGroupRef: "web" }],
    }) as unknown as SecurityGroup);
    // What an earlier version made: one policy for the group on every NAD. It is stale now and goes.
    await client.create<PolicyObject>(Upstream.MultiNetworkPolicy, {
      apiVersion: "k8s.cni.cncf.io/v1beta1",
      kind: "MultiNetworkPolicy",
      metadata: {
        name: "sg-db",
        namespace: ns,
        labels: { "app.kubernetes.io/managed-by": "altostack", "altostack.io/security-group-uid": db.metadata.uid ?? "" },
        annotations: { "k8s.v1.cni.cncf.io/policy-for": `${ns}/front,${ns}/back` },
      },
      spec: { podSelector: { matchLabels: { "altostack.io/sg-db": "true" } }, policyTypes: ["Ingress", "Egress"], ingress: [], egress: [] },
    });
    await client.create(portKind, obj("Port", ns, "front-port", { networkRef: "front", securityGroupRefs: ["web"] }));
    await client.create(portKind, obj("Port", ns, "back-port", { networkRef: "back", securityGroupRefs: ["db"] }));
    await client.create<Container>(containerKind, obj("Container", ns, "app", {
      image: "busybox:1.36",
      networks: [{ portRef: "front-port" }, { portRef: "back-port" }],
    }) as unknown as Container);

    const policiesOf = async (group: string): Promise<PolicyObject[]> => {
      const uid = (await client.get<SecurityGroup>(securityGroupKind, group, ns))?.metadata.uid ?? "";
      const list = await client.list<PolicyObject>(Upstream.MultiNetworkPolicy, { namespace: ns, labelSelector: `altostack.io/security-group-uid=${uid}` });
      return list.items;
    };
    const policyFor = (p: PolicyObject): string | undefined => p.metadata.annotations?.["k8s.v1.cni.cncf.io/policy-for"];
    // Each group: one policy, for its own port's network only (accepted by the real MultiNetworkPolicy CRD).
    const [webPolicies, dbPolicies] = await eventually("one policy per group and network", async () => {
      const both = [await policiesOf("web"), await policiesOf("db")] as const;
      return both.every((list) => list.length === 1) && both[1][0]?.metadata.name !== "sg-db" ? both : undefined;
    });
    expect(webPolicies.map(policyFor)).toEqual([`${ns}/front`]);
    expect(webPolicies[0]?.spec?.podSelector).toEqual({ matchLabels: { [securityGroupLabel("web", `${ns}/front`)]: "true" } });
    expect(dbPolicies.map(policyFor)).toEqual([`${ns}/back`]);
    expect(dbPolicies[0]?.spec?.podSelector).toEqual({ matchLabels: { [securityGroupLabel("db", `${ns}/back`)]: "true" } });
    // db's remote group `web` on `back`: pods with a port in web on back — none here, so 5432 stays closed.
    expect(dbPolicies[0]?.spec?.ingress).toEqual([
      { from: [{ podSelector: { matchLabels: { [securityGroupLabel("web", `${ns}/back`)]: "true" } } }], ports: [{ protocol: "TCP", port: 5432 }] },
    ]);
    expect(await client.get(Upstream.MultiNetworkPolicy, "sg-db", ns)).toBeUndefined();

    // The pod is labelled for exactly (web, front) and (db, back), and port security on both networks.
    const container = await eventually("container has a pod", async () => {
      const c = await client.get<Container>(containerKind, "app", ns);
      return c?.status?.podName === undefined ? undefined : c;
    }, 60_000);
    const pod = await client.get<PodObject>(Builtin.Pod, container.status?.podName ?? "", ns);
    const securityLabels = Object.fromEntries(Object.entries(pod?.metadata.labels ?? {}).filter(([k]) => k.startsWith("altostack.io/sg-") || k.startsWith("altostack.io/port-security")));
    expect(securityLabels).toEqual({
      [securityGroupLabel("web", `${ns}/front`)]: "true",
      [securityGroupLabel("db", `${ns}/back`)]: "true",
      [portSecurityLabel(`${ns}/front`)]: "enabled",
      [portSecurityLabel(`${ns}/back`)]: "enabled",
    });

    // The front port moves to db: web has no port left (its policy goes), db is enforced on both networks.
    await client.patch(portKind, "front-port", ns, { spec: { securityGroupRefs: ["db"] } }, "merge");
    await eventually("policies follow the port's groups", async () => {
      const [web, dbNow] = [await policiesOf("web"), await policiesOf("db")];
      return web.length === 0 && dbNow.map(policyFor).sort().join(" ") === `${ns}/back ${ns}/front`;
    });
    const web = await waitReady<SecurityGroup>(securityGroupKind, ns, "web");
    expect(web.status?.policies).toEqual([]);
    expect(conditionOf(web)?.message).toMatch(/no port is in this group yet/);
  });
});

describe("servers on tenant networks", () => {
  it("a server on two networks gets two bound ports, two interfaces and a network_data.json the guest reads", async () => {
    const ns = await newProject("srv");
    await networkWithSubnet(ns, "front", "10.90.0.0/24", { dnsNameservers: ["10.90.0.53"], hostRoutes: [{ destination: "192.168.7.0/24", nexthop: "10.90.0.254" }] });
    await networkWithSubnet(ns, "back", "10.91.0.0/24", { noGateway: true });
    await client.create(securityGroupKind, obj("SecurityGroup", ns, "web", { rules: [{ direction: "ingress", protocol: "tcp", portRangeMin: 443, portRangeMax: 443 }] }));
    await client.create(portKind, obj("Port", ns, "back-port", { networkRef: "back", fixedIPs: [{ ipAddress: "10.91.0.10" }] }));
    const flavor = await createFlavor(client, { vcpus: 1, ram: 512, disk: 1 }, "net-flavor");
    const image = await activeImage(client, ns);
    const spec = {
      flavorRef: flavor,
      imageRef: image,
      securityGroupRefs: ["default", "web"],
      networks: [{ networkRef: "front", fixedIP: "10.90.0.20" }, { portRef: "back-port" }],
    };
    const created = await client.create<Server>(serverKind, obj("Server", ns, "web", spec) as unknown as Server);
    const server = await eventually("server ACTIVE", async () => {
      const s = await client.get<Server>(serverKind, "web", ns);
      return s?.status?.status === "ACTIVE" && Object.keys(s.status.addresses ?? {}).length === 2 ? s : undefined;
    }, 90_000);

    // The port for the network entry is the server's own; the explicit one is bound to it.
    const auto = await client.get<Port>(portKind, "web-front", ns);
    const back = await client.get<Port>(portKind, "back-port", ns);
    expect(auto?.metadata.ownerReferences?.[0]).toMatchObject({ kind: "Server", name: "web", uid: created.metadata.uid, controller: true });
    expect(auto?.spec.securityGroupRefs).toEqual(["default", "web"]);
    for (const p of [auto, back]) {
      expect(p?.status).toMatchObject({ deviceId: created.metadata.uid, deviceOwner: "compute:nova", status: "ACTIVE" });
    }

    // The VirtualMachine the server reconciler built from resolveNetworking (accepted by KubeVirt's CRD).
    type Vm = KubeObject & {
      spec: {
        template: {
          metadata: { labels: Record<string, string> };
          spec: {
            domain: { devices: { interfaces: unknown[] } };
            networks: unknown[];
            volumes: { cloudInitConfigDrive?: { networkData?: string } }[];
          };
        };
      };
    };
    const vm = await client.get<Vm>(Upstream.VirtualMachine, server.status?.virtualMachine ?? "", ns);
    const template = vm?.spec.template;
    expect(template?.spec.domain.devices.interfaces).toEqual([
      { name: "nic0", bridge: {}, macAddress: auto?.status?.macAddress, model: "virtio" },
      { name: "nic1", bridge: {}, macAddress: back?.status?.macAddress, model: "virtio" },
    ]);
    expect(template?.spec.networks).toEqual([
      { name: "nic0", multus: { networkName: `${ns}/front` } },
      { name: "nic1", multus: { networkName: `${ns}/back` } },
    ]);
    // Each port's groups on its own network: the server's groups on front, `default` (no groups named) on back.
    expect(template?.metadata.labels).toMatchObject({
      [securityGroupLabel("default", `${ns}/front`)]: "true",
      [securityGroupLabel("web", `${ns}/front`)]: "true",
      [portSecurityLabel(`${ns}/front`)]: "enabled",
      [securityGroupLabel("default", `${ns}/back`)]: "true",
      [portSecurityLabel(`${ns}/back`)]: "enabled",
    });
    expect(template?.metadata.labels[securityGroupLabel("web", `${ns}/back`)]).toBeUndefined();
    const networkDataText = template?.spec.volumes.find((v) => v.cloudInitConfigDrive !== undefined)?.cloudInitConfigDrive?.networkData;
    const networkData = JSON.parse(networkDataText ?? "{}") as {
      links: { id: string; vif_id: string; ethernet_mac_address: string; mtu: number }[];
      networks: { link: string; ip_address: string; netmask: string; routes: { network: string; netmask: string; gateway: string }[] }[];
      services: unknown[];
    };
    expect(networkData.links.map((l) => [l.vif_id, l.ethernet_mac_address, l.mtu])).toEqual([
      [auto?.metadata.uid, auto?.status?.macAddress, 1500],
      [back?.metadata.uid, back?.status?.macAddress, 1500],
    ]);
    expect(networkData.networks).toMatchObject([
      {
        link: networkData.links[0]?.id,
        ip_address: "10.90.0.20",
        netmask: "255.255.255.0",
        routes: [
          { network: "0.0.0.0", netmask: "0.0.0.0", gateway: "10.90.0.1" },
          { network: "192.168.7.0", netmask: "255.255.255.0", gateway: "10.90.0.254" },
        ],
      },
      { link: networkData.links[1]?.id, ip_address: "10.91.0.10", netmask: "255.255.255.0", routes: [] },
    ]);
    expect(networkData.services).toEqual([{ type: "dns", address: "10.90.0.53" }]);

    // The guest (the simulator, reading network_data.json as cloud-init would) comes up with those addresses,
    // and the server shows them as Nova does.
    expect(server.status?.addresses).toEqual({
      front: [{ addr: "10.90.0.20", version: 4, type: "fixed", macAddr: auto?.status?.macAddress }],
      back: [{ addr: "10.91.0.10", version: 4, type: "fixed", macAddr: back?.status?.macAddress }],
    });

    // The server goes: its own port is deleted (and its address freed), the explicit one is unbound.
    const autoAddress = `ip-${(await client.get(subnetKind, "front-v4", ns))?.metadata.uid ?? ""}-0a5a0014`;
    expect(await client.get(allocationKind, autoAddress)).toBeDefined();
    await client.delete(serverKind, "web", ns);
    await eventually("server gone", async () => (await client.get(serverKind, "web", ns)) === undefined, 60_000);
    await gone(portKind, ns, "web-front");
    await gone(allocationKind, undefined, autoAddress);
    const unbound = await eventually("back-port unbound", async () => {
      const p = await client.get<Port>(portKind, "back-port", ns);
      return p?.status?.deviceId === undefined && p?.status?.status === "DOWN" ? p : undefined;
    });
    expect(ipsOf(unbound)).toEqual(["10.91.0.10"]);
  });
});
