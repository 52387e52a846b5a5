// The CSI external-provisioner, external-resizer, kube-controller-manager's PV binder and the PVC/PV
// protection controllers, pure: which claims we provision, the PV for a claim, the bound statuses,
// online expansion, and when protection finalizers may go.
import type { SimulatorConfig } from "./config.js";
import { stableId } from "./addresses.js";
import { quantityGreater } from "./quantity.js";
import {
  Annotation,
  type PersistentVolume,
  type PersistentVolumeClaim,
  type Pod,
  type SnapshotClass,
  type StorageClass,
  type VMI,
} from "./types.js";
import { claimNameOf, isFinalPhase } from "./vm-state.js";

/** Our driver provisions the claim: its class is one of our driver's StorageClasses. */
export function provisionedByUs(claim: PersistentVolumeClaim, classes: ReadonlyMap<string, StorageClass>, driver: string): boolean {
  const className = claim.spec?.storageClassName;
  if (className === undefined || className === null || className === "") return false;
  return classes.get(className)?.provisioner === driver;
}

/** The default class (annotation true) among ours, for claims created before any default existed. */
export function defaultClassName(classes: Iterable<StorageClass>, driver: string): string | undefined {
  for (const sc of classes) {
    if (sc.provisioner === driver && sc.metadata.annotations?.[Annotation.defaultStorageClass] === "true") {
      return sc.metadata.name;
    }
  }
  return undefined;
}

/** external-provisioner names dynamically provisioned volumes after the claim's UID. */
export function volumeNameFor(claim: PersistentVolumeClaim): string {
  return `pvc-${claim.metadata.uid ?? ""}`;
}

export function desiredVolume(claim: PersistentVolumeClaim, sc: StorageClass, driver: string): PersistentVolume {
  const uid = claim.metadata.uid ?? "";
  const volumeMode = claim.spec?.volumeMode ?? "Filesystem";
  return {
    apiVersion: "v1",
    kind: "PersistentVolume",
    metadata: { name: volumeNameFor(claim), annotations: { [Annotation.pvProvisionedBy]: driver } },
    spec: {
      capacity: { storage: claim.spec?.resources?.requests?.storage ?? "1Gi" },
      accessModes: [...(claim.spec?.accessModes ?? ["ReadWriteOnce"])],
      persistentVolumeReclaimPolicy: sc.reclaimPolicy ?? "Delete",
      storageClassName: sc.metadata.name ?? "",
      volumeMode,
      csi: {
        driver,
        volumeHandle: `sim-${stableId(uid, 24)}`,
        ...(volumeMode === "Filesystem" ? { fsType: "ext4" } : {}),
        volumeAttributes: { "storage.kubernetes.io/csiProvisionerIdentity": `${driver}-sim` },
      },
      claimRef: {
        apiVersion: "v1",
        kind: "PersistentVolumeClaim",
        name: claim.metadata.name ?? "",
        namespace: claim.metadata.namespace ?? "",
        uid,
      },
      ...(sc.mountOptions === undefined ? {} : { mountOptions: [...sc.mountOptions] }),
    },
  };
}

/** The claim the PV is reserved for (its claimRef), as a cache key. */
export function claimKeyOf(pv: PersistentVolume): string | undefined {
  const ref = pv.spec?.claimRef;
  if (ref?.name === undefined || ref.namespace === undefined) return undefined;
  return `${ref.namespace}/${ref.name}`;
}

export function boundClaimStatus(claim: PersistentVolumeClaim, pv: PersistentVolume): NonNullable<PersistentVolumeClaim["status"]> {
  const capacity = pv.spec?.capacity?.storage ?? claim.spec?.resources?.requests?.storage ?? "0";
  return {
    phase: "Bound",
    accessModes: [...(pv.spec?.accessModes ?? claim.spec?.accessModes ?? [])],
    capacity: { storage: capacity },
  };
}

/** The larger size to expand to, when the claim asks for more than it has and its class allows it. */
export function expansionTarget(claim: PersistentVolumeClaim, sc: StorageClass | undefined): string | undefined {
  if (claim.status?.phase !== "Bound" || sc?.allowVolumeExpansion !== true) return undefined;
  const requested = claim.spec?.resources?.requests?.storage;
  const current = claim.status.capacity?.storage;
  return quantityGreater(requested, current) ? requested : undefined;
}

/** Claim names a pod mounts (plain PVC volumes; generic ephemeral volumes are named pod-volume). */
export function claimsOfPod(pod: Pod): string[] {
  const names: string[] = [];
  for (const volume of pod.spec?.volumes ?? []) {
    if (volume.persistentVolumeClaim?.claimName !== undefined) names.push(volume.persistentVolumeClaim.claimName);
    if (volume.ephemeral !== undefined) names.push(`${pod.metadata.name ?? ""}-${volume.name}`);
  }
  return names;
}

export function claimsOfVmi(vmi: VMI): string[] {
  return (vmi.spec.volumes ?? []).map(claimNameOf).filter((n): n is string => n !== undefined);
}

/**
 * pvc-protection: a claim being deleted keeps its finalizer while a running pod (or a live VMI,
 * standing in for its virt-launcher pod) uses it.
 */
export function claimInUse(claimName: string, pods: readonly Pod[], vmis: readonly VMI[]): boolean {
  const podUses = pods.some(
    (p) => p.status?.phase !== "Succeeded" && p.status?.phase !== "Failed" && claimsOfPod(p).includes(claimName),
  );
  const vmiUses = vmis.some((v) => !isFinalPhase(v.status?.phase) && claimsOfVmi(v).includes(claimName));
  return podUses || vmiUses;
}

export type VolumeAction =
  | { kind: "none" }
  /** The claim is gone: the volume is Released. */
  | { kind: "release" }
  /** Released with reclaim policy Delete: the provisioner deletes it. */
  | { kind: "delete" }
  /** pv-protection: an unbound volume being deleted may go. */
  | { kind: "removeProtection" };

/** What happens to one of our PVs given its claim (undefined: no claim of that name, or another UID). */
export function volumeAction(pv: PersistentVolume, claim: PersistentVolumeClaim | undefined, driver: string): VolumeAction {
  if (pv.spec?.csi?.driver !== driver) return { kind: "none" };
  const deleting = pv.metadata.deletionTimestamp !== undefined;
  const claimGone = pv.spec.claimRef !== undefined && (claim === undefined || claim.metadata.uid !== pv.spec.claimRef.uid);
  if (deleting) {
    const protectedBy = pv.metadata.finalizers?.includes("kubernetes.io/pv-protection") ?? false;
    return protectedBy && (claimGone || pv.status?.phase !== "Bound") ? { kind: "removeProtection" } : { kind: "none" };
  }
  if (!claimGone) return { kind: "none" };
  if (pv.status?.phase !== "Released" && pv.status?.phase !== "Failed") return { kind: "release" };
  return pv.spec.persistentVolumeReclaimPolicy === "Delete" ? { kind: "delete" } : { kind: "none" };
}

/** The StorageClass and VolumeSnapshotClass the simulator brings (created only when absent). */
export function defaultClasses(storage: SimulatorConfig["storage"]): { storageClass: StorageClass; snapshotClass: SnapshotClass } {
  return {
    storageClass: {
      apiVersion: "storage.k8s.io/v1",
      kind: "StorageClass",
      metadata: { name: storage.storageClassName, annotations: { [Annotation.defaultStorageClass]: "true" } },
      provisioner: storage.driver,
      reclaimPolicy: "Delete",
      volumeBindingMode: "Immediate",
      allowVolumeExpansion: true,
    },
    snapshotClass: {
      apiVersion: "snapshot.storage.k8s.io/v1",
      kind: "VolumeSnapshotClass",
      metadata: { name: storage.snapshotClassName, annotations: { [Annotation.defaultSnapshotClass]: "true" } },
      driver: storage.driver,
      deletionPolicy: "Delete",
    },
  };
}
