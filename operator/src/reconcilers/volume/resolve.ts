// Pure: a volume's source (image, snapshot, volume) resolved against what the caches hold, with Cinder's
// checks and messages. Images follow Glance's visibility (the compute reconciler's resolveImage, so a
// private image of another project is "not found" here too).
import { Reason, type Image, type Snapshot, type Volume } from "../../api/index.js";
import { resolveImage } from "../server/resolve.js";
import type { ResolvedSource } from "./desired.js";

export interface SourceLookups {
  image: (namespace: string, name: string) => Image | undefined;
  /** In the volume's project. */
  snapshot: (name: string) => Snapshot | undefined;
  /** In the volume's project. */
  volume: (name: string) => Volume | undefined;
}

export type SourceResolution =
  | { kind: "ok"; source: ResolvedSource }
  | { kind: "fault"; reason: string; message: string }
  | { kind: "waiting"; message: string };

const fault = (reason: string, message: string): SourceResolution => ({ kind: "fault", reason, message });

export function resolveVolumeSource(volume: Volume, lookups: SourceLookups): SourceResolution {
  const namespace = volume.metadata.namespace ?? "";
  const { source, size } = volume.spec;

  if (source?.imageRef !== undefined) {
    const resolved = resolveImage(source.imageRef, namespace, lookups.image);
    if (resolved.kind === "fault") return fault(resolved.fault.reason, resolved.fault.message);
    if (resolved.kind === "waiting") return resolved;
    const image = resolved.value;
    if (image.minDisk !== undefined && image.minDisk > size) {
      return fault(Reason.InvalidSpec, `Image minDisk size ${image.minDisk} GB is larger than the volume size ${size} GB.`);
    }
    if (image.sizeGiB !== undefined && image.sizeGiB > size) {
      return fault(Reason.InvalidSpec, `Size of specified image ${image.sizeGiB} GB is larger than volume size ${size} GB.`);
    }
    return { kind: "ok", source: { kind: "image", namespace: image.namespace, dataSource: image.dataSource } };
  }

  if (source?.snapshotRef !== undefined) {
    const ref = source.snapshotRef;
    const snapshot = lookups.snapshot(ref);
    if (snapshot === undefined || snapshot.metadata.deletionTimestamp !== undefined) {
      return fault(Reason.DependencyNotFound, `Snapshot ${ref} could not be found.`);
    }
    const status = snapshot.status?.status;
    if (status === "error" || status === "error_deleting") {
      return fault(Reason.DependencyNotReady, `Invalid snapshot: snapshot ${ref} is in status ${status}; it cannot be a volume source.`);
    }
    const volumeSnapshot = snapshot.status?.volumeSnapshotName;
    if (status !== "available" || volumeSnapshot === undefined) {
      return { kind: "waiting", message: `waiting for snapshot ${ref} to become available (${status ?? "creating"})` };
    }
    const snapshotSize = snapshot.status?.size;
    if (snapshotSize !== undefined && snapshotSize > size) {
      return fault(Reason.InvalidSpec, `Volume size ${size}GB cannot be smaller than the snapshot size ${snapshotSize}GB. They must be >= original snapshot size.`);
    }
    return { kind: "ok", source: { kind: "snapshot", namespace, volumeSnapshot } };
  }

  if (source?.volumeRef !== undefined) {
    const ref = source.volumeRef;
    const origin = lookups.volume(ref);
    if (origin === undefined || origin.metadata.deletionTimestamp !== undefined) {
      return fault(Reason.DependencyNotFound, `Volume ${ref} could not be found.`);
    }
    const status = origin.status?.status;
    if (status === "error" || status === "error_deleting" || status === "error_extending") {
      return fault(Reason.DependencyNotReady, `Invalid volume: source volume ${ref} is in status ${status}; it cannot be cloned.`);
    }
    const claim = origin.status?.claimName;
    if ((status !== "available" && status !== "in-use") || claim === undefined) {
      return { kind: "waiting", message: `waiting for volume ${ref} to become available (${status ?? "creating"})` };
    }
    const originSize = origin.status?.size ?? origin.spec.size;
    if (originSize > size) {
      return fault(Reason.InvalidSpec, `Volume size ${size}GB cannot be smaller than the source volume size ${originSize}GB.`);
    }
    return { kind: "ok", source: { kind: "volume", namespace, claim } };
  }

  return { kind: "ok", source: { kind: "blank" } };
}

/**
 * Whether a volume is bootable when its spec does not say: Cinder marks volumes made from an image
 * bootable, and copies of a volume or snapshot inherit their origin's flag. Undefined when the origin is
 * gone (the caller keeps what it showed before).
 */
export function inheritedBootable(volume: Volume, lookups: Pick<SourceLookups, "snapshot" | "volume">): boolean | undefined {
  const source = volume.spec.source;
  if (source?.imageRef !== undefined) return true;
  const originName = source?.volumeRef ?? (source?.snapshotRef === undefined ? undefined : lookups.snapshot(source.snapshotRef)?.spec.volumeRef);
  if (originName === undefined) return source?.snapshotRef === undefined ? false : undefined;
  const origin = lookups.volume(originName);
  if (origin === undefined) return undefined;
  return origin.spec.bootable ?? origin.status?.bootable === "true";
}
