// Pure: attach/detach. A server's `spec.volumes` → the data volumes its VirtualMachine carries (KubeVirt
// declarative hotplug while it runs, plain disks otherwise), and a volume's Cinder attachments from the
// VMs that carry it. A volume that is not multiattach belongs to the server that declared it first.
import { createHash } from "node:crypto";
import type { Server, Volume } from "../../api/index.js";
import type { VirtualMachine, VirtualMachineInstance } from "../../generated/index.js";
import { boundedLabel } from "../server/names.js";

/** A data volume as the VM builder adds it. */
export interface VmDataVolume {
  /** The VM's volume and disk name. */
  name: string;
  claimName: string;
  hotpluggable: boolean;
}

export interface ServerVolumesPlan {
  volumes: VmDataVolume[];
  /** Declared volumes not attached, each with why (for the user). */
  problems: string[];
}

/** The VM volume/disk name of an attached volume (a DNS label; `vol-` never clashes with root, cdrom, swap…). */
export function vmVolumeName(volumeName: string): string {
  return `vol-${boundedLabel(volumeName, 59)}`;
}

function declares(server: Server, volumeName: string): boolean {
  return (server.spec.volumes ?? []).some((v) => v.volumeRef === volumeName);
}

/** Oldest declaration first (creation time, then name): the server a single-attach volume belongs to. */
export function firstHolder(servers: readonly Server[], attachedTo: ReadonlySet<string> = new Set()): Server | undefined {
  // The server the volume is attached to keeps it; creation time (second resolution) and name only break ties.
  const rank = (s: Server): number => (attachedTo.has(s.metadata.uid ?? "") ? 0 : 1);
  return [...servers]
    .filter((s) => s.metadata.deletionTimestamp === undefined)
    .sort(
      (a, b) =>
        rank(a) - rank(b) ||
        (a.metadata.creationTimestamp ?? "").localeCompare(b.metadata.creationTimestamp ?? "") ||
        (a.metadata.name ?? "").localeCompare(b.metadata.name ?? ""),
    )[0];
}

export interface ServerVolumesInput {
  server: Server;
  volume(name: string): Volume | undefined;
  /** Every server of the project that declares the volume (this one included). */
  holders(volumeName: string): readonly Server[];
  /** The VM as it is now: a volume already on it keeps how it was attached. */
  currentVm: VirtualMachine | undefined;
  /** Whether the VM runs now (new volumes are hot-plugged) or not (plain disks, seen at the next start). */
  vmRunning: boolean;
}

export function planServerVolumes(input: ServerVolumesInput): ServerVolumesPlan {
  const { server } = input;
  const current = new Map((input.currentVm?.spec.template?.spec?.volumes ?? []).map((v) => [v.name, v]));
  const volumes: VmDataVolume[] = [];
  const problems: string[] = [];
  for (const { volumeRef } of server.spec.volumes ?? []) {
    const volume = input.volume(volumeRef);
    if (volume === undefined || volume.metadata.deletionTimestamp !== undefined) {
      problems.push(`Volume ${volumeRef} could not be found.`);
      continue;
    }
    const claimName = volume.status?.claimName;
    const status = volume.status?.status;
    if (claimName === undefined || (status !== "available" && status !== "in-use" && status !== "extending")) {
      problems.push(`volume ${volumeRef} is ${status ?? "creating"}; it is attached once available`);
      continue;
    }
    if (volume.spec.multiattach !== true) {
      const attachedTo = new Set((volume.status?.attachments ?? []).map((a) => a.serverId));
      const holder = firstHolder(
        input.holders(volumeRef).filter((s) => declares(s, volumeRef)),
        attachedTo,
      );
      if (holder !== undefined && holder.metadata.name !== server.metadata.name) {
        problems.push(`Invalid volume: volume ${volumeRef} is already attached to server ${holder.metadata.name ?? ""} and is not multiattach.`);
        continue;
      }
    }
    const name = vmVolumeName(volumeRef);
    const existing = current.get(name)?.persistentVolumeClaim;
    volumes.push({ name, claimName, hotpluggable: existing === undefined ? input.vmRunning : existing.hotpluggable === true });
  }
  return { volumes, problems };
}

export interface VolumeAttachmentView {
  serverId: string;
  serverName: string;
  attachmentId: string;
  device?: string;
  attachedAt: string;
}

/** Stable per server and volume, UUID-shaped as Cinder's attachment ids are. */
export function attachmentId(serverUid: string, volumeUid: string): string {
  const h = createHash("sha256").update(`${serverUid}/${volumeUid}`).digest("hex");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}

export interface AttachmentsInput {
  volume: Volume;
  /** Servers declaring the volume, each with its VM and VMI as they are now. */
  servers: readonly { server: Server; vm: VirtualMachine | undefined; vmi: VirtualMachineInstance | undefined }[];
  now: string;
}

/**
 * A volume is attached to a server once the server's VM carries its claim. The device is the guest's,
 * from the VMI's volumeStatus; attachedAt is kept from the attachment's first sighting.
 */
export function volumeAttachments(input: AttachmentsInput): VolumeAttachmentView[] {
  const claimName = input.volume.status?.claimName;
  if (claimName === undefined) return [];
  const previous = new Map((input.volume.status?.attachments ?? []).map((a) => [a.serverId, a]));
  const attachments: VolumeAttachmentView[] = [];
  for (const { server, vm, vmi } of input.servers) {
    const carried = (vm?.spec.template?.spec?.volumes ?? []).find((v) => v.persistentVolumeClaim?.claimName === claimName);
    if (carried === undefined) continue;
    const serverId = server.metadata.uid ?? "";
    const target = vmi?.status?.volumeStatus?.find((s) => s.name === carried.name)?.target;
    attachments.push({
      serverId,
      serverName: server.metadata.name ?? "",
      attachmentId: attachmentId(serverId, input.volume.metadata.uid ?? ""),
      ...(target === undefined || target === "" ? {} : { device: target.startsWith("/dev/") ? target : `/dev/${target}` }),
      attachedAt: previous.get(serverId)?.attachedAt ?? input.now,
    });
  }
  return attachments.sort((a, b) => a.serverName.localeCompare(b.serverName));
}

/** Volumes a server's deletion takes with it (deleteOnTermination, as Nova's block device mapping). */
export function volumesDeletedWith(server: Server): string[] {
  return (server.spec.volumes ?? []).filter((v) => v.deleteOnTermination === true).map((v) => v.volumeRef);
}
