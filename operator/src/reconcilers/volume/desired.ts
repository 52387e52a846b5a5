// Pure: a Volume → the claim that holds its data. A blank volume is a plain PVC; a volume made from an
// image, a snapshot or another volume is a CDI DataVolume (CDI copies the data, then the PVC of the same
// name is the volume). Also: which source a volume's spec resolves to, and when a claim must grow.
import type { V1PersistentVolumeClaimSpec, V1PersistentVolumeClaimStatus } from "@kubernetes/client-node";
import type { DataVolume } from "../../generated/index.js";
import { LABELS, MANAGED_BY, projectOfNamespace, type Volume } from "../../api/index.js";
import type { KubeObject } from "../../kube/index.js";
// Type-only: client-node's model classes in their JSON shape (the mapping lives with the simulator's types).
import type { Wire } from "../../simulator/types.js";
import { boundedLabel, labelValue } from "../server/names.js";
import type { ACCESS_MODES } from "../server/settings.js";

export type DataVolumeObject = DataVolume & KubeObject;
/** A PVC as this reconciler reads and writes it. */
export interface ClaimObject extends KubeObject {
  spec?: Wire<V1PersistentVolumeClaimSpec>;
  status?: Wire<V1PersistentVolumeClaimStatus>;
}

export type AccessMode = (typeof ACCESS_MODES)[number];

/** Marks a volume's objects so they can be found from the volume. */
export const VolumeLabel = { volume: "altostack.io/volume" } as const;

/** Set on a Volume before deleting it to delete its snapshots too (Cinder's `volume delete --cascade`). */
export const VolumeAnnotation = { cascade: "altostack.io/cascade" } as const;

/**
 * The PVC (and DataVolume) of a volume. The `.volume` suffix has a dot, which VM disk names never have,
 * and differs from images' `.image`, so a volume's claim cannot take another object's name.
 */
export function volumeClaimName(volumeName: string): string {
  const name = `${volumeName}.volume`;
  return name.length <= 253 ? name : `${boundedLabel(volumeName)}.volume`;
}

/** Where the volume's data comes from, once its reference has been resolved. */
export type ResolvedSource =
  | { kind: "blank" }
  /** The image's DataSource (CDI clones its PVC, across projects as the image's grant allows). */
  | { kind: "image"; namespace: string; dataSource: string }
  /** The Snapshot's VolumeSnapshot. */
  | { kind: "snapshot"; namespace: string; volumeSnapshot: string }
  /** The source volume's claim. */
  | { kind: "volume"; namespace: string; claim: string };

export interface VolumeStorage {
  /** From the volume type; undefined: the cluster's default StorageClass. */
  storageClassName: string | undefined;
  /** Access modes of single-attach volumes (operator setting); empty: ReadWriteOnce. */
  accessModes: readonly AccessMode[];
}

export interface VolumeChildren {
  claim: ClaimObject | undefined;
  dataVolume: DataVolumeObject | undefined;
}

function labelsOf(volume: Volume): Record<string, string> {
  const labels: Record<string, string> = {
    [LABELS.managedBy]: MANAGED_BY,
    [VolumeLabel.volume]: labelValue(volume.metadata.name ?? ""),
  };
  const project = projectOfNamespace(volume.metadata.namespace);
  if (project !== undefined) labels[LABELS.project] = labelValue(project);
  return labels;
}

/** Multiattach volumes are shared block devices (RWX Block); the rest use the operator's access modes. */
export function claimShape(volume: Volume, storage: VolumeStorage): { accessModes: AccessMode[]; volumeMode?: "Block" } {
  if (volume.spec.multiattach === true) return { accessModes: ["ReadWriteMany"], volumeMode: "Block" };
  return { accessModes: storage.accessModes.length === 0 ? ["ReadWriteOnce"] : [...storage.accessModes] };
}

function dataVolumeSource(source: Exclude<ResolvedSource, { kind: "blank" }>): Pick<DataVolume["spec"], "source" | "sourceRef"> {
  switch (source.kind) {
    case "image":
      return { sourceRef: { kind: "DataSource", namespace: source.namespace, name: source.dataSource } };
    case "snapshot":
      return { source: { snapshot: { namespace: source.namespace, name: source.volumeSnapshot } } };
    case "volume":
      return { source: { pvc: { namespace: source.namespace, name: source.claim } } };
  }
}

export function desiredVolumeChildren(volume: Volume, source: ResolvedSource, storage: VolumeStorage): VolumeChildren {
  const name = volumeClaimName(volume.metadata.name ?? "");
  const namespace = volume.metadata.namespace ?? "";
  const labels = labelsOf(volume);
  const size = `${volume.spec.size}Gi`;
  const shape = claimShape(volume, storage);
  const storageClass = storage.storageClassName === undefined ? {} : { storageClassName: storage.storageClassName };

  if (source.kind === "blank") {
    return {
      dataVolume: undefined,
      claim: {
        apiVersion: "v1",
        kind: "PersistentVolumeClaim",
        metadata: { name, namespace, labels },
        spec: { ...shape, resources: { requests: { storage: size } }, ...storageClass },
      },
    };
  }
  return {
    claim: undefined,
    dataVolume: {
      apiVersion: "cdi.kubevirt.io/v1beta1",
      kind: "DataVolume",
      metadata: {
        name,
        namespace,
        labels,
        // A volume has no consumer until it is attached: copy the data now even on WaitForFirstConsumer classes.
        annotations: { "cdi.kubevirt.io/storage.bind.immediate.requested": "true" },
      },
      spec: {
        ...dataVolumeSource(source),
        contentType: "kubevirt",
        storage: {
          resources: { requests: { storage: size } },
          accessModes: shape.accessModes,
          ...(shape.volumeMode === undefined ? {} : { volumeMode: shape.volumeMode }),
          ...storageClass,
        },
      },
    },
  };
}

const GIB = 1024 ** 3;

/** Whole GiB of a byte count, rounded down (a claim of 1.5 GiB holds 1 GiB of volume). */
export function wholeGiB(bytes: number | undefined): number | undefined {
  return bytes === undefined ? undefined : Math.floor(bytes / GIB);
}

/**
 * The request a claim must be patched to when the volume grew (CDI does not resize the PVC of a
 * DataVolume, and a blank volume's claim grows with its apply); undefined when nothing is to do.
 */
export function claimResizeRequest(sizeGiB: number, claimRequestBytes: number | undefined): string | undefined {
  if (claimRequestBytes === undefined) return undefined;
  return sizeGiB * GIB > claimRequestBytes ? `${sizeGiB}Gi` : undefined;
}

/** Terminal states of a claim's resize (allocatedResourceStatuses), and the conditions the resizers report. */
const RESIZE_FAILED_STATES = new Set(["ControllerResizeInfeasible", "NodeResizeInfeasible", "ControllerResizeFailed", "NodeResizeFailed"]);
const RESIZE_ERROR_CONDITIONS = new Set(["ControllerResizeError", "NodeResizeError"]);

/** Why the storage could not grow the claim, if it says so; undefined while it grows or has nothing to do. */
export function claimResizeFailure(claim: ClaimObject | undefined): string | undefined {
  const condition = (claim?.status?.conditions ?? []).find((c) => RESIZE_ERROR_CONDITIONS.has(c.type) && c.status === "True");
  if (condition !== undefined) return condition.message !== undefined && condition.message !== "" ? condition.message : condition.type;
  const state = claim?.status?.allocatedResourceStatuses?.storage;
  return state !== undefined && RESIZE_FAILED_STATES.has(state) ? `the storage reports ${state}` : undefined;
}
