// Volumes on the real apiserver with the real CDI CRDs and the simulator (CSI provisioning, expansion,
// CDI clones): blank, from an image and cloned volumes become available, extending grows the claim, a
// bad source ends in error with Cinder's message, a volume a server declares is not deleted, attach and
// detach, deleteOnTermination, and servers booting from a volume (an existing one, or an image copied into one).
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseAllDocuments } from "yaml";
import { ALL_KINDS, API_VERSION, STANDARD_FLAVORS, flavorKind, serverKind, snapshotKind, volumeKind, type Server, type Snapshot, type Volume } from "../src/api/index.js";
import { Builtin, Upstream, isAlreadyExists, type KubeObject, type ResourceType } from "../src/kube/index.js";
import type { DV, PersistentVolumeClaim, Snapshot as VolumeSnapshot, VM, VMI } from "../src/simulator/types.js";
import {
  actionPhase,
  activeImage,
  createAction,
  createFlavor,
  readyProject,
  serverObject,
  serverStatus,
  startComputeEnv,
  type ComputeEnv,
} from "./compute-fixtures.js";
import { conditionOf, eventually, testClient, unique } from "./helpers.js";

const client = testClient();
let env: ComputeEnv;
let namespace: string;
let image: string;

beforeAll(async () => {
  env = await startComputeEnv(client);
  // Room for every volume this file makes: the quota controller releases a deleted volume's count
  // asynchronously, so a project at its limit would make the next create race that release.
  ({ namespace } = await readyProject(client, "storage", { quotas: { volumes: 50, gigabytes: 200, snapshots: 20 } }));
  image = await activeImage(client, namespace);
});
afterAll(async () => {
  await env.stop();
});

function volumeObject(name: string, spec: Volume["spec"], ns = namespace): Volume {
  return { apiVersion: API_VERSION, kind: "Volume", metadata: { name, namespace: ns }, spec };
}

async function volumeIn(name: string, status: string, timeoutMs = 30_000, ns = namespace): Promise<Volume> {
  return eventually(
    `volume ${name} ${status}`,
    async () => {
      const v = await client.get<Volume>(volumeKind, name, ns);
      return v?.status?.status === status ? v : undefined;
    },
    timeoutMs,
  );
}

async function createVolume(spec: Volume["spec"], prefix = "vol", ns = namespace): Promise<string> {
  const name = unique(prefix);
  await client.create(volumeKind, volumeObject(name, spec, ns));
  return name;
}

describe("a volume", () => {
  it("blank: a PVC of its size becomes available, and extending it grows the claim", async () => {
    const name = await createVolume({ size: 1 });
    const volume = await volumeIn(name, "available");
    expect(volume.status).toMatchObject({ size: 1, bootable: "false", claimName: `${name}.volume`, observedGeneration: 1 });
    expect(conditionOf(volume)).toMatchObject({ status: "True", reason: "Reconciled" });
    const claim = await client.get<PersistentVolumeClaim>(Builtin.PersistentVolumeClaim, `${name}.volume`, namespace);
    expect(claim?.spec?.resources?.requests?.storage).toBe("1Gi");
    expect(claim?.metadata.ownerReferences?.[0]).toMatchObject({ kind: "Volume", name, controller: true });

    await client.patch(volumeKind, name, namespace, { spec: { size: 3 } }, "merge");
    const grown = await eventually(`volume ${name} at 3 GiB`, async () => {
      const v = await client.get<Volume>(volumeKind, name, namespace);
      return v?.status?.size === 3 && v.status.status === "available" ? v : undefined;
    });
    expect(grown.status?.observedGeneration).toBe(2);
    const after = await client.get<PersistentVolumeClaim>(Builtin.PersistentVolumeClaim, `${name}.volume`, namespace);
    expect(after?.status?.capacity?.storage).toBe("3Gi");
  });

  it("shrinking is rejected by the apiserver", async () => {
    const name = await createVolume({ size: 2 });
    await expect(client.patch(volumeKind, name, namespace, { spec: { size: 1 } }, "merge")).rejects.toThrow(/size can only grow/);
  });

  it("from an image: a DataVolume cloning the image's DataSource, bootable", async () => {
    const name = await createVolume({ size: 2, source: { imageRef: image } });
    const volume = await volumeIn(name, "available");
    expect(volume.status).toMatchObject({ size: 2, bootable: "true" });
    const dv = await client.get<DV>(Upstream.DataVolume, `${name}.volume`, namespace);
    expect(dv?.spec.sourceRef).toMatchObject({ kind: "DataSource", name: `${image}.image`, namespace });
    expect(dv?.metadata.ownerReferences?.[0]).toMatchObject({ kind: "Volume", name });
  });

  it("clone of another volume, extended after the copy", async () => {
    const origin = await createVolume({ size: 1, bootable: true });
    await volumeIn(origin, "available");
    const name = await createVolume({ size: 1, source: { volumeRef: origin } }, "clone");
    const clone = await volumeIn(name, "available");
    expect(clone.status?.bootable).toBe("true");
    const dv = await client.get<DV>(Upstream.DataVolume, `${name}.volume`, namespace);
    expect(dv?.spec.source?.pvc).toMatchObject({ name: `${origin}.volume`, namespace });

    await client.patch(volumeKind, name, namespace, { spec: { size: 2 } }, "merge");
    await eventually(`clone ${name} at 2 GiB`, async () => {
      const v = await client.get<Volume>(volumeKind, name, namespace);
      return v?.status?.size === 2 && v.status.status === "available" ? v : undefined;
    });
  });

  it("a bad source ends in error with Cinder's message and nothing created", async () => {
    const small = await createVolume({ size: 1, source: { volumeRef: "does-not-exist" } });
    const failed = await volumeIn(small, "error");
    expect(conditionOf(failed)).toMatchObject({ status: "False", reason: "DependencyNotFound", message: "Volume does-not-exist could not be found." });
    const typed = await createVolume({ size: 1, volumeType: "gold" });
    expect(conditionOf(await volumeIn(typed, "error"))?.message).toBe("Volume type gold could not be found.");
    expect(await client.get(Upstream.DataVolume, `${small}.volume`, namespace)).toBeUndefined();
    expect(await client.get(Builtin.PersistentVolumeClaim, `${typed}.volume`, namespace)).toBeUndefined();
  });

  it("declared by a server: deletion waits (VolumeIsBusy) until the server lets it go", async () => {
    const name = await createVolume({ size: 1 });
    await volumeIn(name, "available");
    const flavor = await createFlavor(client, { vcpus: 1, ram: 512, disk: 1 });
    const server = unique("holder");
    await client.create(serverKind, serverObject(namespace, server, { flavorRef: flavor, imageRef: image, volumes: [{ volumeRef: name }] }));

    await client.delete(volumeKind, name, namespace);
    const busy = await eventually(`volume ${name} busy`, async () => {
      const v = await client.get<Volume>(volumeKind, name, namespace);
      return conditionOf(v, "Deleting")?.reason === "VolumeIsBusy" ? v : undefined;
    });
    // A refused deletion changes nothing: the volume stays as the server's declaration makes it.
    expect(["reserved", "attaching", "in-use"]).toContain(busy.status?.status);
    expect(conditionOf(busy, "Deleting")?.message).toContain(server);
    expect(await client.get(Builtin.PersistentVolumeClaim, `${name}.volume`, namespace)).toBeDefined();

    await client.patch(serverKind, server, namespace, { spec: { volumes: null } }, "merge");
    await eventually(`volume ${name} gone`, async () => ((await client.get<KubeObject>(volumeKind, name, namespace)) === undefined ? true : undefined));
  });
});

async function snapshotIn(name: string, status: string): Promise<Snapshot> {
  return eventually(`snapshot ${name} ${status}`, async () => {
    const s = await client.get<Snapshot>(snapshotKind, name, namespace);
    return s?.status?.status === status ? s : undefined;
  });
}

async function createSnapshot(volumeRef: string, spec: Partial<Snapshot["spec"]> = {}): Promise<string> {
  const name = unique("snap");
  await client.create<Snapshot>(snapshotKind, { apiVersion: API_VERSION, kind: "Snapshot", metadata: { name, namespace }, spec: { volumeRef, ...spec } });
  return name;
}

const gone = (kind: typeof volumeKind | typeof snapshotKind, name: string) =>
  eventually(`${kind.kind} ${name} gone`, async () => ((await client.get<KubeObject>(kind, name, namespace)) === undefined ? true : undefined));

describe("a snapshot", () => {
  it("is a VolumeSnapshot the real CRD accepted; it becomes available and a new volume restores from it", async () => {
    const origin = await createVolume({ size: 1, bootable: true });
    await volumeIn(origin, "available");
    const name = await createSnapshot(origin);
    const snapshot = await snapshotIn(name, "available");
    expect(snapshot.status).toMatchObject({ size: 1, volumeSnapshotName: `${name}.snapshot` });
    expect(conditionOf(snapshot)).toMatchObject({ status: "True", reason: "Reconciled" });
    const vs = await client.get<VolumeSnapshot>(Upstream.VolumeSnapshot, `${name}.snapshot`, namespace);
    expect(vs?.spec.source).toEqual({ persistentVolumeClaimName: `${origin}.volume` });
    expect(vs?.status?.readyToUse).toBe(true);
    expect(vs?.metadata.ownerReferences?.[0]).toMatchObject({ kind: "Snapshot", name, controller: true });

    const restored = await createVolume({ size: 2, source: { snapshotRef: name } }, "restored");
    const volume = await volumeIn(restored, "available");
    expect(volume.status).toMatchObject({ size: 2, bootable: "true" });
    const dv = await client.get<DV>(Upstream.DataVolume, `${restored}.volume`, namespace);
    expect(dv?.spec.source?.snapshot).toEqual({ namespace, name: `${name}.snapshot` });
  });

  it("of a missing volume ends in error with nothing taken", async () => {
    const name = await createSnapshot("no-such-volume");
    const snapshot = await snapshotIn(name, "error");
    expect(conditionOf(snapshot)?.message).toBe("Volume no-such-volume could not be found.");
    expect(await client.get(Upstream.VolumeSnapshot, `${name}.snapshot`, namespace)).toBeUndefined();
  });

  it("keeps its volume until deleted; a volume annotated to cascade takes its snapshots with it", async () => {
    const kept = await createVolume({ size: 1 });
    await volumeIn(kept, "available");
    const first = await createSnapshot(kept);
    await snapshotIn(first, "available");
    await client.delete(volumeKind, kept, namespace);
    const waiting = await eventually(`volume ${kept} waits for its snapshot`, async () => {
      const v = await client.get<Volume>(volumeKind, kept, namespace);
      return conditionOf(v, "Deleting")?.reason === "VolumeHasSnapshots" ? v : undefined;
    });
    expect(conditionOf(waiting, "Deleting")?.message).toContain(first);
    await client.delete(snapshotKind, first, namespace);
    await gone(volumeKind, kept);

    const cascading = await createVolume({ size: 1 });
    await volumeIn(cascading, "available");
    const second = await createSnapshot(cascading);
    await snapshotIn(second, "available");
    await client.patch(volumeKind, cascading, namespace, { metadata: { annotations: { "altostack.io/cascade": "true" } } }, "merge");
    await client.delete(volumeKind, cascading, namespace);
    await gone(snapshotKind, second);
    await gone(volumeKind, cascading);
  });
});

describe("attach and detach", () => {
  it("hot-plugs a volume into a running server (in-use, with an attachment), detaches it (available), and keeps a single-attach volume to one server", async () => {
    const flavor = await createFlavor(client, { vcpus: 1, ram: 512, disk: 1 });
    const server = unique("web");
    await client.create(serverKind, serverObject(namespace, server, { flavorRef: flavor, imageRef: image }));
    const active = await serverStatus(client, namespace, server, "ACTIVE");
    const name = await createVolume({ size: 1 });
    await volumeIn(name, "available");

    await client.patch(serverKind, server, namespace, { spec: { volumes: [{ volumeRef: name }] } }, "merge");
    const inUse = await eventually(`volume ${name} in-use with a device`, async () => {
      const v = await client.get<Volume>(volumeKind, name, namespace);
      return v?.status?.status === "in-use" && v.status.attachments?.[0]?.device !== undefined ? v : undefined;
    });
    expect(inUse.status?.attachments).toEqual([
      expect.objectContaining({ serverId: active.metadata.uid, serverName: server, attachmentId: expect.stringMatching(/^[0-9a-f-]{36}$/) as string }),
    ]);
    expect(inUse.status?.attachments?.[0]?.device).toMatch(/^\/dev\//);
    expect(inUse.status?.attachments?.[0]?.attachedAt).toBeDefined();
    // The VM the real KubeVirt schema accepted carries it as a hot-plugged SCSI disk.
    const vm = await client.get<VM>(Upstream.VirtualMachine, server, namespace);
    const vmVolume = vm?.spec.template.spec?.volumes?.find((v) => v.persistentVolumeClaim?.claimName === `${name}.volume`);
    expect(vmVolume?.persistentVolumeClaim).toEqual({ claimName: `${name}.volume`, hotpluggable: true });
    expect(vm?.spec.template.spec?.domain.devices.disks).toContainEqual({ name: vmVolume?.name, disk: { bus: "scsi" } });
    const vmi = await client.get<VMI>(Upstream.VirtualMachineInstance, server, namespace);
    expect(vmi?.status?.volumeStatus?.some((s) => s.name === vmVolume?.name)).toBe(true);

    // A second server asking for the same single-attach volume does not get it.
    const other = unique("other");
    await client.create(serverKind, serverObject(namespace, other, { flavorRef: flavor, imageRef: image, volumes: [{ volumeRef: name }] }));
    await serverStatus(client, namespace, other, "ACTIVE");
    const otherVm = await client.get<VM>(Upstream.VirtualMachine, other, namespace);
    expect(otherVm?.spec.template.spec?.volumes?.some((v) => v.persistentVolumeClaim?.claimName === `${name}.volume`)).toBe(false);
    expect((await client.get<Volume>(volumeKind, name, namespace))?.status?.attachments).toHaveLength(1);
    await client.patch(serverKind, other, namespace, { spec: { volumes: null } }, "merge");

    await client.patch(serverKind, server, namespace, { spec: { volumes: null } }, "merge");
    const detached = await volumeIn(name, "available");
    expect(detached.status?.attachments ?? []).toEqual([]);
    const after = await client.get<VM>(Upstream.VirtualMachine, server, namespace);
    expect(after?.spec.template.spec?.volumes?.some((v) => v.persistentVolumeClaim !== undefined)).toBe(false);
  });
});

describe("a volume declared when its server is created", () => {
  it("but made only after the server is ACTIVE is hot-plugged at once: watches carry it, no retry timer", async () => {
    // One GitOps apply creates both in any order: here the server is built before its volume exists.
    const name = unique("late");
    const flavor = await createFlavor(client, { vcpus: 1, ram: 512, disk: 1 });
    const server = unique("early");
    await client.create(serverKind, serverObject(namespace, server, { flavorRef: flavor, imageRef: image, volumes: [{ volumeRef: name }] }));
    await serverStatus(client, namespace, server, "ACTIVE");

    await client.create(volumeKind, volumeObject(name, { size: 1 }));
    const ready = await eventually(`volume ${name} provisioned`, async () => {
      const v = await client.get<Volume>(volumeKind, name, namespace);
      return v?.status?.status !== undefined && !["creating", "downloading"].includes(v.status.status) ? v : undefined;
    });
    const readyAt = Date.now();
    // Cluster events alone must take it from reserved to in-use; a missed trigger would sit on a backoff
    // retry or a later unrelated event (seen once as ~45 s in gitops). Generous for 2 shared cores.
    const inUse = await volumeIn(name, "in-use", 15_000);
    console.log(`volume ${name}: ${ready.status?.status ?? ""} → in-use in ${Date.now() - readyAt} ms`);
    expect(inUse.status?.attachments?.map((a) => a.serverName)).toEqual([server]);
    const vm = await client.get<VM>(Upstream.VirtualMachine, server, namespace);
    expect(vm?.spec.template.spec?.volumes?.find((v) => v.persistentVolumeClaim?.claimName === `${name}.volume`)?.persistentVolumeClaim).toEqual({
      claimName: `${name}.volume`,
      hotpluggable: true,
    });
  });
});

describe("a volume whose claim another operator made differently", () => {
  it("still reports its status: the refused re-apply of an immutable claim field does not freeze it behind retries", async () => {
    // Integration files share one cluster, and their operators differ in disk access modes: whichever made a
    // claim first, the other's apply of it is refused (immutable). That refusal must not stop the status.
    const probe = await createVolume({ size: 1 }, "probe");
    await volumeIn(probe, "available");
    const shape = await client.get<PersistentVolumeClaim>(Builtin.PersistentVolumeClaim, `${probe}.volume`, namespace);
    const theirs = shape?.spec?.accessModes?.includes("ReadWriteOnce") === true ? "ReadWriteMany" : "ReadWriteOnce";
    const name = unique("foreign");
    await client.create<PersistentVolumeClaim>(Builtin.PersistentVolumeClaim, {
      apiVersion: "v1",
      kind: "PersistentVolumeClaim",
      metadata: { name: `${name}.volume`, namespace },
      spec: { accessModes: [theirs], storageClassName: shape?.spec?.storageClassName, resources: { requests: { storage: "1Gi" } } },
    });
    await client.create(volumeKind, volumeObject(name, { size: 1 }));
    const available = await volumeIn(name, "available", 15_000);
    expect(available.status).toMatchObject({ size: 1, claimName: `${name}.volume` });
    const claim = await client.get<PersistentVolumeClaim>(Builtin.PersistentVolumeClaim, `${name}.volume`, namespace);
    expect(claim?.spec?.accessModes).toEqual([theirs]);
  });
});

describe("deleteOnTermination", () => {
  it("a server's deletion takes the volumes marked deleteOnTermination and leaves the others", async () => {
    const flavor = await createFlavor(client, { vcpus: 1, ram: 512, disk: 1 });
    const { namespace: ns } = await readyProject(client, "storage-dot");
    const ownImage = await activeImage(client, ns);
    const scratch = await createVolume({ size: 1 }, "scratch", ns);
    const kept = await createVolume({ size: 1 }, "kept", ns);
    await volumeIn(scratch, "available", 30_000, ns);
    await volumeIn(kept, "available", 30_000, ns);
    const server = unique("tmp");
    await client.create(
      serverKind,
      serverObject(ns, server, { flavorRef: flavor, imageRef: ownImage, volumes: [{ volumeRef: scratch, deleteOnTermination: true }, { volumeRef: kept }] }),
    );
    await volumeIn(scratch, "in-use", 30_000, ns);
    await client.delete(serverKind, server, ns);
    await eventually(`volume ${scratch} gone`, async () => ((await client.get<KubeObject>(volumeKind, scratch, ns)) === undefined ? true : undefined));
    const left = await volumeIn(kept, "available", 30_000, ns);
    expect(left.status?.attachments ?? []).toEqual([]);
  });
});

describe("boot from volume", () => {
  const vmRoot = async (server: string, ns = namespace) => {
    const vm = await client.get<VM>(Upstream.VirtualMachine, server, ns);
    return { vm, root: vm?.spec.template.spec?.volumes?.find((v) => v.name === "root") };
  };

  it("from an existing bootable volume: ACTIVE, the VM's root disk is the volume's claim, the volume in-use on /dev/vda; rebuild is refused", async () => {
    const flavor = await createFlavor(client, { vcpus: 1, ram: 512, disk: 1 });
    const root = await createVolume({ size: 2, source: { imageRef: image } }, "root");
    await volumeIn(root, "available");
    const server = unique("bfv");
    await client.create(serverKind, serverObject(namespace, server, { flavorRef: flavor, bootVolume: { volumeRef: root } }));
    const active = await serverStatus(client, namespace, server, "ACTIVE");
    expect(active.status).toMatchObject({ bootVolume: root, rootDisk: `${root}.volume`, image: { ref: "", id: "" } });
    expect(active.status?.addresses).toBeDefined();

    const { vm, root: rootVolume } = await vmRoot(server);
    expect(rootVolume).toEqual({ name: "root", persistentVolumeClaim: { claimName: `${root}.volume` } });
    // No DataVolume of the VM's own: the claim is the volume's and outlives the VM.
    expect(vm?.spec.dataVolumeTemplates ?? []).toEqual([]);

    const inUse = await eventually(`volume ${root} in-use on /dev/vda`, async () => {
      const v = await client.get<Volume>(volumeKind, root, namespace);
      return v?.status?.status === "in-use" && v.status.attachments?.[0]?.device === "/dev/vda" ? v : undefined;
    });
    expect(inUse.status).toMatchObject({ bootable: "true", attachments: [expect.objectContaining({ serverId: active.metadata.uid, serverName: server })] });

    const rebuild = await createAction(client, namespace, { serverRef: server, action: "rebuild", imageRef: image });
    const refused = await actionPhase(client, namespace, rebuild, "Failed");
    expect(refused.status).toMatchObject({
      code: 400,
      message: `Image ${image} is unacceptable: Unable to rebuild with a different image for a volume-backed server.`,
    });
    // The boot volume cannot be swapped under a server.
    await expect(client.patch(serverKind, server, namespace, { spec: { bootVolume: { volumeRef: "other" } } }, "merge")).rejects.toThrow(/bootVolume cannot change/);
  });

  it("refuses a volume that is not bootable, with Nova's fault", async () => {
    const flavor = await createFlavor(client, { vcpus: 1, ram: 512, disk: 1 });
    const blank = await createVolume({ size: 1 }, "blank");
    await volumeIn(blank, "available");
    const server = unique("nobfv");
    await client.create(serverKind, serverObject(namespace, server, { flavorRef: flavor, bootVolume: { volumeRef: blank } }));
    const failed = await serverStatus(client, namespace, server, "ERROR");
    expect(failed.status?.fault).toMatchObject({ code: 400, message: `Block Device ${blank} is not bootable.` });
    expect(await client.get(Upstream.VirtualMachine, server, namespace)).toBeUndefined();
  });

  it("a boot volume the project's volume quota refuses fails the build with that reason", async () => {
    const flavor = await createFlavor(client, { vcpus: 1, ram: 512, disk: 1 });
    const { namespace: ns } = await readyProject(client, "storage-noquota", { quotas: { volumes: 0 } });
    const ownImage = await activeImage(client, ns);
    const server = unique("bfq");
    await client.create(serverKind, serverObject(ns, server, { flavorRef: flavor, bootVolume: { imageRef: ownImage, size: 1 } }));
    const failed = await serverStatus(client, ns, server, "ERROR");
    expect(failed.status?.fault).toMatchObject({ code: 403, message: expect.stringContaining(`the boot volume ${server}-boot could not be created`) as unknown });
    expect(failed.status?.fault?.message).toMatch(/exceeded quota/);
    expect(conditionOf(failed)?.reason).toBe("QuotaExceeded");
    expect(await client.get(volumeKind, `${server}-boot`, ns)).toBeUndefined();
  });

  it.each([
    ["deleteOnTermination: the volume goes with the server", true],
    ["kept: the volume stays, available", false],
  ])("from an image into a new volume (%s)", async (_name, deleteOnTermination) => {
    const flavor = await createFlavor(client, { vcpus: 1, ram: 512, disk: 1 });
    const server = unique("bfi");
    await client.create(serverKind, serverObject(namespace, server, { flavorRef: flavor, bootVolume: { imageRef: image, size: 2, deleteOnTermination } }));
    const active = await serverStatus(client, namespace, server, "ACTIVE", { timeoutMs: 60_000 });
    const bootVolume = `${server}-boot`;
    expect(active.status?.bootVolume).toBe(bootVolume);
    const volume = await volumeIn(bootVolume, "in-use");
    expect(volume.spec).toMatchObject({ size: 2, bootable: true, source: { imageRef: image } });
    expect(volume.status).toMatchObject({ bootable: "true", size: 2, attachments: [expect.objectContaining({ serverName: server, device: "/dev/vda" })] });
    expect(volume.metadata.ownerReferences?.some((r) => r.kind === "Server" && r.uid === active.metadata.uid) ?? false).toBe(deleteOnTermination);
    expect((await vmRoot(server)).root).toEqual({ name: "root", persistentVolumeClaim: { claimName: `${bootVolume}.volume` } });

    await client.delete(serverKind, server, namespace);
    await eventually(`server ${server} gone`, async () => ((await client.get<KubeObject>(serverKind, server, namespace)) === undefined ? true : undefined), 60_000);
    if (deleteOnTermination) {
      await gone(volumeKind, bootVolume);
    } else {
      const left = await volumeIn(bootVolume, "available");
      expect(left.status?.attachments ?? []).toEqual([]);
      await client.delete(volumeKind, bootVolume, namespace);
    }
  });
});

describe("examples/storage", () => {
  it("kubectl apply -f examples/storage/ gives a running server with its data volume attached, a snapshot, a restored volume and a volume-backed server", async () => {
    const tiny = STANDARD_FLAVORS.find((f) => f.name === "m1.tiny");
    if (tiny === undefined) throw new Error("m1.tiny is not a standard flavor");
    const { name, ...spec } = tiny;
    await client.create(flavorKind, { apiVersion: API_VERSION, kind: "Flavor", metadata: { name }, spec }).catch((e: unknown) => {
      if (!isAlreadyExists(e)) throw e;
    });
    const dir = join(import.meta.dirname, "..", "..", "examples", "storage");
    for (const file of readdirSync(dir).filter((f) => f.endsWith(".yaml")).sort()) {
      for (const doc of parseAllDocuments(readFileSync(join(dir, file), "utf8"))) {
        const obj = doc.toJS() as KubeObject & { kind: string };
        const rt: ResourceType | undefined = obj.kind === "Namespace" ? Builtin.Namespace : ALL_KINDS.find((k) => k.kind === obj.kind);
        if (rt === undefined) throw new Error(`${file}: unknown kind ${obj.kind}`);
        await client.apply(rt, obj, { fieldManager: "kubectl" });
      }
    }
    const ns = "project-storagedemo";
    const get = <T extends KubeObject>(rt: ResourceType, n: string) => client.get<T>(rt, n, ns);
    await eventually("server app ACTIVE", async () => (await get<Server>(serverKind, "app"))?.status?.status === "ACTIVE", 60_000);
    const data = await eventually(
      "volume data in-use",
      async () => {
        const v = await get<Volume>(volumeKind, "data");
        return v?.status?.status === "in-use" ? v : undefined;
      },
      60_000,
    );
    expect(data.status?.attachments?.[0]?.serverName).toBe("app");
    const vm = await get<VM>(Upstream.VirtualMachine, "app");
    // Applied together, the volume is usually ready before the guest runs: then it is a plain disk at boot.
    expect(vm?.spec.template.spec?.volumes?.some((v) => v.persistentVolumeClaim?.claimName === "data.volume")).toBe(true);
    expect((await get<Volume>(volumeKind, "cirros-copy"))?.status?.bootable).toBe("true");
    await eventually("snapshot available", async () => (await get<Snapshot>(snapshotKind, "cirros-copy-snap"))?.status?.status === "available", 60_000);
    await eventually("restored available", async () => (await get<Volume>(volumeKind, "restored"))?.status?.status === "available", 60_000);
    // 40-boot-from-volume.yaml: a server booted from the image copied into its own volume.
    await eventually("server bfv ACTIVE", async () => (await get<Server>(serverKind, "bfv"))?.status?.status === "ACTIVE", 60_000);
    // The volume controller reports in-use once it sees the VM carry the claim (its own watch, after ACTIVE).
    const boot = await eventually("volume bfv-boot in-use", async () => {
      const v = await get<Volume>(volumeKind, "bfv-boot");
      return v?.status?.status === "in-use" ? v : undefined;
    });
    expect(boot.status).toMatchObject({ status: "in-use", bootable: "true", attachments: [expect.objectContaining({ serverName: "bfv", device: "/dev/vda" })] });
  });
});
