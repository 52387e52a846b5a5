import { describe, expect, it } from "vitest";
import { API_VERSION, type FlavorSnapshot, type ImageSnapshot, type Server, type Volume } from "../../api/index.js";
import type { VolumeClaimant } from "../volume/attach.js";
import { BootVolumeAnnotation, bootVolumeImage, checkBootVolume, desiredBootVolume, isForeignBootVolume } from "./boot-volume.js";

const NS = "project-demo";
const UID = "srv-uid";

function server(bootVolume: NonNullable<Server["spec"]["bootVolume"]>): Server {
  return { apiVersion: API_VERSION, kind: "Server", metadata: { name: "web", namespace: NS, uid: UID, creationTimestamp: "2026-01-02T00:00:00Z" }, spec: { flavorRef: "m1.small", bootVolume } };
}
function volume(status: Volume["status"], over: { annotations?: Record<string, string>; multiattach?: boolean; deleting?: boolean } = {}): Volume {
  return {
    apiVersion: API_VERSION,
    kind: "Volume",
    metadata: {
      name: "root",
      namespace: NS,
      uid: "vol-uid",
      ...(over.annotations === undefined ? {} : { annotations: over.annotations }),
      ...(over.deleting === true ? { deletionTimestamp: "2026-01-01T00:00:00Z" } : {}),
    },
    spec: { size: 1, ...(over.multiattach === undefined ? {} : { multiattach: over.multiattach }) },
    status,
  };
}
const ready = (s: Partial<NonNullable<Volume["status"]>> = {}): Volume["status"] => ({ status: "available", bootable: "true", claimName: "root.volume", ...s });

const SMALL: FlavorSnapshot = { name: "m1.small", vcpus: 1, ram: 512, disk: 5 };
const CIRROS: ImageSnapshot = { ref: "cirros", id: "img", name: "cirros", namespace: NS, dataSource: "cirros.image", minDisk: 8, properties: { hw_disk_bus: "sata" } };

describe("checkBootVolume (Nova's checks on the volume it boots from)", () => {
  const existing = server({ volumeRef: "root" });
  const fromImage = server({ imageRef: "cirros", size: 2 });
  const mine = { annotations: { [BootVolumeAnnotation.server]: UID } };
  /** Another server or container declaring the volume, made a day before this server (older) or a day after. */
  const other = (kind: "server" | "container", name: string, when: "older" | "newer", deleting = false): VolumeClaimant => ({
    kind,
    object: {
      metadata: {
        name,
        namespace: NS,
        uid: `${name}-uid`,
        creationTimestamp: when === "older" ? "2026-01-01T00:00:00Z" : "2026-01-03T00:00:00Z",
        ...(deleting ? { deletionTimestamp: "2026-01-04T00:00:00Z" } : {}),
      },
    },
  });
  const db = other("server", "db", "older");
  const cache = other("container", "cache", "older");
  const attachedTo = (uid: string, serverName: string) => ready({ status: "in-use", attachments: [{ serverId: uid, serverName, attachmentId: "a" }] });

  it.each<[string, Server, Volume | undefined, VolumeClaimant[], string, string | undefined]>([
    ["an available bootable volume", existing, volume(ready()), [], "ok", undefined],
    ["already attached to this very server (admission repeated)", existing, volume(ready({ status: "in-use", attachments: [{ serverId: UID, attachmentId: "a" }] })), [], "ok", undefined],
    ["reserved by this server's declaration", existing, volume(ready({ status: "reserved" })), [], "ok", undefined],
    ["reserved, but attached to another server", existing, volume(ready({ status: "reserved", attachments: [{ serverId: "other", attachmentId: "a" }] })), [], "fault", undefined],
    ["a missing volume", existing, undefined, [], "fault", "Block Device Mapping is Invalid: failed to get volume root."],
    ["a volume being deleted", existing, volume(ready(), { deleting: true }), [], "fault", "Block Device Mapping is Invalid: failed to get volume root."],
    ["a volume still being created (GitOps applies both at once)", existing, volume({ status: "creating" }), [], "waiting", "waiting for the boot volume root to become available (creating)"],
    ["an image still downloading into it", existing, volume({ status: "downloading" }), [], "waiting", undefined],
    ["a volume in error", existing, volume(ready({ status: "error" })), [], "fault", "Invalid volume: volume 'root' is in error"],
    ["a volume in use elsewhere", existing, volume(attachedTo("other", "other")), [], "fault", "Invalid volume: volume root is already attached to other and is not multiattach."],
    ["a volume another server declared first", existing, volume(ready()), [db], "fault", "Invalid volume: volume root is already attached to server db and is not multiattach."],
    ["a volume another server declared after this one", existing, volume(ready()), [other("server", "late", "newer")], "ok", undefined],
    ["a multiattach volume another server declares", existing, volume(ready(), { multiattach: true }), [db], "ok", undefined],
    ["a volume a container declared first", existing, volume(ready()), [cache], "fault", "Invalid volume: volume root is already attached to container cache and is not multiattach."],
    ["a volume a container mounts (attached to its Pod)", existing, volume(attachedTo("cache-uid", "cache")), [cache], "fault", "Invalid volume: volume root is already attached to container cache and is not multiattach."],
    ["a volume a newer container mounts keeps it even against an older server", existing, volume(attachedTo("late-uid", "late")), [other("container", "late", "newer")], "fault", "Invalid volume: volume root is already attached to container late and is not multiattach."],
    ["a volume a container declared after this server", existing, volume(ready()), [other("container", "late", "newer")], "ok", undefined],
    ["a volume a container being deleted declared (not mounted)", existing, volume(ready()), [other("container", "gone", "older", true)], "ok", undefined],
    ["a multiattach volume a container mounts", existing, volume(ready({ attachments: [{ serverId: "cache-uid", attachmentId: "a" }] }), { multiattach: true }), [cache], "ok", undefined],
    ["a volume being extended", existing, volume(ready({ status: "extending" })), [], "fault", "Invalid volume: volume 'root' status must be 'available'. Currently in 'extending'"],
    ["a volume that is not bootable", existing, volume(ready({ bootable: "false" })), [], "fault", "Block Device root is not bootable."],
    ["from an image: not created yet", fromImage, undefined, [], "waiting", "creating the boot volume root"],
    ["from an image: made for this server", fromImage, volume(ready(), mine), [], "ok", undefined],
    [
      "from an image: a same-named volume someone else made",
      fromImage,
      volume(ready()),
      [],
      "fault",
      "Volume root already exists and was not created for this server; delete it, or boot from it with bootVolume.volumeRef.",
    ],
  ])("%s → %s", (_name, s, v, holders, kind, message) => {
    const result = checkBootVolume({ server: s, name: "root", volume: v, claimants: [{ kind: "server", object: s }, ...holders] });
    expect(result.kind).toBe(kind);
    if (result.kind === "ok") expect(result.value).toEqual({ claimName: "root.volume" });
    if (message !== undefined) expect(result.kind === "fault" ? result.fault.message : result.kind === "waiting" ? result.message : "").toBe(message);
  });
});

describe("desiredBootVolume (the volume a server makes from an image)", () => {
  it.each<[string, NonNullable<Server["spec"]["bootVolume"]>, number, boolean]>([
    ["volume_size given", { imageRef: "cirros", size: 20, deleteOnTermination: true }, 20, true],
    ["no size: the larger of the flavor's disk and the image's minimum", { imageRef: "cirros" }, 8, false],
  ])("%s", (_name, boot, size, owned) => {
    const v = desiredBootVolume(server(boot), "web-boot", CIRROS, SMALL);
    expect(v.metadata).toMatchObject({ name: "web-boot", namespace: NS, annotations: { [BootVolumeAnnotation.server]: UID }, labels: { "altostack.io/server": "web" } });
    expect(v.spec).toEqual({ size, source: { imageRef: "cirros" }, bootable: true });
    // Owned (and so garbage-collected with the server) only when it goes with it.
    expect(v.metadata.ownerReferences?.map((r) => r.uid)).toEqual(owned ? [UID] : undefined);
  });

  it("carries the volume type", () => {
    expect(desiredBootVolume(server({ imageRef: "cirros", size: 1, volumeType: "fast" }), "web-boot", CIRROS, SMALL).spec.volumeType).toBe("fast");
  });
});

describe("bootVolumeImage and isForeignBootVolume", () => {
  it("a volume-backed server has no image (Nova's image_ref ''), only the source image's properties", () => {
    expect(bootVolumeImage(NS, CIRROS)).toEqual({ ref: "", id: "", name: "", namespace: NS, dataSource: "", properties: { hw_disk_bus: "sata" } });
    expect(bootVolumeImage(NS, undefined)).toEqual({ ref: "", id: "", name: "", namespace: NS, dataSource: "" });
  });

  it("never deletes a same-named volume the server did not make", () => {
    const s = server({ imageRef: "cirros", deleteOnTermination: true });
    expect(isForeignBootVolume(s, "web-boot", volume(ready(), { annotations: { [BootVolumeAnnotation.server]: UID } }))).toBe(false);
    expect(isForeignBootVolume(s, "web-boot", volume(ready()))).toBe(true);
    expect(isForeignBootVolume(s, "data", volume(ready()))).toBe(false);
    expect(isForeignBootVolume(server({ volumeRef: "root", deleteOnTermination: true }), "root", volume(ready()))).toBe(false);
  });
});
