// The simulator against a real kube-apiserver with the real upstream CRDs: everything it writes must
// pass their schemas, and the operator-facing outcomes (VM Running/Stopped, DataVolume Succeeded or
// Failed, Pods Running, PVCs Bound, snapshots ready, migrations) must appear. Waits use watches.
import { randomBytes } from "node:crypto";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { z } from "zod";
import {
  Builtin,
  KubeClient,
  Upstream,
  type KubeObject,
  type ResourceType,
} from "../src/kube/index.js";
import { startSimulator, uniformDelays, type Simulator } from "../src/simulator/index.js";
import type {
  DV,
  Migration,
  NAD,
  Node,
  PersistentVolume,
  PersistentVolumeClaim,
  Pod,
  Snapshot,
  SnapshotContent,
  VM,
  VMI,
} from "../src/simulator/types.js";

const kubeconfigPath = inject("kubeconfigPath");

const namespace = `sim-it-${randomBytes(3).toString("hex")}`;
const ZONES = ["nova", "az2"];
let client: KubeClient;
let simulator: Simulator;
/** Everything the simulator logged at warn or above (a rejected write shows up as a reconcile error). */
const problems: string[] = [];
const logLineSchema = z.looseObject({ msg: z.string().optional(), err: z.looseObject({ statusCode: z.number().optional() }).optional() });

/**
 * The object once `predicate` holds (undefined once it is gone, if the predicate accepts that):
 * one list, then a watch from its resourceVersion. Fails with the last state seen after `timeoutMs`.
 */
async function waitFor<T extends KubeObject>(
  rt: ResourceType,
  name: string,
  predicate: (obj: T | undefined) => boolean,
  opts: { namespace?: string | undefined; timeoutMs?: number } = {},
): Promise<T | undefined> {
  const ns = rt.namespaced ? (opts.namespace ?? namespace) : undefined;
  const fieldSelector = `metadata.name=${name}`;
  const abort = new AbortController();
  const timer = setTimeout(() => {
    abort.abort();
  }, opts.timeoutMs ?? 20_000);
  let current: T | undefined;
  try {
    const list = await client.list<T>(rt, { namespace: ns, fieldSelector });
    current = list.items[0];
    if (predicate(current)) return current;
    for await (const event of client.watch<T>(rt, { namespace: ns, fieldSelector, resourceVersion: list.resourceVersion }, abort.signal)) {
      if (event.type === "ERROR") throw new Error(`watch of ${rt.kind} ${name} failed: ${event.object.message ?? ""}`);
      if (event.type === "BOOKMARK") continue;
      current = event.type === "DELETED" ? undefined : event.object;
      if (predicate(current)) return current;
    }
  } finally {
    clearTimeout(timer);
    abort.abort();
  }
  throw new Error(`timed out waiting for ${rt.kind} ${name}; last seen: ${JSON.stringify(current ?? null, null, 1).slice(0, 3000)}`);
}

async function waitForValue<T extends KubeObject>(
  rt: ResourceType,
  name: string,
  predicate: (obj: T) => boolean,
  opts: { namespace?: string; timeoutMs?: number } = {},
): Promise<T> {
  const found = await waitFor<T>(rt, name, (obj) => obj !== undefined && predicate(obj), opts);
  if (found === undefined) throw new Error(`${rt.kind} ${name} vanished`);
  return found;
}

const condition = (obj: { status?: { conditions?: { type: string; status: string; reason?: string; message?: string }[] | null } | null }, type: string) =>
  obj.status?.conditions?.find((c) => c.type === type);

function rootDiskVm(name: string, opts: { url: string; runStrategy?: string; networkData?: string; extra?: Partial<VM["spec"]["template"]["spec"]> }): VM {
  return {
    apiVersion: "kubevirt.io/v1",
    kind: "VirtualMachine",
    metadata: { name, namespace, labels: { app: name } },
    spec: {
      runStrategy: opts.runStrategy ?? "Always",
      dataVolumeTemplates: [
        {
          metadata: { name: `${name}-root` },
          spec: {
            source: { http: { url: opts.url } },
            storage: { resources: { requests: { storage: "2Gi" } } },
          },
        },
      ],
      template: {
        metadata: { labels: { app: name } },
        spec: {
          domain: {
            devices: {
              disks: [
                { name: "root", disk: { bus: "virtio" }, bootOrder: 1 },
                { name: "cloudinit", cdrom: { bus: "sata" } },
              ],
              interfaces: [
                { name: "default", masquerade: {} },
                { name: "tenant", bridge: {}, macAddress: "fa:16:3e:00:00:01" },
              ],
            },
            resources: { requests: { memory: "512Mi" } },
          },
          networks: [
            { name: "default", pod: {} },
            { name: "tenant", multus: { networkName: `${namespace}/tenant-net` } },
          ],
          volumes: [
            { name: "root", dataVolume: { name: `${name}-root` } },
            {
              name: "cloudinit",
              cloudInitConfigDrive: { userData: "#cloud-config\n", ...(opts.networkData === undefined ? {} : { networkData: opts.networkData }) },
            },
          ],
          ...opts.extra,
        },
      },
    },
  };
}

const NETWORK_DATA = JSON.stringify({
  links: [{ id: "tap-1", type: "phy", ethernet_mac_address: "FA:16:3E:00:00:01", mtu: 1450 }],
  networks: [
    { id: "net-1", type: "ipv4", link: "tap-1", ip_address: "192.168.10.5", netmask: "255.255.255.0" },
    { id: "net-2", type: "ipv6", link: "tap-1", ip_address: "fd00:10::5/64" },
  ],
  services: [],
});

function claim(name: string, size: string, accessModes = ["ReadWriteOnce"]): PersistentVolumeClaim {
  return {
    apiVersion: "v1",
    kind: "PersistentVolumeClaim",
    metadata: { name, namespace },
    spec: { accessModes, resources: { requests: { storage: size } } },
  };
}

describe("simulator on a real apiserver", () => {
  beforeAll(async () => {
    client = KubeClient.fromFile(kubeconfigPath);
    await client.create(Builtin.Namespace, { metadata: { name: namespace } });
    // Pods need the namespace's default ServiceAccount, made by kube-controller-manager.
    await waitForValue(Builtin.ServiceAccount, "default", () => true);
    simulator = await startSimulator({
      client,
      log: pino({ level: "warn" }, { write: (line: string) => problems.push(line) }),
      // Small but non-zero delays, so the timed steps (requeues, progress ticks) run too.
      config: { delays: { ...uniformDelays(20), importDuration: 80 }, progressUpdates: 4, nodes: { zones: ZONES } },
    });
  });

  afterAll(async () => {
    // VMs, VMIs, pods and PVCs carry finalizers the simulated controllers release, so they are deleted
    // (and awaited) while the simulator still runs; the namespace goes after. kube-controller-manager's
    // namespace deleter would get there too, but only on its slower later passes.
    try {
      for (const rt of [Upstream.VirtualMachine, Upstream.VirtualMachineInstance, Builtin.Pod, Builtin.PersistentVolumeClaim]) {
        const { items } = await client.list(rt, { namespace });
        for (const item of items) await client.delete(rt, item.metadata.name ?? "", namespace);
        for (const item of items) await waitFor(rt, item.metadata.name ?? "", (obj) => obj === undefined, { timeoutMs: 30_000 });
      }
      await client.delete(Builtin.Namespace, namespace, undefined);
    } finally {
      await simulator.stop();
    }
    // Cluster-scoped things the simulator brought (once it no longer re-registers them): later test
    // files should find the cluster as it was.
    for (const name of ["sim-node-1", "sim-node-2"]) await client.delete(Builtin.Node, name, undefined);
    await client.delete(Builtin.StorageClass, "sim-standard", undefined);
    await client.delete(Upstream.VolumeSnapshotClass, "sim-snapclass", undefined);
    client.close();
  });

  it("registers Ready nodes with zones, a pod range and KVM capacity", async () => {
    const first = await waitForValue<Node>(Builtin.Node, "sim-node-1", (n) => condition(n, "Ready")?.status === "True");
    const second = await waitForValue<Node>(Builtin.Node, "sim-node-2", (n) => condition(n, "Ready")?.status === "True");
    expect(first.metadata.labels).toMatchObject({ "topology.kubernetes.io/zone": "nova", "kubernetes.io/hostname": "sim-node-1" });
    expect(second.metadata.labels?.["topology.kubernetes.io/zone"]).toBe("az2");
    expect(first.status?.capacity?.["devices.kubevirt.io/kvm"]).toBe("1k");
    expect(first.spec?.podCIDR).toBe("10.244.0.0/24");
    expect(second.spec?.podCIDR).toBe("10.244.1.0/24");
  });

  it("runs a VM from an http image: DataVolume Succeeded, PVC Bound, VMI Running with addresses, VM Running and ready", async () => {
    await client.create(Upstream.VirtualMachine, rootDiskVm("web", { url: "https://images.example.org/cirros.qcow2", networkData: NETWORK_DATA }));

    const progress: string[] = [];
    const dv = await waitForValue<DV>(Upstream.DataVolume, "web-root", (d) => {
      const seen = d.status?.progress;
      if (seen !== undefined && progress.at(-1) !== seen) progress.push(seen);
      return d.status?.phase === "Succeeded";
    });
    // N/A before the transfer, then rising percentages (a late tick may be skipped, as in CDI), then 100.0%.
    expect(progress.slice(0, 2)).toEqual(["N/A", "0.00%"]);
    expect(progress.at(-1)).toBe("100.0%");
    const percents = progress.slice(1).map((p) => Number.parseFloat(p));
    expect(percents).toEqual([...percents].sort((a, b) => a - b));
    expect(percents.length).toBeGreaterThan(2);
    expect(condition(dv, "Ready")?.status).toBe("True");
    expect(condition(dv, "Bound")).toMatchObject({ status: "True", message: "PVC web-root Bound" });
    expect(dv.metadata.ownerReferences?.[0]).toMatchObject({ kind: "VirtualMachine", name: "web", controller: true });

    const pvc = await waitForValue<PersistentVolumeClaim>(Builtin.PersistentVolumeClaim, "web-root", (c) => c.status?.phase === "Bound");
    expect(pvc.status?.capacity?.storage).toBe("2Gi");
    expect(pvc.spec?.storageClassName).toBe("sim-standard");
    const pv = await waitForValue<PersistentVolume>(Builtin.PersistentVolume, pvc.spec?.volumeName ?? "", (v) => v.status?.phase === "Bound");
    expect(pv.spec?.claimRef).toMatchObject({ name: "web-root", namespace, uid: pvc.metadata.uid });
    expect(pv.spec?.csi?.driver).toBe("sim.csi.altostack.io");

    const vm = await waitForValue<VM>(Upstream.VirtualMachine, "web", (v) => v.status?.printableStatus === "Running" && v.status.ready === true);
    expect(vm.status?.created).toBe(true);
    expect(condition(vm, "Ready")?.status).toBe("True");
    expect(vm.metadata.finalizers).toContain("kubevirt.io/virtualMachineControllerFinalize");

    const vmi = await waitForValue<VMI>(Upstream.VirtualMachineInstance, "web", (v) => v.status?.phase === "Running");
    expect(["sim-node-1", "sim-node-2"]).toContain(vmi.status?.nodeName);
    expect(vmi.metadata.labels?.["kubevirt.io/nodeName"]).toBe(vmi.status?.nodeName);
    expect(vmi.metadata.ownerReferences?.[0]).toMatchObject({ kind: "VirtualMachine", name: "web" });
    expect(vmi.spec.domain.devices.disks?.map((d) => d.name)).toEqual(["root", "cloudinit"]);
    expect(vmi.status?.phaseTransitionTimestamps?.map((t) => t.phase)).toEqual(["Pending", "Scheduling", "Scheduled", "Running"]);
    const [podIface, tenantIface] = vmi.status?.interfaces ?? [];
    expect(podIface?.name).toBe("default");
    expect(podIface?.ipAddress).toMatch(vmi.status?.nodeName === "sim-node-1" ? /^10\.244\.0\.\d+$/ : /^10\.244\.1\.\d+$/);
    expect(tenantIface).toMatchObject({ name: "tenant", mac: "fa:16:3e:00:00:01", ipAddress: "192.168.10.5", ipAddresses: ["192.168.10.5", "fd00:10::5"] });
    expect(vmi.status?.volumeStatus?.map((v) => [v.name, v.target])).toEqual([
      ["root", "vda"],
      ["cloudinit", "sda"],
    ]);
  });

  it("stops a VM on runStrategy Halted: VMI gone, VM Stopped", async () => {
    await waitForValue<VM>(Upstream.VirtualMachine, "web", (v) => v.status?.printableStatus === "Running");
    await client.patch(Upstream.VirtualMachine, "web", namespace, { spec: { runStrategy: "Halted" } }, "merge");
    const gone = await waitFor<VMI>(Upstream.VirtualMachineInstance, "web", (v) => v === undefined);
    expect(gone).toBeUndefined();
    // Stopped already shows while the finished VMI is being removed; VMINotExists once it is gone.
    const vm = await waitForValue<VM>(
      Upstream.VirtualMachine,
      "web",
      (v) => v.status?.printableStatus === "Stopped" && condition(v, "Ready")?.reason === "VMINotExists",
    );
    expect(vm.status).toMatchObject({ ready: false, created: false });
  });

  it("fails an import from a .invalid host with CDI's message, and the VM shows DataVolumeError", async () => {
    await client.create(Upstream.VirtualMachine, rootDiskVm("broken", { url: "http://images.example.invalid/nope.img" }));
    const dv = await waitForValue<DV>(Upstream.DataVolume, "broken-root", (d) => d.status?.phase === "Failed");
    expect(condition(dv, "Running")).toMatchObject({ status: "False", reason: "Error" });
    expect(condition(dv, "Running")?.message).toMatch(/^Unable to connect to http data source: .*no such host$/);
    const vm = await waitForValue<VM>(Upstream.VirtualMachine, "broken", (v) => v.status?.printableStatus === "DataVolumeError");
    expect(vm.status?.created).toBe(false);
    const vmi = await client.get(Upstream.VirtualMachineInstance, "broken", namespace);
    expect(vmi).toBeUndefined();
  });

  it("schedules a VM onto the zone its nodeSelector names", async () => {
    const vm = rootDiskVm("zoned", {
      url: "https://images.example.org/cirros.qcow2",
      extra: { nodeSelector: { "topology.kubernetes.io/zone": "az2" } },
    });
    await client.create(Upstream.VirtualMachine, vm);
    const vmi = await waitForValue<VMI>(Upstream.VirtualMachineInstance, "zoned", (v) => v.status?.phase === "Running");
    expect(vmi.status?.nodeName).toBe("sim-node-2");
  });

  it("hotplugs a volume into a running VM and unplugs it", async () => {
    await client.create(Builtin.PersistentVolumeClaim, claim("zoned-data", "1Gi"));
    await waitForValue<PersistentVolumeClaim>(Builtin.PersistentVolumeClaim, "zoned-data", (c) => c.status?.phase === "Bound");
    const vm = await waitForValue<VM>(Upstream.VirtualMachine, "zoned", (v) => v.status?.printableStatus === "Running");
    const spec = vm.spec.template.spec;
    if (spec === undefined) throw new Error("VM has no template spec");
    const plugged = {
      volumes: [...(spec.volumes ?? []), { name: "data", persistentVolumeClaim: { claimName: "zoned-data", hotpluggable: true } }],
      domain: { devices: { disks: [...(spec.domain.devices.disks ?? []), { name: "data", disk: { bus: "scsi" } }] } },
    };
    await client.patch(Upstream.VirtualMachine, "zoned", namespace, { spec: { template: { spec: plugged } } }, "merge");
    const withVolume = await waitForValue<VMI>(Upstream.VirtualMachineInstance, "zoned", (v) =>
      (v.status?.volumeStatus ?? []).some((s) => s.name === "data" && s.phase === "Ready"),
    );
    expect(withVolume.status?.volumeStatus?.find((s) => s.name === "data")).toMatchObject({
      target: "sdb",
      reason: "VolumeReady",
      persistentVolumeClaimInfo: { claimName: "zoned-data", capacity: { storage: "1Gi" } },
    });

    await client.patch(
      Upstream.VirtualMachine,
      "zoned",
      namespace,
      { spec: { template: { spec: { volumes: spec.volumes, domain: { devices: { disks: spec.domain.devices.disks } } } } } },
      "merge",
    );
    const unplugged = await waitForValue<VMI>(Upstream.VirtualMachineInstance, "zoned", (v) =>
      !(v.status?.volumeStatus ?? []).some((s) => s.name === "data"),
    );
    expect(unplugged.spec.volumes?.map((v) => v.name)).toEqual(["root", "cloudinit"]);
  });

  it("live-migrates a VMI whose disks are shared, moving it to the other node", async () => {
    const vm = rootDiskVm("mover", { url: "https://images.example.org/cirros.qcow2" });
    const template = vm.spec.dataVolumeTemplates?.[0];
    if (template?.spec.storage === undefined) throw new Error("fixture has no storage");
    template.spec.storage.accessModes = ["ReadWriteMany"];
    await client.create(Upstream.VirtualMachine, vm);
    const before = await waitForValue<VMI>(Upstream.VirtualMachineInstance, "mover", (v) => v.status?.phase === "Running");
    expect(condition(before, "LiveMigratable")?.status).toBe("True");
    const source = before.status?.nodeName;

    await client.create<Migration>(Upstream.VirtualMachineInstanceMigration, {
      apiVersion: "kubevirt.io/v1",
      kind: "VirtualMachineInstanceMigration",
      metadata: { name: "mover-migration", namespace },
      spec: { vmiName: "mover" },
    });
    const migration = await waitForValue<Migration>(Upstream.VirtualMachineInstanceMigration, "mover-migration", (m) => m.status?.phase === "Succeeded");
    expect(migration.status?.phaseTransitionTimestamps?.map((t) => t.phase)).toEqual([
      "Pending",
      "Scheduling",
      "Scheduled",
      "PreparingTarget",
      "TargetReady",
      "Running",
      "Succeeded",
    ]);
    const after = await waitForValue<VMI>(Upstream.VirtualMachineInstance, "mover", (v) => v.status?.migrationState?.completed === true && v.status.nodeName !== source);
    expect(after.status?.nodeName).toBe(migration.status?.migrationState?.targetNode);
    expect(after.status?.migrationState).toMatchObject({ sourceNode: source, failed: false });
    await waitForValue<VM>(Upstream.VirtualMachine, "mover", (v) => v.status?.printableStatus === "Running");
  });

  it("fails a migration of a VMI with a ReadWriteOnce disk as not live-migratable", async () => {
    await client.create<Migration>(Upstream.VirtualMachineInstanceMigration, {
      apiVersion: "kubevirt.io/v1",
      kind: "VirtualMachineInstanceMigration",
      metadata: { name: "zoned-migration", namespace },
      spec: { vmiName: "zoned" },
    });
    const migration = await waitForValue<Migration>(Upstream.VirtualMachineInstanceMigration, "zoned-migration", (m) => m.status?.phase === "Failed");
    expect(migration.status?.migrationState?.failureReason).toMatch(/not shared, live migration requires/);
  });

  it("schedules a Pod, runs it with a unique IP and writes Multus network-status", async () => {
    await client.create<NAD>(Upstream.NetworkAttachmentDefinition, {
      apiVersion: "k8s.cni.cncf.io/v1",
      kind: "NetworkAttachmentDefinition",
      metadata: { name: "tenant-net", namespace },
      spec: { config: JSON.stringify({ cniVersion: "0.4.0", type: "ovs", bridge: "br1" }) },
    });
    const pod = (name: string, annotations?: Record<string, string>): Pod => ({
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name, namespace, ...(annotations === undefined ? {} : { annotations }) },
      spec: { containers: [{ name: "app", image: "registry.example.org/app:1" }], nodeSelector: { "topology.kubernetes.io/zone": "nova" } },
    });
    const selection = [{ name: "tenant-net", ips: ["192.168.10.20/24"], mac: "fa:16:3e:00:00:20", interface: "net1" }];
    await client.create(Builtin.Pod, pod("box-1", { "k8s.v1.cni.cncf.io/networks": JSON.stringify(selection) }));
    await client.create(Builtin.Pod, pod("box-2"));

    const first = await waitForValue<Pod>(Builtin.Pod, "box-1", (p) => p.status?.phase === "Running" && condition(p, "Ready")?.status === "True");
    const second = await waitForValue<Pod>(Builtin.Pod, "box-2", (p) => p.status?.phase === "Running");
    expect(first.spec?.nodeName).toBe("sim-node-1");
    expect(first.status?.podIP).toMatch(/^10\.244\.0\.\d+$/);
    expect(second.status?.podIP).not.toBe(first.status?.podIP);
    expect(first.status?.containerStatuses?.[0]).toMatchObject({ name: "app", ready: true, started: true });
    const withStatus = await waitForValue<Pod>(Builtin.Pod, "box-1", (p) => p.metadata.annotations?.["k8s.v1.cni.cncf.io/network-status"] !== undefined);
    const networkStatus = JSON.parse(withStatus.metadata.annotations?.["k8s.v1.cni.cncf.io/network-status"] ?? "[]") as unknown;
    expect(networkStatus).toEqual([
      expect.objectContaining({ interface: "eth0", ips: [first.status?.podIP], default: true }),
      expect.objectContaining({ name: `${namespace}/tenant-net`, interface: "net1", ips: ["192.168.10.20"], mac: "fa:16:3e:00:00:20" }),
    ]);

    await client.delete(Builtin.Pod, "box-2", namespace);
    expect(await waitFor<Pod>(Builtin.Pod, "box-2", (p) => p === undefined)).toBeUndefined();
  });

  it("keeps a Pod whose NetworkAttachmentDefinition is missing in ContainerCreating", async () => {
    await client.create<Pod>(Builtin.Pod, {
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name: "orphan-net", namespace, annotations: { "k8s.v1.cni.cncf.io/networks": "no-such-net" } },
      spec: { containers: [{ name: "app", image: "registry.example.org/app:1" }] },
    });
    const pod = await waitForValue<Pod>(Builtin.Pod, "orphan-net", (p) => p.status?.containerStatuses?.[0]?.state?.waiting !== undefined);
    expect(pod.status?.phase).toBe("Pending");
    expect(pod.status?.containerStatuses?.[0]?.state?.waiting?.reason).toBe("ContainerCreating");
  });

  it("binds a PVC to a new PV and expands it online", async () => {
    await client.create(Builtin.PersistentVolumeClaim, claim("data", "1Gi"));
    const bound = await waitForValue<PersistentVolumeClaim>(Builtin.PersistentVolumeClaim, "data", (c) => c.status?.phase === "Bound");
    expect(bound.spec?.volumeName).toBe(`pvc-${bound.metadata.uid ?? ""}`);
    expect(bound.metadata.annotations?.["pv.kubernetes.io/bind-completed"]).toBe("yes");

    await client.patch(Builtin.PersistentVolumeClaim, "data", namespace, { spec: { resources: { requests: { storage: "3Gi" } } } }, "merge");
    const grown = await waitForValue<PersistentVolumeClaim>(Builtin.PersistentVolumeClaim, "data", (c) => c.status?.capacity?.storage === "3Gi");
    const pv = await client.get<PersistentVolume>(Builtin.PersistentVolume, grown.spec?.volumeName ?? "");
    expect(pv?.spec?.capacity?.storage).toBe("3Gi");
  });

  it("takes a VolumeSnapshot and removes its content with it", async () => {
    await client.create<Snapshot>(Upstream.VolumeSnapshot, {
      apiVersion: "snapshot.storage.k8s.io/v1",
      kind: "VolumeSnapshot",
      metadata: { name: "data-snap", namespace },
      spec: { source: { persistentVolumeClaimName: "data" } },
    });
    const snapshot = await waitForValue<Snapshot>(Upstream.VolumeSnapshot, "data-snap", (s) => s.status?.readyToUse === true);
    expect(snapshot.spec.volumeSnapshotClassName).toBe("sim-snapclass");
    expect(snapshot.status?.restoreSize).toBe("3Gi");
    const contentName = snapshot.status?.boundVolumeSnapshotContentName ?? "";
    const content = await client.get<SnapshotContent>(Upstream.VolumeSnapshotContent, contentName);
    expect(content?.spec.volumeSnapshotRef).toMatchObject({ name: "data-snap", namespace, uid: snapshot.metadata.uid });

    await client.delete(Upstream.VolumeSnapshot, "data-snap", namespace);
    expect(await waitFor<SnapshotContent>(Upstream.VolumeSnapshotContent, contentName, (c) => c === undefined)).toBeUndefined();
  });

  it("deletes a VM with its VMI, DataVolume, PVC and PV", async () => {
    const pvc = await waitForValue<PersistentVolumeClaim>(Builtin.PersistentVolumeClaim, "zoned-root", (c) => c.status?.phase === "Bound");
    await client.delete(Upstream.VirtualMachine, "zoned", namespace);
    expect(await waitFor<VM>(Upstream.VirtualMachine, "zoned", (v) => v === undefined)).toBeUndefined();
    expect(await waitFor<DV>(Upstream.DataVolume, "zoned-root", (d) => d === undefined)).toBeUndefined();
    expect(await waitFor<PersistentVolumeClaim>(Builtin.PersistentVolumeClaim, "zoned-root", (c) => c === undefined)).toBeUndefined();
    expect(await waitFor<PersistentVolume>(Builtin.PersistentVolume, pvc.spec?.volumeName ?? "", (v) => v === undefined)).toBeUndefined();
  });

  it("had every write accepted by the apiserver (no schema or request errors)", () => {
    // Conflicts are a normal part of optimistic concurrency and are retried; anything else is a bug.
    const rejected = problems
      .map((line) => logLineSchema.parse(JSON.parse(line)))
      .filter((entry) => entry.err?.statusCode !== undefined && entry.err.statusCode !== 409);
    expect(rejected).toEqual([]);
  });
});
