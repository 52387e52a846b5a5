// Pure: attach/detach. A server's `spec.volumes` → the data volumes its VirtualMachine carries (KubeVirt
// declarative hotplug while it runs, plain disks otherwise), and a volume's Cinder attachments from the
// VMs that carry it. A volume that is not multiattach has one holder among the servers and containers
// that declare it (singleAttachHolder: the one it is attached to, else the first to declare it).
import { createHash } from "node:crypto";
import type { Container, Server, Volume } from "../../api/index.js";
import type { VirtualMachine, VirtualMachineInstance } from "../../generated/index.js";
import type { KubeObject } from "../../kube/index.js";
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

/**
 * The Volume a server made from an image for its root disk (`bootVolume.imageRef`): `<server>-boot`, as
 * long as that is a valid object name, else a bounded form of it.
 */
export function imageBootVolumeName(serverName: string): string {
  const name = `${serverName}-boot`;
  return name.length <= 253 ? name : `${boundedLabel(serverName, 200)}-boot`;
}

/** The Volume a server boots from: the one it names, or the one it makes from an image; undefined for image-backed servers. */
export function bootVolumeOf(server: Server): string | undefined {
  const boot = server.spec.bootVolume;
  if (boot === undefined) return undefined;
  return boot.volumeRef ?? imageBootVolumeName(server.metadata.name ?? "");
}

/** Volumes a server declares: its attached data volumes and its boot volume. */
export function volumesOfServer(server: Server): string[] {
  const names = (server.spec.volumes ?? []).map((v) => v.volumeRef);
  const boot = bootVolumeOf(server);
  return boot === undefined || names.includes(boot) ? names : [...names, boot];
}

/** Nova's block devices of a server that are volumes: the boot volume first, then the attached ones. */
export function blockDevicesOf(server: Server): { volumeRef: string; deleteOnTermination?: boolean | undefined; device?: string | undefined }[] {
  const data = server.spec.volumes ?? [];
  const boot = bootVolumeOf(server);
  if (boot === undefined || data.some((v) => v.volumeRef === boot)) return data;
  return [{ volumeRef: boot, deleteOnTermination: server.spec.bootVolume?.deleteOnTermination, device: "/dev/vda" }, ...data];
}

function declares(server: Server, volumeName: string): boolean {
  return volumesOfServer(server).includes(volumeName);
}

/** Oldest declaration first (creation time, then name): the server (or container) a single-attach volume belongs to. */
export function firstHolder<T extends KubeObject>(declaring: readonly T[], attachedTo: ReadonlySet<string> = new Set()): T | undefined {
  // The one the volume is attached to keeps it; creation time (second resolution) and name only break ties.
  const rank = (o: T): number => (attachedTo.has(o.metadata.uid ?? "") ? 0 : 1);
  return [...declaring]
    .filter((o) => o.metadata.deletionTimestamp === undefined)
    .sort(
      (a, b) =>
        rank(a) - rank(b) ||
        (a.metadata.creationTimestamp ?? "").localeCompare(b.metadata.creationTimestamp ?? "") ||
        (a.metadata.name ?? "").localeCompare(b.metadata.name ?? ""),
    )[0];
}

/** What declares a volume: a server (its VM carries the claim) or a container (its Pod mounts it). */
export interface VolumeClaimant {
  kind: "server" | "container";
  object: KubeObject;
}

export interface VolumeHolder {
  /** Undefined for an attachment whose owner no longer declares the volume (still letting go). */
  kind: "server" | "container" | undefined;
  uid: string;
  name: string;
}

/**
 * THE rule for a volume that is not multiattach, for servers and containers alike. Whoever it is
 * attached to (a VM or Pod carrying its claim, as status.attachments shows) keeps it until it lets go,
 * even while being deleted or after dropping it from its spec; otherwise the first live declaration
 * (creation time, then name) gets it. Undefined when nothing declares or holds it.
 */
export function singleAttachHolder(volume: Volume, claimants: readonly VolumeClaimant[]): VolumeHolder | undefined {
  const view = (c: VolumeClaimant): VolumeHolder => ({ kind: c.kind, uid: c.object.metadata.uid ?? "", name: c.object.metadata.name ?? "" });
  const attachments = volume.status?.attachments ?? [];
  const attachedTo = new Set(attachments.map((a) => a.serverId));
  // Live claimants the volume is attached to come first (by firstHolder's order), then any other attachment.
  const attachedClaimant = firstHolder(claimants.filter((c) => attachedTo.has(c.object.metadata.uid ?? "")).map((c) => c.object));
  const byObject = (o: KubeObject | undefined) => claimants.find((c) => c.object === o);
  const attachedLive = byObject(attachedClaimant);
  if (attachedLive !== undefined) return view(attachedLive);
  const lingering = attachments[0];
  if (lingering !== undefined) {
    const known = claimants.find((c) => c.object.metadata.uid === lingering.serverId);
    return known !== undefined ? view(known) : { kind: undefined, uid: lingering.serverId, name: lingering.serverName ?? lingering.serverId };
  }
  const first = byObject(firstHolder(claimants.map((c) => c.object)));
  return first === undefined ? undefined : view(first);
}

/** Why a claimant that is not the holder does not get the volume (Nova's wording). */
export function volumeBusyMessage(volumeRef: string, holder: VolumeHolder): string {
  const who = holder.kind === undefined ? holder.name : `${holder.kind} ${holder.name}`;
  return `Invalid volume: volume ${volumeRef} is already attached to ${who} and is not multiattach.`;
}

export interface ServerVolumesInput {
  server: Server;
  volume(name: string): Volume | undefined;
  /** Every server of the project that declares the volume (this one included). */
  holders(volumeName: string): readonly Server[];
  /** Every container of the project that declares the volume (they hold single-attach volumes too). */
  containers?(volumeName: string): readonly Container[];
  /** The VM as it is now: a volume already on it keeps how it was attached. */
  currentVm: VirtualMachine | undefined;
  /** Whether the VM runs now (new volumes are hot-plugged) or not (plain disks, seen at the next start). */
  vmRunning: boolean;
}

/** Cinder statuses a volume can be attached from (the transitional ones are this server's or a multiattach's). */
const ATTACHABLE: ReadonlySet<string> = new Set(["available", "reserved", "attaching", "in-use", "detaching", "extending"]);

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
    const name = vmVolumeName(volumeRef);
    const existing = current.get(name)?.persistentVolumeClaim;
    // A volume on the VM stays through its own transitions (extending, error_extending, …); a new one must be ready for it.
    const attachable = existing !== undefined || (status !== undefined && ATTACHABLE.has(status));
    if (claimName === undefined || !attachable) {
      problems.push(`volume ${volumeRef} is ${status ?? "creating"}; it is attached once available`);
      continue;
    }
    if (volume.spec.multiattach !== true) {
      const holder = singleAttachHolder(volume, [
        ...input.holders(volumeRef).filter((s) => declares(s, volumeRef)).map((object) => ({ kind: "server" as const, object })),
        ...(input.containers?.(volumeRef) ?? []).map((object) => ({ kind: "container" as const, object })),
      ]);
      if (holder !== undefined && holder.uid !== (server.metadata.uid ?? "")) {
        problems.push(volumeBusyMessage(volumeRef, holder));
        continue;
      }
    }
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

/** Where a volume's attachments are, beyond "the VM carries it": what Cinder's transitional states show. */
export interface AttachProgress {
  /** Servers whose VM carries the volume (its Cinder attachments). */
  attachments: number;
  /** Of those, hot-plugged into a running guest that has not reported the disk ready yet. */
  attaching: number;
  /** A guest still has the volume though no VM carries it any more (hot-unplug or shutdown under way). */
  detaching: boolean;
  /** A server the volume belongs to declares it, and its VM does not carry it yet. */
  reserved: boolean;
}

export interface AttachProgressInput extends AttachmentsInput {
  /** Live VMIs that still have the volume's claim while their VM no longer does. */
  lingeringVmis: number;
}

export function attachProgress(input: AttachProgressInput): AttachProgress {
  const claimName = input.volume.status?.claimName;
  const carriedOf = (vm: VirtualMachine | undefined) =>
    claimName === undefined ? undefined : (vm?.spec.template?.spec?.volumes ?? []).find((v) => v.persistentVolumeClaim?.claimName === claimName);
  let attachments = 0;
  let attaching = 0;
  const carrying = new Set<string>();
  for (const { server, vm, vmi } of input.servers) {
    const carried = carriedOf(vm);
    if (carried === undefined) continue;
    attachments += 1;
    carrying.add(server.metadata.uid ?? "");
    const hotplugged = carried.persistentVolumeClaim?.hotpluggable === true;
    const running = vmi !== undefined && vmi.metadata?.deletionTimestamp === undefined && vmi.status?.phase === "Running";
    const ready = vmi?.status?.volumeStatus?.find((s) => s.name === carried.name)?.phase === "Ready";
    if (hotplugged && running && !ready) attaching += 1;
  }
  const waiting = input.servers.filter(({ vm }) => carriedOf(vm) === undefined).map(({ server }) => server);
  const name = input.volume.metadata.name ?? "";
  const owner = firstHolder(input.servers.map(({ server }) => server).filter((s) => declares(s, name)), carrying);
  const reserved =
    claimName !== undefined &&
    (input.volume.spec.multiattach === true
      ? waiting.some((s) => s.metadata.deletionTimestamp === undefined)
      : owner !== undefined && !carrying.has(owner.metadata.uid ?? ""));
  return { attachments, attaching, detaching: input.lingeringVmis > 0, reserved };
}

/** Volumes a server's deletion takes with it (deleteOnTermination, as Nova's block device mapping). */
export function volumesDeletedWith(server: Server): string[] {
  const data = (server.spec.volumes ?? []).filter((v) => v.deleteOnTermination === true).map((v) => v.volumeRef);
  const boot = bootVolumeOf(server);
  return boot !== undefined && server.spec.bootVolume?.deleteOnTermination === true && !data.includes(boot) ? [...data, boot] : data;
}
