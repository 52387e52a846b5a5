// A running server's security groups change in place: KubeVirt copies the VM template's labels to the VMI and
// its virt-launcher pod only when the VMI is created, so the server reconciler relabels the live VMI and pod(s)
// itself — with the security labels only, without restarting the server — and the group's MultiNetworkPolicy
// selects them. Real apiserver (operator as the chart's ServiceAccount, so a missing RBAC verb fails here) and
// the simulator playing KubeVirt.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  API_VERSION,
  networkKind,
  portKind,
  projectKind,
  securityGroupKind,
  serverKind,
  subnetKind,
  type Network,
  type SecurityGroup,
  type Server,
} from "../src/api/index.js";
import { Builtin, Upstream, type KubeObject } from "../src/kube/index.js";
import type { PodObject } from "../src/reconcilers/container/desired.js";
import type { PolicyObject } from "../src/reconcilers/network/sources.js";
import { isSecurityLabelKey, portSecurityLabel, securityGroupLabel } from "../src/reconcilers/securitygroup/labels.js";
import { VIRT_LAUNCHER_CREATED_BY } from "../src/reconcilers/server/live-labels.js";
import type { VmiObject } from "../src/reconcilers/server/observe.js";
import { activeImage, createFlavor, readyProject, startComputeEnv, type ComputeEnv } from "./compute-fixtures.js";
import { conditionOf, eventually, testClient } from "./helpers.js";

const client = testClient();
let env: ComputeEnv;
const projects: string[] = [];

const obj = (kind: string, namespace: string, name: string, spec: Record<string, unknown>): KubeObject & { spec: Record<string, unknown> } => ({
  apiVersion: API_VERSION,
  kind,
  metadata: { name, namespace },
  spec,
});

const securityLabelsOf = (o: KubeObject | undefined): Record<string, string> =>
  Object.fromEntries(Object.entries(o?.metadata.labels ?? {}).filter(([key]) => isSecurityLabelKey(key)));
const otherLabelsOf = (o: KubeObject | undefined): Record<string, string> =>
  Object.fromEntries(Object.entries(o?.metadata.labels ?? {}).filter(([key]) => !isSecurityLabelKey(key)));
/** The label keys a field manager owns on an object (from managedFields). */
function labelsWrittenBy(manager: string, o: KubeObject | undefined): string[] {
  type Entry = { manager?: string; fieldsV1?: { "f:metadata"?: { "f:labels"?: Record<string, unknown> } } };
  const entries = ((o?.metadata.managedFields ?? []) as Entry[]).filter((f) => f.manager === manager);
  return entries.flatMap((f) => {
    const labels = f.fieldsV1?.["f:metadata"]?.["f:labels"] ?? {};
    return Object.keys(labels).filter((k) => k.startsWith("f:")).map((k) => k.slice(2));
  });
}

/** Same labels, whatever their order. */
const sameLabels = (a: Record<string, string>, b: Record<string, string>): boolean =>
  JSON.stringify(Object.entries(a).sort()) === JSON.stringify(Object.entries(b).sort());
const selects = (policy: PolicyObject, o: KubeObject | undefined): boolean =>
  Object.entries(policy.spec?.podSelector?.matchLabels ?? {}).every(([key, value]) => o?.metadata.labels?.[key] === value);

/**
 * A stand-in for KubeVirt's virt-launcher pod of a VMI (the simulator plays virt-controller's VMIs but makes
 * no virt-launcher pods): labelled as KubeVirt labels it, with the VMI's labels and its uid as created-by.
 */
function launcherPod(vmi: VmiObject, name: string, labels: Record<string, string>): PodObject {
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name, namespace: vmi.metadata.namespace, labels: { ...labels, [VIRT_LAUNCHER_CREATED_BY]: vmi.metadata.uid ?? "", "kubevirt.io": "virt-launcher" } },
    spec: {
      containers: [
        {
          name: "compute",
          image: "quay.io/kubevirt/virt-launcher:v1.6.0",
          securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"] }, runAsNonRoot: true, runAsUser: 107, seccompProfile: { type: "RuntimeDefault" } },
        },
      ],
    },
  };
}

beforeAll(async () => {
  env = await startComputeEnv(client);
});
afterAll(async () => {
  for (const name of projects) await client.delete(projectKind, name, undefined);
  await env.stop();
});

describe("a running server's security groups", () => {
  it("change in place: its VMI and virt-launcher pods are relabelled, nothing else, without a restart, and the new group's policy selects them", async () => {
    const project = await readyProject(client, "seclive", { deletionPolicy: "Cascade" });
    projects.push(project.name);
    const ns = project.namespace;
    await client.create(networkKind, obj("Network", ns, "front", {}));
    await client.create(subnetKind, obj("Subnet", ns, "front-v4", { networkRef: "front", cidr: "10.95.0.0/24", ipVersion: 4 }));
    await eventually("network ready", async () => conditionOf(await client.get<Network>(networkKind, "front", ns))?.status === "True");
    await client.create(securityGroupKind, obj("SecurityGroup", ns, "web", { rules: [{ direction: "ingress", protocol: "tcp", portRangeMin: 443, portRangeMax: 443 }] }));
    await client.create(securityGroupKind, obj("SecurityGroup", ns, "db", { rules: [{ direction: "ingress", protocol: "tcp", portRangeMin: 5432, portRangeMax: 5432 }] }));
    await client.create(portKind, obj("Port", ns, "app-port", { networkRef: "front", securityGroupRefs: ["web"] }));
    const flavor = await createFlavor(client, { vcpus: 1, ram: 512, disk: 1 }, "seclive");
    const image = await activeImage(client, ns);
    await client.create<Server>(serverKind, obj("Server", ns, "app", { flavorRef: flavor, imageRef: image, networks: [{ portRef: "app-port" }] }) as unknown as Server);
    const server = await eventually("server ACTIVE", async () => {
      const s = await client.get<Server>(serverKind, "app", ns);
      return s?.status?.status === "ACTIVE" ? s : undefined;
    }, 90_000);
    const vmName = server.status?.virtualMachine ?? "";

    const front = `${ns}/front`;
    const asWeb = { [securityGroupLabel("web", front)]: "true", [portSecurityLabel(front)]: "enabled" };
    const asDb = { [securityGroupLabel("db", front)]: "true", [portSecurityLabel(front)]: "enabled" };
    const vmiBefore = await client.get<VmiObject>(Upstream.VirtualMachineInstance, vmName, ns);
    if (vmiBefore === undefined) throw new Error("no VMI for the ACTIVE server");
    expect(securityLabelsOf(vmiBefore)).toEqual(asWeb);
    const podBefore = await client.create<PodObject>(Builtin.Pod, launcherPod(vmiBefore, `virt-launcher-${vmName}-src`, { ...vmiBefore.metadata.labels, app: "kept" }));

    // The port moves from web to db while the server runs.
    await client.patch(portKind, "app-port", ns, { spec: { securityGroupRefs: ["db"] } }, "merge");
    const [vmi, pod] = await eventually("VMI and pod carry db's labels", async () => {
      const both = [
        await client.get<VmiObject>(Upstream.VirtualMachineInstance, vmName, ns),
        await client.get<PodObject>(Builtin.Pod, podBefore.metadata.name ?? "", ns),
      ] as const;
      return both.every((o) => sameLabels(securityLabelsOf(o), asDb)) ? both : undefined;
    }, 60_000);
    // Only the security labels changed: KubeVirt's, the server's and the pod's own labels are as they were.
    // (The simulator's kubelet may add its own labels to the pod meanwhile, hence toMatchObject there; what
    // the server controller wrote is checked by field ownership.)
    expect(otherLabelsOf(vmi)).toEqual(otherLabelsOf(vmiBefore));
    expect(otherLabelsOf(pod)).toMatchObject(otherLabelsOf(podBefore));
    expect(pod?.metadata.labels?.app).toBe("kept");
    for (const o of [vmi, pod]) expect(labelsWrittenBy("altostack-server", o).filter((key) => !isSecurityLabelKey(key))).toEqual([]);
    // Only what changed was written: db's label added (web's removed); port security was already right.
    expect(labelsWrittenBy("altostack-server", pod)).toEqual([securityGroupLabel("db", front)]);
    // Not restarted: the same VMI still runs, the server stays ACTIVE.
    expect(vmi?.metadata.uid).toBe(vmiBefore.metadata.uid);
    const after = await client.get<Server>(serverKind, "app", ns);
    expect(after?.status?.status).toBe("ACTIVE");
    // The VM template says the same (a later start gets the same labels from KubeVirt).
    const vm = await client.get<KubeObject & { spec: { template: { metadata: KubeObject["metadata"] } } }>(Upstream.VirtualMachine, vmName, ns);
    expect(securityLabelsOf({ metadata: vm?.spec.template.metadata ?? {} })).toEqual(asDb);

    // db's policy on front selects the VMI's pod; web has no port left, so no policy of its selects it.
    const policiesOf = async (group: string): Promise<PolicyObject[]> => {
      const uid = (await client.get<SecurityGroup>(securityGroupKind, group, ns))?.metadata.uid ?? "";
      return (await client.list<PolicyObject>(Upstream.MultiNetworkPolicy, { namespace: ns, labelSelector: `altostack.io/security-group-uid=${uid}` })).items;
    };
    const dbPolicies = await eventually("db has a policy on front", async () => {
      const list = await policiesOf("db");
      return list.length === 1 ? list : undefined;
    });
    expect(dbPolicies[0]?.metadata.annotations?.["k8s.v1.cni.cncf.io/policy-for"]).toBe(front);
    expect(selects(dbPolicies[0] as PolicyObject, pod)).toBe(true);
    expect(selects(dbPolicies[0] as PolicyObject, vmi)).toBe(true);
    await eventually("web's policies gone", async () => (await policiesOf("web")).length === 0);

    // A second virt-launcher pod appears (a migration target) with stale labels: its appearance alone brings
    // the server back, and it is relabelled too.
    const target = await client.create<PodObject>(Builtin.Pod, launcherPod(vmi as VmiObject, `virt-launcher-${vmName}-dst`, { ...vmiBefore.metadata.labels }));
    const relabelled = await eventually("migration target pod relabelled", async () => {
      const p = await client.get<PodObject>(Builtin.Pod, target.metadata.name ?? "", ns);
      return sameLabels(securityLabelsOf(p), asDb) ? p : undefined;
    });
    expect(otherLabelsOf(relabelled)).toMatchObject(otherLabelsOf(target));
    expect(labelsWrittenBy("altostack-server", relabelled)).toEqual([securityGroupLabel("db", front)]);

    // A pod in another project naming this VMI's uid is not its pod: never relabelled across tenants.
    const other = await readyProject(client, "seclive-other", { deletionPolicy: "Cascade" });
    projects.push(other.name);
    const stranger = await client.create<PodObject>(Builtin.Pod, {
      ...launcherPod(vmi as VmiObject, "not-its-launcher", asWeb),
      metadata: { name: "not-its-launcher", namespace: other.namespace, labels: { ...asWeb, [VIRT_LAUNCHER_CREATED_BY]: vmi?.metadata.uid ?? "" } },
    });
    // The port joins web again: the VMI gets both groups; the stranger keeps exactly what it had.
    await client.patch(portKind, "app-port", ns, { spec: { securityGroupRefs: ["db", "web"] } }, "merge");
    await eventually("VMI carries db and web", async () => {
      const v = await client.get<VmiObject>(Upstream.VirtualMachineInstance, vmName, ns);
      return securityLabelsOf(v)[securityGroupLabel("web", front)] === "true" && securityLabelsOf(v)[securityGroupLabel("db", front)] === "true";
    });
    const withBoth = { ...asDb, [securityGroupLabel("web", front)]: "true" };
    await eventually("both pods carry db and web", async () => {
      for (const name of [podBefore.metadata.name ?? "", target.metadata.name ?? ""]) {
        if (!sameLabels(securityLabelsOf(await client.get<PodObject>(Builtin.Pod, name, ns)), withBoth)) return false;
      }
      return true;
    });
    expect(securityLabelsOf(await client.get<PodObject>(Builtin.Pod, stranger.metadata.name ?? "", other.namespace))).toEqual(asWeb);
  });
});
