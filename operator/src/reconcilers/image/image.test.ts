import { describe, expect, it } from "vitest";
import type { Image } from "../../api/index.js";
import { desiredImageChildren, volumeSizeGiB } from "./desired.js";
import { interpretImageProperties } from "./properties.js";
import { failureOf, imageVerdict, type ImageObservation } from "./status.js";
import { cloneSubjects, imageUsableFrom, resolveImageRef } from "./visibility.js";

function image(spec: Partial<Image["spec"]> = {}, name = "cirros", namespace = "project-lib"): Image {
  return {
    apiVersion: "altostack.io/v1alpha1",
    kind: "Image",
    metadata: { name, namespace, uid: "u1" },
    spec: { source: { http: { url: "https://images.example/cirros.img" } }, ...spec },
  };
}

describe("Glance status from the DataVolume", () => {
  const base: ImageObservation = {
    source: "http",
    dataVolume: undefined,
    sourceProblem: undefined,
    sourceGone: false,
    deleting: false,
    protectedImage: false,
    uploadRecorded: false,
    uploadStreaming: false,
    previous: undefined,
  };
  const dv = (phase: string, progress = "N/A", failure?: string) => ({ phase, progress, failure });
  it.each<[string, Partial<ImageObservation>, string, string]>([
    ["http, nothing yet", {}, "queued", "False"],
    ["http, importing", { dataVolume: dv("ImportInProgress", "45.00%") }, "importing", "False"],
    ["http, done", { dataVolume: dv("Succeeded", "100.0%") }, "active", "True"],
    ["http, failed", { dataVolume: dv("Failed", "N/A", "no such host") }, "killed", "False"],
    ["upload, waiting for bytes", { source: "upload", dataVolume: dv("UploadReady") }, "queued", "False"],
    ["upload, bytes flowing", { source: "upload", dataVolume: dv("UploadReady", "12.00%") }, "saving", "False"],
    ["upload, marked streaming (CDI shows no progress)", { source: "upload", dataVolume: dv("UploadReady"), uploadStreaming: true }, "saving", "False"],
    ["upload, mark gone or stale (aborted)", { source: "upload", dataVolume: dv("UploadReady"), uploadStreaming: false }, "queued", "False"],
    ["upload, marked while the volume is still prepared", { source: "upload", dataVolume: dv("PVCBound"), uploadStreaming: true }, "queued", "False"],
    ["upload, marked and done but not recorded yet", { source: "upload", dataVolume: dv("Succeeded"), uploadStreaming: true }, "saving", "False"],
    ["upload, done and recorded", { source: "upload", dataVolume: dv("Succeeded"), uploadRecorded: true }, "active", "True"],
    ["upload, done but not recorded yet", { source: "upload", dataVolume: dv("Succeeded") }, "saving", "False"],
    ["upload, active stays active", { source: "upload", dataVolume: dv("Succeeded"), previous: "active" }, "active", "True"],
    ["snapshot, server has no disk yet", { source: "serverRef", sourceProblem: "no disk" }, "queued", "False"],
    ["snapshot, copying", { source: "serverRef", dataVolume: dv("CloneInProgress", "50.00%") }, "saving", "False"],
    ["snapshot, server gone before", { source: "serverRef", sourceGone: true, sourceProblem: "server x does not exist" }, "killed", "False"],
    ["from a volume that is not ready", { source: "volumeRef", sourceProblem: "volume data is creating" }, "queued", "False"],
    ["from a volume, copying", { source: "volumeRef", dataVolume: dv("CloneInProgress", "50.00%") }, "saving", "False"],
    ["from a volume, done", { source: "volumeRef", dataVolume: dv("Succeeded", "100.0%") }, "active", "True"],
    ["from a volume gone before its copy", { source: "volumeRef", sourceGone: true, sourceProblem: "volume data does not exist" }, "killed", "False"],
    ["being deleted", { deleting: true, dataVolume: dv("Succeeded") }, "deleted", "False"],
    ["protected, deletion held", { deleting: true, protectedImage: true, dataVolume: dv("Succeeded") }, "active", "False"],
    ["active stays active when a lagging DataVolume view says otherwise", { previous: "active", dataVolume: dv("CloneInProgress") }, "active", "True"],
    ["an active image whose data failed is killed", { previous: "active", dataVolume: dv("Failed") }, "killed", "False"],
  ])("%s → %s", (_name, over, status, ready) => {
    const verdict = imageVerdict({ ...base, ...over });
    expect(verdict.status).toBe(status);
    expect(verdict.ready.status).toBe(ready);
  });

  it("carries the importer's error into the message", () => {
    expect(imageVerdict({ ...base, dataVolume: dv("Failed", "N/A", "dial tcp: no such host") }).ready).toEqual({
      status: "False",
      reason: "ImportFailed",
      message: "image data could not be imported: dial tcp: no such host",
    });
    expect(failureOf([{ type: "Running", status: "False", reason: "Error", message: "boom" }])).toBe("boom");
    expect(failureOf([{ type: "Running", status: "False", reason: "Completed", message: "Import Complete" }])).toBeUndefined();
  });
});

describe("visibility", () => {
  it.each([
    ["own project, private", image({ visibility: "private" }), "project-lib", true],
    ["other project, private", image({ visibility: "private" }), "project-demo", false],
    ["other project, default (shared without members)", image(), "project-demo", false],
    ["other project, shared as member", image({ visibility: "shared", members: [{ project: "demo" }] }), "project-demo", true],
    ["other project, shared with someone else", image({ visibility: "shared", members: [{ project: "x" }] }), "project-demo", false],
    ["other project, public", image({ visibility: "public" }), "project-demo", true],
    ["other project, community", image({ visibility: "community" }), "project-demo", true],
  ])("%s → usable %s", (_name, img, namespace, usable) => {
    expect(imageUsableFrom(img, namespace)).toBe(usable);
  });

  it("resolves project/name references to the project's namespace", () => {
    expect(resolveImageRef("cirros", "project-demo")).toEqual({ namespace: "project-demo", name: "cirros" });
    expect(resolveImageRef("lib/cirros", "project-demo")).toEqual({ namespace: "project-lib", name: "cirros" });
  });

  it("grants CDI clones to every ServiceAccount for public images and to members' default ServiceAccounts for shared ones", () => {
    expect(cloneSubjects(image({ visibility: "public" }))).toEqual([{ kind: "Group", apiGroup: "rbac.authorization.k8s.io", name: "system:serviceaccounts" }]);
    expect(cloneSubjects(image({ visibility: "shared", members: [{ project: "a" }, { project: "b", status: "rejected" }] }))).toEqual([
      { kind: "ServiceAccount", name: "default", namespace: "project-a" },
    ]);
    expect(cloneSubjects(image({ visibility: "private" }))).toBeUndefined();
  });
});

describe("image children", () => {
  const storage = { accessModes: ["ReadWriteMany"], storageClassName: "fast" };

  it("imports over HTTP with the checksum, into a volume of minDisk or the default size", () => {
    const img = image({ source: { http: { url: "https://x/y.img", checksum: { algorithm: "sha256", value: "ab".repeat(32) } } }, minDisk: 3, visibility: "public" });
    expect(volumeSizeGiB(img, 1)).toBe(3);
    expect(volumeSizeGiB(image(), 2)).toBe(2);
    const children = desiredImageChildren({ image: img, sizeGiB: 3, storage, sourceDisk: undefined, imported: false });
    expect(children.dataVolume?.metadata.name).toBe("cirros.image");
    expect(children.dataVolume?.spec).toEqual({
      source: { http: { url: "https://x/y.img", checksum: `sha256:${"ab".repeat(32)}` } },
      contentType: "kubevirt",
      storage: { resources: { requests: { storage: "3Gi" } }, accessModes: ["ReadWriteMany"], storageClassName: "fast" },
    });
    expect(children.dataVolume?.metadata.annotations?.["cdi.kubevirt.io/storage.bind.immediate.requested"]).toBe("true");
    expect(children.dataSource.spec.source).toEqual({ pvc: { name: "cirros.image", namespace: "project-lib" } });
    expect(children.role?.rules).toEqual([{ apiGroups: ["cdi.kubevirt.io"], resources: ["datavolumes/source"], resourceNames: ["cirros.image"], verbs: ["create"] }]);
    expect(children.roleBinding?.roleRef.name).toBe("altostack:image-clone:cirros.image");
    expect(children.snapshot).toBeUndefined();
  });

  it("uploads into an upload DataVolume and keeps private images to the project", () => {
    const children = desiredImageChildren({ image: image({ source: { upload: {} }, visibility: "private" }), sizeGiB: 1, storage: {}, sourceDisk: undefined, imported: false });
    expect(children.dataVolume?.spec.source).toEqual({ upload: {} });
    expect(children.role).toBeUndefined();
    expect(children.roleBinding).toBeUndefined();
  });

  it("copies a server's root disk through a VolumeSnapshot that goes once the image is active", () => {
    const img = image({ source: { serverRef: "web" } }, "snap", "project-demo");
    const disk = { claimName: "web-root", sizeGiB: 20 };
    expect(volumeSizeGiB(img, 1, disk)).toBe(20);
    const copying = desiredImageChildren({ image: img, sizeGiB: 20, storage: {}, sourceDisk: disk, imported: false });
    expect(copying.snapshot?.spec.source).toEqual({ persistentVolumeClaimName: "web-root" });
    expect(copying.dataVolume?.spec.source).toEqual({ snapshot: { namespace: "project-demo", name: "snap.image" } });
    expect(desiredImageChildren({ image: img, sizeGiB: 20, storage: {}, sourceDisk: disk, imported: true }).snapshot).toBeUndefined();
    // No disk yet: nothing to copy from.
    expect(desiredImageChildren({ image: img, sizeGiB: 1, storage: {}, sourceDisk: undefined, imported: false }).dataVolume).toBeUndefined();
  });

  it("copies a volume (upload-to-image) the same way: snapshot of its PVC, DataVolume from the snapshot", () => {
    const img = image({ source: { volumeRef: "data" } }, "from-vol", "project-demo");
    const disk = { claimName: "data-pvc", sizeGiB: 5 };
    expect(volumeSizeGiB(img, 1, disk)).toBe(5);
    const copying = desiredImageChildren({ image: img, sizeGiB: 5, storage: {}, sourceDisk: disk, imported: false });
    expect(copying.snapshot?.spec.source).toEqual({ persistentVolumeClaimName: "data-pvc" });
    expect(copying.dataVolume?.spec.source).toEqual({ snapshot: { namespace: "project-demo", name: "from-vol.image" } });
    expect(copying.dataVolume?.spec.storage?.resources?.requests?.storage).toBe("5Gi");
    expect(desiredImageChildren({ image: img, sizeGiB: 5, storage: {}, sourceDisk: disk, imported: true }).snapshot).toBeUndefined();
  });
});

describe("image properties", () => {
  it("names values KubeVirt cannot honour", () => {
    const domain = interpretImageProperties({ hw_disk_bus: "ide", hw_vif_model: "vmxnet3", hw_firmware_type: "uefi", hw_cdrom_bus: "scsi" });
    expect(domain).toMatchObject({ firmware: "uefi", diskBus: "virtio", cdromBus: "scsi", nicModel: undefined });
    expect(domain.unsupported).toEqual(["hw_disk_bus=ide", "hw_vif_model=vmxnet3"]);
  });
});
