// A container's volumes: which Volume claims its Pod mounts (each volume available, and not held by
// another server or container unless multiattach), and the Cinder attachments a Volume shows for the
// containers whose Pods carry its claim (the volume reconciler adds these to the servers' attachments).
// The functions are pure; the two cache helpers name the shared cache and index both controllers read.
import { Reason, type Container, type Volume } from "../../api/index.js";
import { Builtin, objectKey, type CacheSet, type WatchCache } from "../../kube/index.js";
import { attachmentId, singleAttachHolder, volumeBusyMessage, type VolumeAttachmentView, type VolumeClaimant } from "../volume/attach.js";
import { CONTAINER_POD_SELECTOR, type ContainerMount, type PodObject } from "./desired.js";

export type VolumesResolution =
  | { kind: "ok"; mounts: ContainerMount[] }
  | { kind: "waiting"; message: string }
  | { kind: "fault"; reason: string; message: string };

/** Statuses in which a volume's claim may be mounted (as for servers). */
const MOUNTABLE: ReadonlySet<string> = new Set(["available", "in-use", "extending"]);

/** Names of the Volumes a container declares. */
export function volumesOfContainer(container: Container): string[] {
  return (container.spec.volumes ?? []).map((v) => v.volumeRef);
}

/** The containers' Pods: one cache the container and volume controllers share (same selector). */
export function containerPods(caches: CacheSet): WatchCache<PodObject> {
  return caches.get<PodObject>(Builtin.Pod, { labelSelector: CONTAINER_POD_SELECTOR });
}

const CONTAINERS_BY_VOLUME = "container:volumes";
const indexed = new WeakSet<WatchCache<Container>>();

/**
 * The containers (of the shared cache) that declare a volume, by the volume's key. The container and
 * volume controllers both look this up; the index is registered once per cache.
 */
export function containersDeclaring(containers: WatchCache<Container>): (volumeKey: string) => Container[] {
  if (!indexed.has(containers)) {
    containers.addIndex(CONTAINERS_BY_VOLUME, (c) => volumesOfContainer(c).map((name) => objectKey(c.metadata.namespace, name)));
    indexed.add(containers);
  }
  return (volumeKey) => containers.byIndex(CONTAINERS_BY_VOLUME, volumeKey);
}

/**
 * The Volumes a container mounts. `claimants` lists every server and container that declares a volume
 * (this container included): a single-attach volume goes to one of them by the rule servers use too.
 */
export function resolveContainerVolumes(
  container: Container,
  volume: (name: string) => Volume | undefined,
  claimants: (volumeName: string) => readonly VolumeClaimant[] = () => [{ kind: "container", object: container }],
): VolumesResolution {
  const mounts: ContainerMount[] = [];
  const uid = container.metadata.uid ?? "";
  for (const { volumeRef, mountPath } of container.spec.volumes ?? []) {
    const found = volume(volumeRef);
    if (found === undefined || found.metadata.deletionTimestamp !== undefined) {
      return {
        kind: "fault",
        reason: Reason.DependencyNotFound,
        message: `Volume ${volumeRef} could not be found; create it or remove it from spec.volumes`,
      };
    }
    const status = found.status?.status;
    if (status === "error") {
      return { kind: "fault", reason: Reason.DependencyNotReady, message: `volume ${volumeRef} is in error; see the volume's Ready condition` };
    }
    const claimName = found.status?.claimName;
    if (claimName === undefined || status === undefined || !MOUNTABLE.has(status)) {
      return { kind: "waiting", message: `volume ${volumeRef} is ${status ?? "creating"}; it is mounted once available` };
    }
    if (found.spec.multiattach !== true) {
      const holder = singleAttachHolder(found, claimants(volumeRef));
      // The loser waits (declaratively): the holder letting go moves the volume, whose watch brings us back.
      if (holder !== undefined && holder.uid !== uid) {
        return { kind: "waiting", message: `${volumeBusyMessage(volumeRef, holder)} It is mounted once released there.` };
      }
    }
    mounts.push({ volumeRef, claimName, mountPath });
  }
  return { kind: "ok", mounts };
}

export interface ContainerAttachmentsInput {
  volume: Volume;
  /** Containers declaring the volume, each with its Pod as it is now. */
  containers: readonly { container: Container; pod: PodObject | undefined }[];
  now: string;
}

/**
 * A volume is attached to a container while the container's Pod carries its claim (Cinder shows the
 * container's id as `server_id`, as Zun's attachments do); attachedAt is kept from the first sighting.
 */
export function containerVolumeAttachments(input: ContainerAttachmentsInput): VolumeAttachmentView[] {
  const claimName = input.volume.status?.claimName;
  if (claimName === undefined) return [];
  const previous = new Map((input.volume.status?.attachments ?? []).map((a) => [a.serverId, a]));
  const attachments: VolumeAttachmentView[] = [];
  for (const { container, pod } of input.containers) {
    const carried = (pod?.spec?.volumes ?? []).some((v) => v.persistentVolumeClaim?.claimName === claimName);
    if (!carried) continue;
    const id = container.metadata.uid ?? "";
    attachments.push({
      serverId: id,
      serverName: container.metadata.name ?? "",
      attachmentId: attachmentId(id, input.volume.metadata.uid ?? ""),
      attachedAt: previous.get(id)?.attachedAt ?? input.now,
    });
  }
  return attachments;
}
