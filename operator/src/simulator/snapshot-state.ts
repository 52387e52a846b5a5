// The snapshot-controller and csi-snapshotter for dynamically taken snapshots, pure: the class that
// applies, the VolumeSnapshotContent bound to a VolumeSnapshot, and both statuses.
import { formatTime } from "../kube/index.js";
import { stableId } from "./addresses.js";
import { formatBinaryQuantity, parseQuantity } from "./quantity.js";
import { Annotation, type PersistentVolume, type PersistentVolumeClaim, type Snapshot, type SnapshotClass, type SnapshotContent } from "./types.js";

/** The snapshot-controller names a dynamically created content after the snapshot's UID. */
export function contentNameFor(snapshot: Snapshot): string {
  return `snapcontent-${snapshot.metadata.uid ?? ""}`;
}

/** The key `namespace/name` of the VolumeSnapshot a content is bound to. */
export function snapshotKeyOf(content: SnapshotContent): string | undefined {
  const ref = content.spec.volumeSnapshotRef;
  return ref.name === undefined || ref.namespace === undefined ? undefined : `${ref.namespace}/${ref.name}`;
}

/** The snapshot's class: the one it names, else the default class. */
export function classFor(snapshot: Snapshot, classes: readonly SnapshotClass[]): SnapshotClass | undefined {
  const named = snapshot.spec.volumeSnapshotClassName;
  if (named !== undefined && named !== "") return classes.find((c) => c.metadata.name === named);
  return classes.find((c) => c.metadata.annotations?.[Annotation.defaultSnapshotClass] === "true");
}

/** Why the snapshot cannot be taken yet, as the snapshot-controller words it; undefined when it can. */
export function sourceProblem(snapshot: Snapshot, claim: PersistentVolumeClaim | undefined, pv: PersistentVolume | undefined): string | undefined {
  const claimName = snapshot.spec.source.persistentVolumeClaimName ?? "";
  if (claim === undefined) {
    return `Failed to create snapshot content with error snapshot controller failed to update ${snapshot.metadata.namespace ?? ""}/${snapshot.metadata.name ?? ""} on API server: cannot get claim from snapshot`;
  }
  if (claim.status?.phase !== "Bound" || pv === undefined) {
    return `Failed to check and update snapshot content: failed to get input parameters to create snapshot ${snapshot.metadata.name ?? ""}: "the PVC ${claimName} is not yet bound to a PV, will not attempt to take a snapshot"`;
  }
  return undefined;
}

export function desiredContent(snapshot: Snapshot, pv: PersistentVolume, snapshotClass: SnapshotClass): SnapshotContent {
  return {
    apiVersion: "snapshot.storage.k8s.io/v1",
    kind: "VolumeSnapshotContent",
    metadata: { name: contentNameFor(snapshot) },
    spec: {
      deletionPolicy: snapshotClass.deletionPolicy,
      driver: snapshotClass.driver,
      source: { volumeHandle: pv.spec?.csi?.volumeHandle ?? "" },
      sourceVolumeMode: pv.spec?.volumeMode ?? "Filesystem",
      volumeSnapshotClassName: snapshotClass.metadata.name ?? "",
      volumeSnapshotRef: {
        apiVersion: "snapshot.storage.k8s.io/v1",
        kind: "VolumeSnapshot",
        name: snapshot.metadata.name ?? "",
        namespace: snapshot.metadata.namespace ?? "",
        uid: snapshot.metadata.uid ?? "",
      },
    },
  };
}

/** What csi-snapshotter reports once the driver cut the snapshot. */
export function contentStatus(content: SnapshotContent, pv: PersistentVolume, takenAt: number): NonNullable<SnapshotContent["status"]> {
  return {
    creationTime: takenAt * 1_000_000,
    readyToUse: true,
    restoreSize: parseQuantity(pv.spec?.capacity?.storage) ?? 0,
    snapshotHandle: `snap-${stableId(content.metadata.name ?? "", 24)}`,
  };
}

export function snapshotStatus(content: SnapshotContent): NonNullable<Snapshot["status"]> {
  const status = content.status;
  const ready = status?.readyToUse === true;
  return {
    boundVolumeSnapshotContentName: content.metadata.name ?? "",
    readyToUse: ready,
    ...(status?.creationTime === undefined ? {} : { creationTime: formatTime(Math.floor(status.creationTime / 1_000_000)) }),
    ...(status?.restoreSize === undefined ? {} : { restoreSize: formatBinaryQuantity(status.restoreSize) }),
  };
}

export function snapshotErrorStatus(snapshot: Snapshot, message: string, now: number): NonNullable<Snapshot["status"]> {
  const previous = snapshot.status?.error;
  return {
    readyToUse: false,
    // Keep the first time the error was seen so the status settles.
    error: { message, time: previous?.message === message && previous.time !== undefined ? previous.time : formatTime(now) },
  };
}
