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
  /** Servers the volume is attached to (their VM carries it). */
  attachments: number;
  /** Of those, hot-plugged and not yet reported ready by the guest. */
  attaching?: number | undefined;
  /** A guest still has it though no VM carries it any more. */
  detaching?: boolean | undefined;
  /** Declared by the server it belongs to, not on its VM yet. */
  reserved?: boolean | undefined;
  /** The storage refused to grow the claim (the PVC's resize failure). */
  resizeFailure?: string | undefined;
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
    if (o.resizeFailure !== undefined) {
      return {
        status: "error_extending",
        ready: {
          status: "False",
          reason: Reason.ProvisioningFailed,
          message: `extending the volume from ${capacity} GiB to ${o.sizeGiB} GiB failed: ${o.resizeFailure}. The volume keeps its data and stays usable at ${capacity} GiB; the resize is retried whenever its claim changes (e.g. once the StorageClass allows expansion).`,
        },
      };
    }
    return {
      status: "extending",
      ready: { status: "False", reason: Reason.Progressing, message: `extending the volume from ${capacity} GiB to ${o.sizeGiB} GiB` },
    };
  }
  const attaching = o.attaching ?? 0;
  const attached = o.attachments - attaching;
  const usable = (status: VolumeStatusValue, message: string) => ({ status, ready: { status: "True" as const, reason: Reason.Reconciled, message } });
  if (attached > 0) return usable("in-use", `attached to ${attached} server(s)`);
  if (attaching > 0) return usable("attaching", "attaching: waiting for the guest to report the hot-plugged disk");
  if (o.detaching === true) return usable("detaching", "detaching: the guest still has the disk");
  if (o.reserved === true) return usable("reserved", "reserved by the server that declares it; attached once the server's VM carries it");
  return usable("available", "volume is available");
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
