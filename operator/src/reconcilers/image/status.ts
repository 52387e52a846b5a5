// Pure: an image's Glance status (queued → importing/saving → active, or killed) from its DataVolume, and
// its Ready condition.
import { Reason, type ImageStatus } from "../../api/index.js";

export interface DataVolumeObservation {
  phase: string | undefined;
  /** CDI's progress text ("45.00%", "N/A"). */
  progress: string | undefined;
  /** The Running condition's message when CDI reports a failure. */
  failure: string | undefined;
}

export type ImageSourceKind = "http" | "upload" | "serverRef" | "volumeRef";

export interface ImageObservation {
  source: ImageSourceKind;
  dataVolume: DataVolumeObservation | undefined;
  /** serverRef/volumeRef: why the disk cannot be snapshotted (no such server or volume, no disk yet). */
  sourceProblem: string | undefined;
  /** serverRef/volumeRef: the disk was never snapshotted and its server or volume is gone: the image cannot be made. */
  sourceGone: boolean;
  deleting: boolean;
  protectedImage: boolean;
  /** upload: the image API recorded the size and checksums of the data it streamed. */
  uploadRecorded: boolean;
  /** upload: the image API marked an upload in flight (its mark fresh, see UPLOAD_IDLE_MS). */
  uploadStreaming: boolean;
  /** The status reported so far: an active image stays active (Glance's states only move forward). */
  previous: ImageStatus | undefined;
}

export interface ImageVerdict {
  status: ImageStatus;
  ready: { status: "True" | "False"; reason: string; message: string };
}

function hasTransferStarted(progress: string | undefined): boolean {
  if (progress === undefined || progress === "N/A" || progress === "") return false;
  return Number.parseFloat(progress) > 0;
}

const progressNote = (dv: DataVolumeObservation | undefined): string =>
  dv?.progress !== undefined && dv.progress !== "N/A" && dv.progress !== "" ? ` (${dv.progress})` : "";

export function imageVerdict(o: ImageObservation): ImageVerdict {
  const dv = o.dataVolume;
  if (o.deleting) {
    if (o.protectedImage) {
      return {
        status: dv?.phase === "Succeeded" ? "active" : "queued",
        ready: {
          status: "False",
          reason: Reason.DeletionBlocked,
          message: "image is protected: set spec.protected to false to let it be deleted",
        },
      };
    }
    return { status: "deleted", ready: { status: "False", reason: Reason.Progressing, message: "image is being deleted" } };
  }
  if (dv?.phase === "Failed") {
    return {
      status: "killed",
      ready: { status: "False", reason: Reason.ImportFailed, message: `image data could not be imported: ${dv.failure ?? "the import failed"}` },
    };
  }
  if (dv?.phase === "Succeeded" && o.source === "upload" && !o.uploadRecorded && o.previous !== "active") {
    // The image API writes its record before the last byte reaches CDI; this is the moment in between.
    return { status: "saving", ready: { status: "False", reason: Reason.Progressing, message: "image data uploaded; recording its size and checksums" } };
  }
  if (dv?.phase === "Succeeded" || (o.previous === "active" && dv !== undefined)) {
    return { status: "active", ready: { status: "True", reason: Reason.Reconciled, message: "image is active" } };
  }
  switch (o.source) {
    case "upload":
      // CDI reports no progress for uploads: the image API's mark says the bytes are flowing.
      if (dv?.phase === "UploadReady" && (o.uploadStreaming || hasTransferStarted(dv.progress))) {
        return { status: "saving", ready: { status: "False", reason: Reason.Progressing, message: `image data is being uploaded${progressNote(dv)}` } };
      }
      return {
        status: "queued",
        ready: {
          status: "False",
          reason: Reason.Progressing,
          message: dv?.phase === "UploadReady" ? "waiting for the image data to be uploaded" : "preparing the volume for the upload",
        },
      };
    case "serverRef":
    case "volumeRef": {
      const what = o.source === "serverRef" ? "the server's disk" : "the volume";
      if (o.sourceGone && dv === undefined) {
        return {
          status: "killed",
          ready: { status: "False", reason: Reason.ImportFailed, message: o.sourceProblem ?? `${what} to copy is gone` },
        };
      }
      if (o.sourceProblem !== undefined && dv === undefined) {
        return { status: "queued", ready: { status: "False", reason: Reason.DependencyNotReady, message: o.sourceProblem } };
      }
      return {
        status: "saving",
        ready: { status: "False", reason: Reason.Progressing, message: `copying ${what} into the image${progressNote(dv)}` },
      };
    }
    case "http":
      return dv === undefined
        ? { status: "queued", ready: { status: "False", reason: Reason.Progressing, message: "image import is queued" } }
        : { status: "importing", ready: { status: "False", reason: Reason.Progressing, message: `importing image data${progressNote(dv)}` } };
  }
}

/** The Running condition's message of a failed DataVolume (CDI puts the importer's error there). */
export function failureOf(conditions: readonly { type?: string; status?: string; reason?: string; message?: string }[] | undefined): string | undefined {
  const running = conditions?.find((c) => c.type === "Running");
  if (running?.status === "False" && running.reason === "Error" && running.message !== undefined && running.message !== "") {
    return running.message;
  }
  return undefined;
}
