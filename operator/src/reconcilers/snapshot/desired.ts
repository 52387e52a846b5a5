// Pure: a Snapshot → the CSI VolumeSnapshot of its volume's claim, and the Cinder status it shows.
import type { VolumeSnapshot } from "../../generated/index.js";
import { LABELS, MANAGED_BY, Reason, projectOfNamespace, type Snapshot, type Volume } from "../../api/index.js";
import type { KubeObject } from "../../kube/index.js";
import { boundedLabel, labelValue } from "../server/names.js";

export type VolumeSnapshotObject = VolumeSnapshot & KubeObject;

/** Marks a snapshot's VolumeSnapshot so it can be found from the snapshot. */
export const SnapshotLabel = { snapshot: "altostack.io/snapshot" } as const;

/** The VolumeSnapshot of a Snapshot (`.snapshot`: never the name of a volume's or image's claim). */
export function volumeSnapshotName(snapshotName: string): string {
  const name = `${snapshotName}.snapshot`;
  return name.length <= 253 ? name : `${boundedLabel(snapshotName)}.snapshot`;
}

/** The volume type's VolumeSnapshotClass; unset: the cluster's default class for the claim's driver. */
export function desiredVolumeSnapshot(snapshot: Snapshot, claimName: string, snapshotClass?: string): VolumeSnapshotObject {
  const labels: Record<string, string> = {
    [LABELS.managedBy]: MANAGED_BY,
    [SnapshotLabel.snapshot]: labelValue(snapshot.metadata.name ?? ""),
  };
  const project = projectOfNamespace(snapshot.metadata.namespace);
  if (project !== undefined) labels[LABELS.project] = labelValue(project);
  return {
    apiVersion: "snapshot.storage.k8s.io/v1",
    kind: "VolumeSnapshot",
    metadata: { name: volumeSnapshotName(snapshot.metadata.name ?? ""), namespace: snapshot.metadata.namespace ?? "", labels },
    spec: {
      source: { persistentVolumeClaimName: claimName },
      ...(snapshotClass === undefined ? {} : { volumeSnapshotClassName: snapshotClass }),
    },
  };
}

export type SnapshotSourceCheck =
  | { kind: "ok"; claimName: string }
  | { kind: "fault"; reason: string; message: string }
  | { kind: "waiting"; message: string };

/** Cinder's checks on the volume to snapshot: it exists, is not in error, and is not in use unless forced. */
export function checkSnapshotSource(snapshot: Snapshot, volume: Volume | undefined): SnapshotSourceCheck {
  const ref = snapshot.spec.volumeRef;
  if (volume === undefined || volume.metadata.deletionTimestamp !== undefined) {
    return { kind: "fault", reason: Reason.DependencyNotFound, message: `Volume ${ref} could not be found.` };
  }
  const status = volume.status?.status;
  if (status === "in-use" && snapshot.spec.force !== true) {
    return {
      kind: "fault",
      reason: Reason.InvalidSpec,
      message: `Invalid volume: Volume ${ref} status must be available, but current status is: in-use. Set force: true to snapshot an attached volume.`,
    };
  }
  if (status === "error" || status === "error_deleting" || status === "error_extending") {
    return { kind: "fault", reason: Reason.DependencyNotReady, message: `Invalid volume: Volume ${ref} status must be available, but current status is: ${status}.` };
  }
  const claimName = volume.status?.claimName;
  if ((status !== "available" && status !== "in-use") || claimName === undefined) {
    return { kind: "waiting", message: `waiting for volume ${ref} to become available (${status ?? "creating"})` };
  }
  return { kind: "ok", claimName };
}

export interface SnapshotVerdict {
  status: "creating" | "available" | "error";
  ready: { status: "True" | "False"; reason: string; message: string };
}

export function snapshotVerdict(
  check: SnapshotSourceCheck | undefined,
  volumeSnapshot: { readyToUse: boolean | undefined; error: string | undefined } | undefined,
): SnapshotVerdict {
  if (volumeSnapshot?.error !== undefined) {
    return { status: "error", ready: { status: "False", reason: Reason.ProvisioningFailed, message: `taking the snapshot failed: ${volumeSnapshot.error}` } };
  }
  if (volumeSnapshot?.readyToUse === true) {
    return { status: "available", ready: { status: "True", reason: Reason.Reconciled, message: "snapshot is available" } };
  }
  if (volumeSnapshot === undefined && check?.kind === "fault") {
    return { status: "error", ready: { status: "False", reason: check.reason, message: check.message } };
  }
  const message = volumeSnapshot === undefined && check?.kind === "waiting" ? check.message : "the storage is taking the snapshot";
  return { status: "creating", ready: { status: "False", reason: Reason.Progressing, message } };
}
