// CDI's DataVolume logic, pure: the PVC a DataVolume asks for, its phases per source kind (import,
// clone, blank, upload), progress, injected failures with CDI-like messages, the Bound/Ready/Running
// conditions, and DataSource readiness.
import type { DataVolumeSpec } from "../generated/index.js";
import { ownerReference } from "../kube/index.js";
import type { Delays, SimulatorConfig } from "./config.js";
import { afterDelay } from "./timeline.js";
import { Annotation, Label, type DS, type DV, type PersistentVolumeClaim } from "./types.js";
import { toConditions, type ConditionVerdict, type UpstreamCondition } from "./upstream-conditions.js";

export const DvPhase = {
  Pending: "Pending",
  ImportScheduled: "ImportScheduled",
  ImportInProgress: "ImportInProgress",
  CloneScheduled: "CloneScheduled",
  CloneInProgress: "CloneInProgress",
  UploadScheduled: "UploadScheduled",
  UploadReady: "UploadReady",
  Succeeded: "Succeeded",
  Failed: "Failed",
} as const;
export type DvPhase = (typeof DvPhase)[keyof typeof DvPhase];

export type SourceKind = "import" | "clone" | "blank" | "upload" | "none";

/** A source another object has to provide: a PVC, a VolumeSnapshot, or a DataSource pointing at one. */
export type CloneSource =
  | { kind: "pvc"; namespace: string; name: string }
  | { kind: "snapshot"; namespace: string; name: string }
  | { kind: "dataSource"; namespace: string; name: string };

export function sourceKindOf(spec: DataVolumeSpec): SourceKind {
  const source = spec.source;
  if (spec.sourceRef !== undefined) return "clone";
  if (source === undefined) return "none";
  if (source.http ?? source.registry ?? source.s3 ?? source.gcs ?? source.imageio ?? source.vddk) return "import";
  if (source.pvc ?? source.snapshot) return "clone";
  if (source.blank) return "blank";
  if (source.upload) return "upload";
  return "none";
}

export function cloneSourceOf(dv: DV): CloneSource | undefined {
  const namespace = dv.metadata.namespace ?? "";
  const { source, sourceRef } = dv.spec;
  if (sourceRef !== undefined) {
    return { kind: "dataSource", namespace: sourceRef.namespace ?? namespace, name: sourceRef.name };
  }
  if (source?.pvc !== undefined) return { kind: "pvc", namespace: source.pvc.namespace || namespace, name: source.pvc.name };
  if (source?.snapshot !== undefined) {
    return { kind: "snapshot", namespace: source.snapshot.namespace || namespace, name: source.snapshot.name };
  }
  return undefined;
}

/** Index value for "which DataVolumes clone from this object". */
export function cloneSourceKey(source: CloneSource): string {
  return `${source.kind}:${source.namespace}/${source.name}`;
}

function hostOf(url: string): string | undefined {
  // Registry URLs look like docker://host/path; URL parses those too.
  try {
    return new URL(url).hostname;
  } catch {
    return undefined;
  }
}

/** The error CDI's importer would end with, if this DataVolume is set up to fail. */
export function injectedFailure(dv: DV, failures: SimulatorConfig["failures"]): string | undefined {
  if (failures.annotation && dv.metadata.annotations?.[Annotation.simFail] === "true") {
    return `Unable to process data: simulated failure (annotation ${Annotation.simFail})`;
  }
  if (!failures.invalidHostImports) return undefined;
  const http = dv.spec.source?.http?.url;
  const httpHost = http === undefined ? undefined : hostOf(http);
  if (http !== undefined && httpHost?.endsWith(".invalid") === true) {
    return `Unable to connect to http data source: HTTP request errored: Get "${http}": dial tcp: lookup ${httpHost}: no such host`;
  }
  const registry = dv.spec.source?.registry?.url;
  const registryHost = registry === undefined ? undefined : hostOf(registry);
  if (registry !== undefined && registryHost?.endsWith(".invalid") === true) {
    return `Unable to process data: Failed to read registry image: pinging container registry ${registryHost}: Get "https://${registryHost}/v2/": dial tcp: lookup ${registryHost}: no such host`;
  }
  return undefined;
}

/** CDI's progress text: "N/A" before the transfer, "37.50%" during it, "100.0%" once done. */
export function dataVolumeProgress(elapsedMs: number, durationMs: number, updates: number): string {
  if (durationMs <= 0) return "100.0%";
  const tick = durationMs / updates;
  const done = Math.min(Math.floor(elapsedMs / tick), updates - 1);
  return `${((done * tick * 100) / durationMs).toFixed(2)}%`;
}

export type PvcState = "missing" | "pending" | "bound";

export interface DvStepInput {
  kind: SourceKind;
  phase: string | undefined;
  pvc: PvcState;
  /** For clones: undefined when the source is ready, else why not. */
  sourceProblem: string | undefined;
  failure: string | undefined;
  enteredAt: number;
  now: number;
  delays: Delays;
  progressUpdates: number;
  /** upload: the upload proxy has written every byte into the PVC. */
  uploadComplete?: boolean;
}

export interface DvStep {
  phase: string;
  progress: string;
  /** Look again after this long (a progress tick or the next phase). */
  waitMs?: number;
}

/** The phase and progress now. In-progress phases tick `progressUpdates` times before they finish. */
export function nextDataVolumeStep(input: DvStepInput): DvStep {
  const { kind, now, enteredAt, delays } = input;
  const phase = input.phase === undefined || input.phase === "" ? DvPhase.Pending : input.phase;
  const stay = (p: string, progress = "N/A"): DvStep => ({ phase: p, progress });
  switch (phase) {
    case DvPhase.Pending: {
      if (input.pvc !== "bound" || kind === "none") return stay(phase);
      if (kind === "clone") return input.sourceProblem === undefined ? stay(DvPhase.CloneScheduled) : stay(phase);
      if (kind === "upload") return stay(DvPhase.UploadScheduled);
      return stay(DvPhase.ImportScheduled);
    }
    case DvPhase.ImportScheduled:
    case DvPhase.CloneScheduled:
    case DvPhase.UploadScheduled: {
      const next =
        phase === DvPhase.UploadScheduled
          ? DvPhase.UploadReady
          : phase === DvPhase.CloneScheduled
            ? DvPhase.CloneInProgress
            : kind === "blank"
              ? DvPhase.Succeeded
              : DvPhase.ImportInProgress;
      const step = afterDelay(next, enteredAt, delays.dataVolumeSchedule, now);
      if (step.kind === "wait") return { phase, progress: "N/A", waitMs: step.waitMs };
      if (next === DvPhase.Succeeded) return { phase: next, progress: "100.0%" };
      return { phase: next, progress: next === DvPhase.UploadReady ? "N/A" : "0.00%" };
    }
    case DvPhase.ImportInProgress:
    case DvPhase.CloneInProgress: {
      const duration = phase === DvPhase.ImportInProgress ? delays.importDuration : delays.cloneDuration;
      const tick = duration / input.progressUpdates;
      const elapsed = now - enteredAt;
      if (input.failure !== undefined) {
        // The importer fails on its first attempt to read the source.
        return elapsed >= tick ? { phase: DvPhase.Failed, progress: "N/A" } : { phase, progress: "0.00%", waitMs: tick - elapsed };
      }
      if (elapsed >= duration) return { phase: DvPhase.Succeeded, progress: "100.0%" };
      const nextTick = (Math.floor(elapsed / tick) + 1) * tick;
      return {
        phase,
        progress: dataVolumeProgress(elapsed, duration, input.progressUpdates),
        waitMs: Math.max(1, Math.min(nextTick, duration) - elapsed),
      };
    }
    case DvPhase.Succeeded:
      return stay(phase, "100.0%");
    case DvPhase.UploadReady:
      return input.uploadComplete === true ? { phase: DvPhase.Succeeded, progress: "100.0%" } : stay(phase);
    default:
      return stay(phase);
  }
}

const COMPLETE_MESSAGE: Record<SourceKind, string> = {
  import: "Import Complete",
  blank: "Import Complete",
  clone: "Clone Complete",
  upload: "Upload Complete",
  none: "",
};

/** Bound, Ready and Running as CDI derives them from the PVC and the importer/cloner pod. */
export function dataVolumeVerdicts(opts: {
  phase: string;
  kind: SourceKind;
  claimName: string;
  pvc: PvcState;
  failure: string | undefined;
  sourceProblem: string | undefined;
}): ConditionVerdict[] {
  const { phase, claimName } = opts;
  const bound: ConditionVerdict =
    opts.pvc === "missing"
      ? { type: "Bound", status: "False", reason: "NotFound", message: "No PVC found" }
      : opts.pvc === "pending"
        ? { type: "Bound", status: "False", reason: "Pending", message: `PVC ${claimName} Pending` }
        : { type: "Bound", status: "True", reason: "Bound", message: `PVC ${claimName} Bound` };
  let ready: ConditionVerdict = { type: "Ready", status: "False" };
  let running: ConditionVerdict = { type: "Running", status: "False" };
  if (phase === DvPhase.ImportInProgress || phase === DvPhase.CloneInProgress || phase === DvPhase.UploadReady) {
    running = { type: "Running", status: "True", reason: "Pod is running" };
    ready = { type: "Ready", status: "False", reason: "TransferRunning" };
  } else if (phase === DvPhase.Succeeded) {
    running = { type: "Running", status: "False", reason: "Completed", message: COMPLETE_MESSAGE[opts.kind] };
    ready = { type: "Ready", status: "True" };
  } else if (phase === DvPhase.Failed) {
    running = { type: "Running", status: "False", reason: "Error", message: opts.failure ?? "Unable to process data" };
  } else if (opts.sourceProblem !== undefined) {
    running = { type: "Running", status: "False", reason: "CloneWithoutSource", message: opts.sourceProblem };
  }
  return [bound, ready, running];
}

export type DvStatus = NonNullable<DV["status"]>;

export function dataVolumeStatus(
  dv: DV,
  step: DvStep,
  verdicts: readonly ConditionVerdict[],
  claimExists: boolean,
  now: number,
): DvStatus {
  const previous = (dv.status?.conditions ?? []) as UpstreamCondition[];
  return {
    phase: step.phase,
    progress: step.progress,
    ...(claimExists ? { claimName: dv.metadata.name ?? "" } : {}),
    restartCount: 0,
    conditions: toConditions(previous, verdicts, now, "heartbeat").map((c) => ({
      type: c.type,
      status: c.status,
      ...(c.reason === undefined ? {} : { reason: c.reason }),
      ...(c.message === undefined ? {} : { message: c.message }),
      lastHeartbeatTime: c.lastHeartbeatTime ?? undefined,
      lastTransitionTime: c.lastTransitionTime ?? undefined,
    })),
  };
}

/**
 * The PVC CDI creates for a DataVolume: same name, owned by it, size/access modes/class/volume mode
 * from `spec.storage` (or the older `spec.pvc`); a clone without a size takes the source's. Returns
 * an error text when no size can be worked out.
 */
export function desiredClaim(dv: DV, sourceSize: string | undefined): PersistentVolumeClaim | { error: string } {
  const storage = dv.spec.storage ?? dv.spec.pvc;
  const size = storage?.resources?.requests?.storage ?? sourceSize;
  if (size === undefined) return { error: "DataVolume spec is missing a storage size (resources.requests.storage)" };
  const spec: NonNullable<PersistentVolumeClaim["spec"]> = {
    accessModes: storage?.accessModes !== undefined && storage.accessModes.length > 0 ? [...storage.accessModes] : ["ReadWriteOnce"],
    resources: { requests: { storage: size } },
    volumeMode: storage?.volumeMode === "Block" ? "Block" : "Filesystem",
  };
  if (storage?.storageClassName !== undefined) spec.storageClassName = storage.storageClassName;
  return {
    apiVersion: "v1",
    kind: "PersistentVolumeClaim",
    metadata: {
      name: dv.metadata.name ?? "",
      namespace: dv.metadata.namespace ?? "",
      labels: { [Label.cdiApp]: "containerized-data-importer", "app.kubernetes.io/component": "storage" },
      annotations: {
        "cdi.kubevirt.io/storage.contentType": dv.spec.contentType ?? "kubevirt",
        "cdi.kubevirt.io/createdForDataVolume": dv.metadata.uid ?? "",
      },
      ownerReferences: [ownerReference(dv)],
    },
    spec,
  };
}

/** DataSource Ready as CDI's DataSource controller decides it. */
export function dataSourceVerdict(
  ds: DS,
  lookup: {
    dataVolume: (namespace: string, name: string) => DV | undefined;
    claim: (namespace: string, name: string) => PersistentVolumeClaim | undefined;
    snapshotReady: (namespace: string, name: string) => boolean | undefined;
  },
): ConditionVerdict {
  const namespace = ds.metadata.namespace ?? "";
  const pvc = ds.spec.source.pvc;
  if (pvc !== undefined) {
    const ns = pvc.namespace || namespace;
    const dv = lookup.dataVolume(ns, pvc.name);
    if (dv !== undefined) {
      const phase = dv.status?.phase ?? "";
      return phase === DvPhase.Succeeded
        ? { type: "Ready", status: "True", reason: "Ready", message: "DataSource is ready to be consumed" }
        : { type: "Ready", status: "False", reason: phase === "" ? "Pending" : phase, message: `Import DataVolume phase ${phase || "Pending"}` };
    }
    if (lookup.claim(ns, pvc.name) !== undefined) {
      return { type: "Ready", status: "True", reason: "Ready", message: "DataSource is ready to be consumed" };
    }
    return { type: "Ready", status: "False", reason: "NotFound", message: "DataVolume not found" };
  }
  const snapshot = ds.spec.source.snapshot;
  if (snapshot !== undefined) {
    const ready = lookup.snapshotReady(snapshot.namespace || namespace, snapshot.name);
    if (ready === true) return { type: "Ready", status: "True", reason: "Ready", message: "DataSource is ready to be consumed" };
    return ready === undefined
      ? { type: "Ready", status: "False", reason: "NotFound", message: "VolumeSnapshot not found" }
      : { type: "Ready", status: "False", reason: "SnapshotNotReady", message: "VolumeSnapshot not ready" };
  }
  return { type: "Ready", status: "False", reason: "NoSource", message: "No source PVC set" };
}
