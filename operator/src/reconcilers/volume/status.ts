// Pure: a volume's Cinder status and its conditions, from what the reconciler observed of its claim,
// its DataVolume, its source and its deletion.
import { Reason, type VolumeStatusValue } from "../../api/index.js";

export interface ConditionVerdict {
  status: "True" | "False" | "Unknown";
  reason: string;
  message: string;
}

export interface VolumeObservation {
  sizeGiB: number;
  /** The source cannot be used (Cinder would have refused the request). */
  fault?: { reason: string; message: string } | undefined;
  /** The source is not ready yet (an image importing, a snapshot being taken). */
  waiting?: string | undefined;
  /** Absent until created. */
  claim?: { phase: string | undefined; capacityGiB: number | undefined } | undefined;
  /** Only for volumes made from a source. */
  dataVolume?: { phase: string | undefined; progress: string | undefined; failure: string | undefined } | undefined;
  fromImage: boolean;
  /** Servers the volume is attached to. */
  attachments: number;
  deleting: boolean;
  /** Why deletion waits (attached, or snapshots and no cascade); undefined when it may go. */
  deletionBlocked?: { reason: string; message: string } | undefined;
}

export interface VolumeVerdict {
  status: VolumeStatusValue;
  ready: ConditionVerdict;
  /** Set only while the volume is being deleted. */
  deletingCondition: ConditionVerdict | undefined;
}

const COPYING_PHASES = new Set(["ImportScheduled", "ImportInProgress", "CloneScheduled", "CloneInProgress", "CSICloneInProgress", "SnapshotForSmartCloneInProgress"]);

function provisioned(o: VolumeObservation): { status: VolumeStatusValue; ready: ConditionVerdict } {
  if (o.fault !== undefined) return { status: "error", ready: { status: "False", ...o.fault } };
  const dv = o.dataVolume;
  if (dv?.phase === "Failed" || dv?.failure !== undefined) {
    return {
      status: "error",
      ready: { status: "False", reason: Reason.ProvisioningFailed, message: `copying the volume's data failed: ${dv.failure ?? "the DataVolume failed"}` },
    };
  }
  if (o.claim?.phase === "Lost") {
    return {
      status: "error",
      ready: { status: "False", reason: Reason.ProvisioningFailed, message: "the volume's PersistentVolume is lost; its data is gone. Delete the volume." },
    };
  }
  const copied = dv === undefined || dv.phase === "Succeeded";
  if (o.claim?.phase !== "Bound" || !copied) {
    // Cinder shows "downloading" while an image is written into a new volume.
    const status: VolumeStatusValue = o.fromImage && dv?.phase !== undefined && COPYING_PHASES.has(dv.phase) ? "downloading" : "creating";
    const progress = dv?.progress !== undefined && dv.progress !== "N/A" && dv.progress !== "" ? ` ${dv.progress}` : "";
    const message =
      o.waiting ??
      (dv !== undefined
        ? `copying the volume's data (DataVolume ${dv.phase ?? "Pending"}${progress})`
        : `waiting for storage to be provisioned (claim ${o.claim?.phase ?? "not created yet"})`);
    return { status, ready: { status: "False", reason: Reason.Progressing, message } };
  }
  const capacity = o.claim.capacityGiB;
  if (capacity !== undefined && capacity < o.sizeGiB) {
    return {
      status: "extending",
      ready: { status: "False", reason: Reason.Progressing, message: `extending the volume from ${capacity} GiB to ${o.sizeGiB} GiB` },
    };
  }
  if (o.attachments > 0) {
    return { status: "in-use", ready: { status: "True", reason: Reason.Reconciled, message: `attached to ${o.attachments} server(s)` } };
  }
  return { status: "available", ready: { status: "True", reason: Reason.Reconciled, message: "volume is available" } };
}

export function volumeVerdict(o: VolumeObservation): VolumeVerdict {
  const base = provisioned(o);
  if (!o.deleting) return { ...base, deletingCondition: undefined };
  // A refused deletion leaves the volume as it is (Cinder answers 400 and changes nothing).
  if (o.deletionBlocked !== undefined) return { ...base, deletingCondition: { status: "True", ...o.deletionBlocked } };
  return {
    status: "deleting",
    ready: { status: "False", reason: Reason.Progressing, message: "volume is being deleted" },
    deletingCondition: { status: "True", reason: Reason.Progressing, message: "deleting the volume's storage" },
  };
}
