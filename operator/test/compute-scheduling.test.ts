// Nova's scheduling on the test cluster: availability zones (required node affinity on the zone label)
// and server groups (pod (anti-)affinity on kubernetes.io/hostname) decide where the simulator's
// scheduler puts each VMI; a server nothing can take ends in ERROR with Nova's "No valid host was
// found" fault and, being a declarative object, goes ACTIVE once room appears.
//
// The fake Nodes are cluster objects every test file shares, so this file does not add, relabel or
// cordon any: it reads the Ready, schedulable simulated nodes there are (two in zone "nova" with the
// default simulator config) and sizes its groups by them.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { serverKind, type Server } from "../src/api/index.js";
import { Builtin, Upstream } from "../src/kube/index.js";
import { nodeIsSchedulable } from "../src/simulator/scheduling.js";
import { Label, type Node, type VMI } from "../src/simulator/types.js";
import { activeImage, createFlavor, getServer, readyProject, serverObject, serverStatus, startComputeEnv, type ComputeEnv } from "./compute-fixtures.js";
import { eventually, testClient, unique } from "./helpers.js";

const client = testClient();
let env: ComputeEnv;
let namespace: string;
let flavor: string;
let image: string;
/** The simulated nodes a VMI can go to: name → zone. */
let nodes: Map<string, string>;

type GroupPolicy = NonNullable<Server["spec"]["serverGroup"]>["policy"];

beforeAll(async () => {
  env = await startComputeEnv(client);
  const expected = env.simulator.config.nodes.count;
  nodes = await eventually(`${expected} schedulable simulated nodes`, async () => {
    const list = await client.list<Node>(Builtin.Node, { labelSelector: `${Label.simNode}=true` });
    const ready = list.items.filter(nodeIsSchedulable);
    return ready.length === expected ? new Map(ready.map((n) => [n.metadata.name ?? "", n.metadata.labels?.[Label.zone] ?? ""])) : undefined;
  });
  // More servers than Nova's default quota of 10 instances.
  ({ namespace } = await readyProject(client, "sched", { quotas: { instances: 50, cores: 50 } }));
  flavor = await createFlavor(client, { vcpus: 1, ram: 512, disk: 1 });
  image = await activeImage(client, namespace);
});
afterAll(async () => {
  await env.stop();
});

async function createServer(spec: Partial<Server["spec"]> = {}, prefix = "vm"): Promise<string> {
  const name = unique(prefix);
  await client.create(serverKind, serverObject(namespace, name, { flavorRef: flavor, imageRef: image, ...spec }));
  return name;
}

async function createGroup(policy: GroupPolicy, count: number): Promise<{ group: string; servers: string[] }> {
  const group = unique(policy);
  // All at once: the scheduler must count the placements it just made, before the watch reports them.
  const servers = await Promise.all(Array.from({ length: count }, () => createServer({ serverGroup: { name: group, policy } }, "member")));
  return { group, servers };
}

async function hostOf(name: string): Promise<string> {
  const server = await serverStatus(client, namespace, name, "ACTIVE");
  const host = server.status?.host ?? "";
  expect(nodes.has(host), `server ${name} runs on a simulated node (got "${host}")`).toBe(true);
  return host;
}

async function noValidHost(name: string): Promise<string> {
  const server = await serverStatus(client, namespace, name, "ERROR");
  expect(server.status?.fault?.code).toBe(500);
  return server.status?.fault?.message ?? "";
}

describe("availability zones", () => {
  it("places a server in the zone it asks for", async () => {
    const [zone] = [...nodes.values()];
    const name = await createServer({ availabilityZone: zone });
    const host = await hostOf(name);
    expect(nodes.get(host)).toBe(zone);
    const vmi = await client.get<VMI>(Upstream.VirtualMachineInstance, name, namespace);
    expect(vmi?.status?.nodeName).toBe(host);
  });

  it("ends a server in a zone no node has in ERROR with Nova's fault", async () => {
    const name = await createServer({ availabilityZone: unique("mars") });
    const n = nodes.size;
    expect(await noValidHost(name)).toBe(`No valid host was found. 0/${n} nodes are available: ${n} node(s) didn't match Pod's node affinity/selector.`);
    // KubeVirt's view of the same: the VMI waits in Scheduling with PodScheduled=False/Unschedulable.
    const vmi = await client.get<VMI>(Upstream.VirtualMachineInstance, name, namespace);
    expect(vmi?.status?.phase).toBe("Scheduling");
    expect(vmi?.status?.conditions?.find((c) => c.type === "PodScheduled")).toMatchObject({ status: "False", reason: "Unschedulable" });
  });
});

describe("server groups", () => {
  it("anti-affinity: one server per host, the next waits in ERROR until a host frees up", async () => {
    const n = nodes.size;
    const { group, servers } = await createGroup("anti-affinity", n);
    const hosts = await Promise.all(servers.map(hostOf));
    expect(new Set(hosts)).toEqual(new Set(nodes.keys()));

    const extra = await createServer({ serverGroup: { name: group, policy: "anti-affinity" } }, "extra");
    expect(await noValidHost(extra)).toBe(`No valid host was found. 0/${n} nodes are available: ${n} node(s) didn't match pod anti-affinity rules.`);
    const waiting = await client.get<VMI>(Upstream.VirtualMachineInstance, extra, namespace);
    expect(waiting?.status?.conditions?.find((c) => c.type === "PodScheduled")).toMatchObject({ status: "False", reason: "Unschedulable" });

    // Deleting a member frees its host: the watch on VMIs lets the waiting one in (no polling, no retry).
    const [leaving] = servers;
    const freed = hosts[0];
    await client.delete(serverKind, leaving ?? "", namespace);
    await eventually(`server ${leaving ?? ""} gone`, async () => (await getServer(client, namespace, leaving ?? "")) === undefined);
    expect(await hostOf(extra)).toBe(freed);
    expect((await getServer(client, namespace, extra))?.status?.fault).toBeUndefined();
  });

  it("affinity: every member on the same host", async () => {
    const { servers } = await createGroup("affinity", 3);
    const hosts = await Promise.all(servers.map(hostOf));
    expect(new Set(hosts).size).toBe(1);
  });

  it("soft-anti-affinity: spreads over every host and never refuses", async () => {
    const { servers } = await createGroup("soft-anti-affinity", nodes.size + 1);
    const hosts = await Promise.all(servers.map(hostOf));
    expect(new Set(hosts)).toEqual(new Set(nodes.keys()));
  });

  it("soft-affinity: shares a host when it can", async () => {
    const { servers } = await createGroup("soft-affinity", 3);
    const hosts = await Promise.all(servers.map(hostOf));
    expect(new Set(hosts).size).toBe(1);
  });
});
