// IPAM under the worst case: two operator instances reconciling at the same time (leader election off, as
// during a leader change), 200 ports created at once, and users asking for the same addresses and MACs.
// The apiserver arbitrates through create-only Allocation objects: no address or MAC may ever be handed out
// twice — not in the end state, and not in any status sampled on the way — and nothing may leak.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  API_VERSION,
  allocationKind,
  networkKind,
  portKind,
  projectKind,
  subnetKind,
  type Allocation,
  type Port,
  type Project,
} from "../src/api/index.js";
import { KubeApiError, type KubeObject } from "../src/kube/index.js";
import { loadOperatorConfig } from "../src/operator/config.js";
import { startOperator, type RunningOperator } from "../src/operator/operator.js";
import { AllocationLabel } from "../src/reconcilers/ipam/arbiter.js";
import { writeStatusGuarded } from "../src/reconcilers/ipam/guarded-status.js";
import { TEST_OPERATOR_FLAGS, conditionOf, eventually, operatorClient, testClient, testLogger, unique } from "./helpers.js";

const client = testClient();
const PORTS = 200;
/** Ten addresses and five MACs that two ports each ask for: exactly one of each pair may get it. */
const CONTESTED_IPS = Array.from({ length: 10 }, (_, i) => `10.100.0.${200 + i}`);
const CONTESTED_MACS = Array.from({ length: 5 }, (_, i) => `fa:16:3e:ee:ee:0${i}`);

let replicas: RunningOperator[] = [];
let project = "";
let ns = "";

const ready = (p: Port): boolean => conditionOf(p)?.status === "True";
const ips = (p: Port): string[] => (p.status?.fixedIPs ?? []).map((f) => f.ipAddress);

function duplicates(values: readonly string[]): string[] {
  const seen = new Set<string>();
  const dup = new Set<string>();
  for (const v of values) (seen.has(v) ? dup : seen).add(v);
  return [...dup];
}

function portSpec(i: number): Record<string, unknown> {
  if (i < 2 * CONTESTED_IPS.length) return { networkRef: "net", fixedIPs: [{ ipAddress: CONTESTED_IPS[i % CONTESTED_IPS.length] }] };
  if (i < 2 * CONTESTED_IPS.length + 2 * CONTESTED_MACS.length) {
    return { networkRef: "net", macAddress: CONTESTED_MACS[i % CONTESTED_MACS.length] };
  }
  return { networkRef: "net" };
}

beforeAll(async () => {
  project = unique("ipam");
  ns = `project-${project}`;
  await client.create<Project>(projectKind, { apiVersion: API_VERSION, kind: "Project", metadata: { name: project }, spec: { deletionPolicy: "Cascade", quotas: { ports: -1 } } });
  // Both replicas reconcile everything: the worst case, e.g. an old leader that has not noticed yet.
  replicas = await Promise.all(
    ["replica-a", "replica-b"].map((identity) =>
      startOperator({
        client: operatorClient(),
        logger: testLogger(identity),
        config: loadOperatorConfig([...TEST_OPERATOR_FLAGS, `--identity=${identity}`, "--workers=4"], {}),
      }),
    ),
  );
  await eventually("project ready", async () => conditionOf(await client.get(projectKind, project))?.status === "True");
  await client.create(networkKind, { apiVersion: API_VERSION, kind: "Network", metadata: { name: "net", namespace: ns }, spec: {} });
  await client.create(subnetKind, {
    apiVersion: API_VERSION,
    kind: "Subnet",
    metadata: { name: "net-v4", namespace: ns },
    // The contested addresses (10.100.0.200–209) lie outside the allocation pool, as fixed IPs may in Neutron: an
    // automatically allocated port can then never take one before its two claimants ask, so exactly one of them wins.
    spec: { networkRef: "net", cidr: "10.100.0.0/23", ipVersion: 4, allocationPools: [{ start: "10.100.1.0", end: "10.100.1.254" }] },
  });
  await eventually("subnet ready", async () => conditionOf(await client.get(subnetKind, "net-v4", ns))?.status === "True");
});

afterAll(async () => {
  await client.delete(projectKind, project, undefined);
  await eventually("project gone", async () => (await client.get(projectKind, project)) === undefined, 60_000).catch(() => undefined);
  await Promise.all(replicas.map((r) => r.stop()));
});

describe("IPAM with two operator instances reconciling at once", () => {
  it("never hands out an address or a MAC twice, and leaks nothing", async () => {
    const sampled: string[] = [];
    let sampling = true;
    // While the ports settle, every status seen must be duplicate-free among Ready ports.
    const sampler = (async () => {
      while (sampling) {
        const { items } = await client.list<Port>(portKind, { namespace: ns });
        const live = items.filter(ready);
        const dupIps = duplicates(live.flatMap(ips));
        const dupMacs = duplicates(live.map((p) => p.status?.macAddress ?? ""));
        if (dupIps.length + dupMacs.length > 0) sampled.push(`${dupIps.join(",")} ${dupMacs.join(",")}`);
        await new Promise((r) => setTimeout(r, 150));
      }
    })();

    const started = Date.now();
    await Promise.all(
      Array.from({ length: PORTS }, (_, i) =>
        client.create(portKind, { apiVersion: API_VERSION, kind: "Port", metadata: { name: `p${i}`, namespace: ns }, spec: portSpec(i) }),
      ),
    );
    // Settled: every port has a verdict for its generation, and no port's values changed for a second.
    let previous = "";
    let stableSince = Date.now();
    let settled: Port[] = [];
    let isSettled = false;
    const deadline = Date.now() + 90_000;
    while (!isSettled && Date.now() < deadline) {
      settled = (await client.list<Port>(portKind, { namespace: ns })).items;
      const observed = settled.filter((p) => {
        const c = conditionOf(p) as { observedGeneration?: number; reason: string } | undefined;
        return c !== undefined && c.observedGeneration === p.metadata.generation && c.reason !== "ReconcileError";
      });
      const snapshot = settled.map((p) => `${p.metadata.name ?? ""}:${String(ready(p))}:${ips(p).join()}:${p.status?.macAddress ?? ""}`).sort().join(" ");
      if (snapshot !== previous) {
        previous = snapshot;
        stableSince = Date.now();
      }
      isSettled = observed.length === PORTS && Date.now() - stableSince >= 1000;
      if (!isSettled) await new Promise((r) => setTimeout(r, 200));
    }
    const settleMs = Date.now() - started - 1000;
    sampling = false;
    await sampler;
    // First what must never happen, so that a broken arbiter fails here, naming the duplicates.
    expect(sampled, "duplicates seen among Ready ports while settling").toEqual([]);
    expect(isSettled, "ports settled").toBe(true);

    const live = settled.filter(ready);
    const allIps = live.flatMap(ips);
    const allMacs = live.map((p) => p.status?.macAddress ?? "");
    expect(duplicates(allIps)).toEqual([]);
    expect(duplicates(allMacs)).toEqual([]);
    expect(sampled).toEqual([]);
    expect(allIps).toHaveLength(live.length);
    for (const mac of allMacs) expect(mac).toMatch(/^fa:16:3e(:[0-9a-f]{2}){3}$/);

    // Each contested value went to exactly one of the two ports asking, the other says why.
    for (const ip of CONTESTED_IPS) expect(allIps.filter((a) => a === ip)).toHaveLength(1);
    for (const mac of CONTESTED_MACS) expect(allMacs.filter((m) => m === mac)).toHaveLength(1);
    const losers = settled.filter((p) => !ready(p)).map((p) => conditionOf(p)?.reason);
    const expectedLosers = [
      ...CONTESTED_IPS.map(() => "IpAddressAlreadyAllocated"),
      ...CONTESTED_MACS.map(() => "MacAddressInUse"),
    ];
    expect(losers.sort()).toEqual(expectedLosers.sort());

    // The Allocations converge to exactly what the statuses name, each held by its port: nothing leaks. (On
    // the way, a port both replicas allocated for holds one extra value until the loser's guarded status
    // write fails and its retry releases it.)
    const subnetUid = (await client.get(subnetKind, "net-v4", ns))?.metadata.uid ?? "";
    const byPort = new Map(settled.map((p) => [p.metadata.uid, p]));
    const named = (a: Allocation): boolean => {
      const port = byPort.get(a.spec.holder.uid);
      return port !== undefined && (a.spec.type === "ip" ? ips(port).includes(a.spec.value) : port.status?.macAddress === a.spec.value);
    };
    const converged = await eventually(
      "allocations equal to what the statuses name",
      async () => {
        const ipAllocations = (await client.list<Allocation>(allocationKind, { labelSelector: `${AllocationLabel.pool}=${subnetUid}` })).items;
        const macAllocations = (await client.list<Allocation>(allocationKind, { labelSelector: `${AllocationLabel.type}=mac` })).items.filter((a) =>
          byPort.has(a.spec.holder.uid),
        );
        const macs = settled.filter((p) => p.status?.macAddress !== undefined).length; // losers of an IP contest have one too
        return ipAllocations.length === allIps.length && macAllocations.length === macs ? { ipAllocations, macAllocations } : undefined;
      },
      30_000,
    );
    for (const a of [...converged.ipAllocations, ...converged.macAllocations]) expect(named(a), a.metadata.name).toBe(true);
    // Settled means settled: no port's addresses changed while the surplus went.
    const after = (await client.list<Port>(portKind, { namespace: ns })).items;
    expect(after.map((p) => `${p.metadata.name ?? ""}=${ips(p).join()}/${p.status?.macAddress ?? ""}`).sort()).toEqual(
      settled.map((p) => `${p.metadata.name ?? ""}=${ips(p).join()}/${p.status?.macAddress ?? ""}`).sort(),
    );
    console.log(`${PORTS} ports settled in ${settleMs} ms with two replicas`);

    // Everything is freed with the ports.
    await Promise.all(settled.map((p) => client.delete(portKind, p.metadata.name ?? "", ns)));
    await eventually(
      "every allocation of the ports freed",
      async () => {
        const left = (await client.list<Allocation>(allocationKind)).items.filter((a) => byPort.has(a.spec.holder.uid));
        return left.length === 0;
      },
      60_000,
    );
  });

  it("relies on server-side apply honouring a resourceVersion as a precondition for status writes", async () => {
    await client.create(portKind, { apiVersion: API_VERSION, kind: "Port", metadata: { name: "guarded", namespace: ns }, spec: { networkRef: "net" } });
    const stale = await eventually("port reconciled", async () => {
      const p = await client.get<Port>(portKind, "guarded", ns);
      return p !== undefined && ready(p) ? p : undefined;
    });
    // Someone else writes after we read: our write from the stale version must be refused, not merged.
    await client.patch(portKind, "guarded", ns, { metadata: { annotations: { touched: "yes" } } }, "merge");
    const error = await writeStatusGuarded(client, portKind, stale as Port & KubeObject, { ...stale.status, status: "DOWN" }, "test-guard", { always: true }).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(KubeApiError);
    expect((error as KubeApiError).statusCode).toBe(409);
  });
});
