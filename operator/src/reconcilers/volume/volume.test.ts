import { describe, expect, it } from "vitest";
import { API_VERSION, type Image, type Snapshot, type Volume, type VolumeStatusValue } from "../../api/index.js";
import { claimResizeFailure, claimResizeRequest, desiredVolumeChildren, volumeClaimName, wholeGiB, type ClaimObject, type ResolvedSource } from "./desired.js";
import { inheritedBootable, resolveVolumeSource, type SourceLookups } from "./resolve.js";
import { parseVolumeTypes, storageSettingsSchema, volumeTypeOf } from "./settings.js";
import { volumeVerdict, type VolumeObservation } from "./status.js";

const NS = "project-alpha";
const GIB = 1024 ** 3;

function volume(spec: Partial<Volume["spec"]> = {}, status?: Volume["status"]): Volume {
  return {
    apiVersion: API_VERSION,
    kind: "Volume",
    metadata: { name: "data", namespace: NS, uid: "v-1" },
    spec: { size: 10, ...spec },
    ...(status === undefined ? {} : { status }),
  };
}

const storage = { storageClassName: "fast", accessModes: [] as const };

describe("desiredVolumeChildren", () => {
  const cases: { name: string; source: ResolvedSource; spec?: Partial<Volume["spec"]>; expectClaim: unknown; expectDv: unknown }[] = [
    {
      name: "blank → a PVC of the size and class, ReadWriteOnce by default",
      source: { kind: "blank" },
      expectClaim: {
        kind: "PersistentVolumeClaim",
        metadata: { name: "data.volume", namespace: NS, labels: { "altostack.io/volume": "data", "altostack.io/project": "alpha" } },
        spec: { accessModes: ["ReadWriteOnce"], resources: { requests: { storage: "10Gi" } }, storageClassName: "fast" },
      },
      expectDv: undefined,
    },
    {
      name: "blank multiattach → a shared block PVC",
      source: { kind: "blank" },
      spec: { multiattach: true },
      expectClaim: { spec: { accessModes: ["ReadWriteMany"], volumeMode: "Block" } },
      expectDv: undefined,
    },
    {
      name: "image → a DataVolume cloning the image's DataSource",
      source: { kind: "image", namespace: "project-beta", dataSource: "cirros.image" },
      expectClaim: undefined,
      expectDv: {
        kind: "DataVolume",
        metadata: { name: "data.volume", annotations: { "cdi.kubevirt.io/storage.bind.immediate.requested": "true" } },
        spec: {
          sourceRef: { kind: "DataSource", namespace: "project-beta", name: "cirros.image" },
          storage: { resources: { requests: { storage: "10Gi" } }, storageClassName: "fast", accessModes: ["ReadWriteOnce"] },
        },
      },
    },
    {
      name: "snapshot → a DataVolume restoring the VolumeSnapshot",
      source: { kind: "snapshot", namespace: NS, volumeSnapshot: "snap1.snapshot" },
      expectClaim: undefined,
      expectDv: { spec: { source: { snapshot: { namespace: NS, name: "snap1.snapshot" } } } },
    },
    {
      name: "volume → a DataVolume cloning the source claim",
      source: { kind: "volume", namespace: NS, claim: "origin.volume" },
      expectClaim: undefined,
      expectDv: { spec: { source: { pvc: { namespace: NS, name: "origin.volume" } } } },
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const children = desiredVolumeChildren(volume(c.spec), c.source, storage);
      if (c.expectClaim === undefined) expect(children.claim).toBeUndefined();
      else expect(children.claim).toMatchObject(c.expectClaim as object);
      if (c.expectDv === undefined) expect(children.dataVolume).toBeUndefined();
      else expect(children.dataVolume).toMatchObject(c.expectDv as object);
    });
  }

  it("leaves the class to the cluster default when the volume type has none, and uses configured access modes", () => {
    const { claim } = desiredVolumeChildren(volume(), { kind: "blank" }, { storageClassName: undefined, accessModes: ["ReadWriteMany"] });
    expect(claim?.spec?.storageClassName).toBeUndefined();
    expect(claim?.spec?.accessModes).toEqual(["ReadWriteMany"]);
  });

  it("keeps long names valid", () => {
    const long = "v".repeat(250);
    expect(volumeClaimName(long).length).toBeLessThanOrEqual(253);
    expect(volumeClaimName(long)).toMatch(/\.volume$/);
  });
});

describe("claim sizes", () => {
  it.each([
    [10, 5 * GIB, "10Gi"],
    [10, 10 * GIB, undefined],
    [10, 12 * GIB, undefined],
    [10, undefined, undefined],
  ])("size %i GiB over a request of %s bytes → %s", (size, request, expected) => {
    expect(claimResizeRequest(size, request)).toBe(expected);
  });
  it("counts whole GiB", () => {
    expect(wholeGiB(1.5 * GIB)).toBe(1);
    expect(wholeGiB(undefined)).toBeUndefined();
  });
});

function image(name: string, namespace: string, spec: Partial<Image["spec"]>, status: Image["status"]): Image {
  return { apiVersion: API_VERSION, kind: "Image", metadata: { name, namespace, uid: `i-${name}` }, spec: { source: { upload: {} }, ...spec }, status };
}
const activeImage = (name: string, namespace: string, spec: Partial<Image["spec"]> = {}, virtualSize = GIB) =>
  image(name, namespace, spec, { status: "active", virtualSize, dataSource: { name: `${name}.image`, namespace } });

function snapshot(name: string, status: Snapshot["status"]): Snapshot {
  return { apiVersion: API_VERSION, kind: "Snapshot", metadata: { name, namespace: NS }, spec: { volumeRef: "origin" }, status };
}

describe("resolveVolumeSource", () => {
  const lookups: SourceLookups = {
    image: (ns, name) =>
      [
        activeImage("cirros", NS),
        activeImage("big", NS, {}, 20 * GIB),
        activeImage("needs", NS, { minDisk: 40 }),
        activeImage("private", "project-beta", { visibility: "private" }),
        activeImage("public", "project-beta", { visibility: "public" }),
        image("importing", NS, {}, { status: "queued" }),
      ].find((i) => i.metadata.namespace === ns && i.metadata.name === name),
    snapshot: (name) =>
      [
        snapshot("ready", { status: "available", size: 5, volumeSnapshotName: "ready.snapshot" }),
        snapshot("huge", { status: "available", size: 50, volumeSnapshotName: "huge.snapshot" }),
        snapshot("taking", { status: "creating" }),
        snapshot("broken", { status: "error" }),
      ].find((s) => s.metadata.name === name),
    volume: (name) =>
      [
        { ...volume({ size: 5 }, { status: "available", claimName: "origin.volume", size: 5, bootable: "true" }), metadata: { name: "origin", namespace: NS } },
        { ...volume({ size: 5 }, { status: "creating" }), metadata: { name: "young", namespace: NS } },
        { ...volume({ size: 50 }, { status: "available", claimName: "wide.volume", size: 50 }), metadata: { name: "wide", namespace: NS } },
      ].find((v) => v.metadata.name === name),
  };
  const cases: { name: string; source: NonNullable<Volume["spec"]["source"]>; expected: unknown }[] = [
    { name: "own image", source: { imageRef: "cirros" }, expected: { kind: "ok", source: { kind: "image", namespace: NS, dataSource: "cirros.image" } } },
    { name: "public image of another project", source: { imageRef: "beta/public" }, expected: { kind: "ok", source: { namespace: "project-beta" } } },
    { name: "private image of another project is not found", source: { imageRef: "beta/private" }, expected: { kind: "fault", reason: "DependencyNotFound" } },
    { name: "image larger than the volume", source: { imageRef: "big" }, expected: { kind: "fault", message: "Size of specified image 20 GB is larger than volume size 10 GB." } },
    { name: "image minDisk above the volume", source: { imageRef: "needs" }, expected: { kind: "fault", message: "Image minDisk size 40 GB is larger than the volume size 10 GB." } },
    { name: "image still importing", source: { imageRef: "importing" }, expected: { kind: "waiting" } },
    { name: "available snapshot", source: { snapshotRef: "ready" }, expected: { kind: "ok", source: { kind: "snapshot", volumeSnapshot: "ready.snapshot" } } },
    { name: "snapshot larger than the volume", source: { snapshotRef: "huge" }, expected: { kind: "fault", reason: "InvalidSpec" } },
    { name: "snapshot being taken", source: { snapshotRef: "taking" }, expected: { kind: "waiting" } },
    { name: "snapshot in error", source: { snapshotRef: "broken" }, expected: { kind: "fault", reason: "DependencyNotReady" } },
    { name: "missing snapshot", source: { snapshotRef: "nope" }, expected: { kind: "fault", message: "Snapshot nope could not be found." } },
    { name: "clone of an available volume", source: { volumeRef: "origin" }, expected: { kind: "ok", source: { kind: "volume", claim: "origin.volume" } } },
    { name: "clone of a volume still being created", source: { volumeRef: "young" }, expected: { kind: "waiting" } },
    { name: "clone of a larger volume", source: { volumeRef: "wide" }, expected: { kind: "fault", reason: "InvalidSpec" } },
    { name: "clone of a missing volume", source: { volumeRef: "nope" }, expected: { kind: "fault", message: "Volume nope could not be found." } },
    { name: "no source: blank", source: {}, expected: { kind: "ok", source: { kind: "blank" } } },
  ];
  for (const c of cases) {
    it(c.name, () => {
      expect(resolveVolumeSource(volume({ source: c.source }), lookups)).toMatchObject(c.expected as object);
    });
  }
});

describe("inheritedBootable", () => {
  const origin = { ...volume({ size: 1, bootable: true }), metadata: { name: "origin", namespace: NS } };
  const lookups = {
    snapshot: (name: string) => (name === "s1" ? snapshot("s1", { status: "available" }) : undefined),
    volume: (name: string) => (name === "origin" ? origin : undefined),
  };
  it.each([
    ["blank", {}, false],
    ["from an image", { imageRef: "cirros" }, true],
    ["clone of a bootable volume", { volumeRef: "origin" }, true],
    ["from a snapshot of a bootable volume", { snapshotRef: "s1" }, true],
    ["clone of a volume that is gone", { volumeRef: "gone" }, undefined],
    ["from a snapshot that is gone", { snapshotRef: "gone" }, undefined],
  ] as const)("%s", (_name, source, expected) => {
    expect(inheritedBootable(volume({ source }), lookups)).toBe(expected);
  });
});

describe("volumeVerdict (Cinder status)", () => {
  const base: VolumeObservation = { sizeGiB: 10, fromImage: false, attachments: 0, deleting: false, claim: { phase: "Bound", capacityGiB: 10 } };
  const cases: { name: string; o: Partial<VolumeObservation>; status: VolumeStatusValue; ready: string; deleting?: string }[] = [
    { name: "no claim yet", o: { claim: undefined }, status: "creating", ready: "Progressing" },
    { name: "claim pending", o: { claim: { phase: "Pending", capacityGiB: undefined } }, status: "creating", ready: "Progressing" },
    { name: "bound", o: {}, status: "available", ready: "Reconciled" },
    { name: "attached", o: { attachments: 1 }, status: "in-use", ready: "Reconciled" },
    { name: "growing", o: { claim: { phase: "Bound", capacityGiB: 5 } }, status: "extending", ready: "Progressing" },
    {
      name: "growth refused by the storage",
      o: { claim: { phase: "Bound", capacityGiB: 5 }, resizeFailure: "storageclass does not allow expansion" },
      status: "error_extending",
      ready: "ProvisioningFailed",
    },
    { name: "a resize failure once the claim has grown is history", o: { resizeFailure: "old" }, status: "available", ready: "Reconciled" },
    { name: "declared by its server, not on the VM yet", o: { reserved: true }, status: "reserved", ready: "Reconciled" },
    { name: "hot-plugged, the guest has not reported it", o: { attachments: 1, attaching: 1, reserved: true }, status: "attaching", ready: "Reconciled" },
    { name: "multiattach: attached to one, attaching to another", o: { attachments: 2, attaching: 1 }, status: "in-use", ready: "Reconciled" },
    { name: "released by the VM, still in the guest", o: { detaching: true }, status: "detaching", ready: "Reconciled" },
    { name: "attached elsewhere while a guest lets go", o: { attachments: 1, detaching: true }, status: "in-use", ready: "Reconciled" },
    { name: "extending wins over attachment states", o: { claim: { phase: "Bound", capacityGiB: 5 }, attachments: 1 }, status: "extending", ready: "Progressing" },
    { name: "source fault", o: { fault: { reason: "InvalidSpec", message: "too small" } }, status: "error", ready: "InvalidSpec" },
    { name: "copy failed", o: { dataVolume: { phase: "Failed", progress: undefined, failure: "boom" } }, status: "error", ready: "ProvisioningFailed" },
    { name: "claim lost", o: { claim: { phase: "Lost", capacityGiB: undefined } }, status: "error", ready: "ProvisioningFailed" },
    {
      name: "image being copied",
      o: { fromImage: true, claim: undefined, dataVolume: { phase: "CloneInProgress", progress: "40%", failure: undefined } },
      status: "downloading",
      ready: "Progressing",
    },
    {
      name: "snapshot being restored",
      o: { claim: { phase: "Bound", capacityGiB: 10 }, dataVolume: { phase: "CloneInProgress", progress: "40%", failure: undefined } },
      status: "creating",
      ready: "Progressing",
    },
    { name: "copied", o: { dataVolume: { phase: "Succeeded", progress: "100.0%", failure: undefined } }, status: "available", ready: "Reconciled" },
    { name: "deleting", o: { deleting: true }, status: "deleting", ready: "Progressing", deleting: "Progressing" },
    {
      name: "deletion of an attached volume refused",
      o: { deleting: true, attachments: 1, deletionBlocked: { reason: "VolumeIsBusy", message: "attached" } },
      status: "in-use",
      ready: "Reconciled",
      deleting: "VolumeIsBusy",
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const verdict = volumeVerdict({ ...base, ...c.o });
      expect(verdict.status).toBe(c.status);
      expect(verdict.ready.reason).toBe(c.ready);
      expect(verdict.deletingCondition?.reason).toBe(c.deleting);
    });
  }
  it("says what it waits for", () => {
    expect(volumeVerdict({ ...base, claim: undefined, waiting: "waiting for snapshot s1" }).ready.message).toBe("waiting for snapshot s1");
  });
});

describe("claimResizeFailure", () => {
  const claim = (status: ClaimObject["status"]): ClaimObject => ({ metadata: { name: "c" }, status });
  it.each<[string, ClaimObject | undefined, string | undefined]>([
    ["no claim", undefined, undefined],
    ["resizing", claim({ allocatedResourceStatuses: { storage: "ControllerResizeInProgress" } }), undefined],
    ["the controller gave up", claim({ allocatedResourceStatuses: { storage: "ControllerResizeInfeasible" } }), "the storage reports ControllerResizeInfeasible"],
    ["the node gave up", claim({ allocatedResourceStatuses: { storage: "NodeResizeInfeasible" } }), "the storage reports NodeResizeInfeasible"],
    [
      "a resizer's error condition (its message wins)",
      claim({ conditions: [{ type: "ControllerResizeError", status: "True", message: "quota exceeded on the backend" }] }),
      "quota exceeded on the backend",
    ],
    ["a condition that is not an error", claim({ conditions: [{ type: "FileSystemResizePending", status: "True" }] }), undefined],
  ])("%s", (_name, c, expected) => {
    expect(claimResizeFailure(c)).toBe(expected);
  });
});

describe("volume types", () => {
  it("parses name[=storageClass] with the first as default", () => {
    const settings = storageSettingsSchema.parse({ volumeTypes: parseVolumeTypes("standard, ssd=fast-ssd") });
    expect(settings.volumeTypes).toEqual([{ name: "standard" }, { name: "ssd", storageClass: "fast-ssd" }]);
    expect(volumeTypeOf(settings, undefined)?.name).toBe("standard");
    expect(volumeTypeOf(settings, "ssd")?.storageClass).toBe("fast-ssd");
    expect(volumeTypeOf(settings, "gold")).toBeUndefined();
  });
  it.each<[string, string, Record<string, string>]>([
    ["name only", "standard", { name: "standard" }],
    ["a StorageClass", "ssd=fast-ssd", { name: "ssd", storageClass: "fast-ssd" }],
    ["a StorageClass and its VolumeSnapshotClass", "ssd=fast-ssd:csi-snapclass", { name: "ssd", storageClass: "fast-ssd", snapshotClass: "csi-snapclass" }],
    ["a VolumeSnapshotClass on the default StorageClass", "std=:csi-snapclass", { name: "std", snapshotClass: "csi-snapclass" }],
    ["an empty snapshot class is no class", "ssd=fast-ssd:", { name: "ssd", storageClass: "fast-ssd" }],
  ])("parses %s", (_name, text, expected) => {
    expect(storageSettingsSchema.parse({ volumeTypes: parseVolumeTypes(text) }).volumeTypes).toEqual([expected]);
  });
  it("defaults to Cinder's __DEFAULT__ type", () => {
    expect(parseVolumeTypes(undefined)).toEqual([{ name: "__DEFAULT__" }]);
  });
  it("rejects duplicate names", () => {
    expect(storageSettingsSchema.safeParse({ volumeTypes: parseVolumeTypes("a,a=x") }).success).toBe(false);
  });
});
