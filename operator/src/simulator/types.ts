// Object types the simulator reads and writes, names of the components it plays, and the labels,
// annotations and finalizers those components use. Upstream kinds come from operator/src/generated;
// core kinds from client-node's model classes, turned into their JSON form (see Wire).
import type {
  V1Binding,
  V1Node,
  V1PersistentVolume,
  V1PersistentVolumeClaim,
  V1Pod,
  V1Secret,
  V1StorageClass,
} from "@kubernetes/client-node";
import type {
  DataSource,
  DataVolume,
  NetworkAttachmentDefinition,
  VirtualMachine,
  VirtualMachineInstance,
  VirtualMachineInstanceMigration,
  VolumeSnapshot,
  VolumeSnapshotClass,
  VolumeSnapshotContent,
} from "../generated/index.js";
import type { KubeObject } from "../kube/index.js";

/**
 * client-node's model classes type timestamps as Date, but on the wire (and so in our caches) they are
 * RFC 3339 strings: this maps a model type to its JSON shape.
 */
export type Wire<T> = T extends Date
  ? string
  : T extends (infer U)[]
    ? Wire<U>[]
    : T extends object
      ? { [K in keyof T]: Wire<T[K]> }
      : T;

export type Node = Wire<V1Node> & KubeObject;
export type Pod = Wire<V1Pod> & KubeObject;
export type PersistentVolumeClaim = Wire<V1PersistentVolumeClaim> & KubeObject;
export type PersistentVolume = Wire<V1PersistentVolume> & KubeObject;
export type StorageClass = Wire<V1StorageClass> & KubeObject;
export type Secret = Wire<V1Secret> & KubeObject;
export type Binding = Wire<V1Binding> & KubeObject;

export type VM = VirtualMachine & KubeObject;
export type VMI = VirtualMachineInstance & KubeObject;
export type Migration = VirtualMachineInstanceMigration & KubeObject;
export type DV = DataVolume & KubeObject;
export type DS = DataSource & KubeObject;
export type Snapshot = VolumeSnapshot & KubeObject;
export type SnapshotContent = VolumeSnapshotContent & KubeObject;
export type SnapshotClass = VolumeSnapshotClass & KubeObject;
export type NAD = NetworkAttachmentDefinition & KubeObject;

/** Field managers: the names the real components write under, so managedFields look familiar. */
export const Manager = {
  kubelet: "kubelet",
  scheduler: "kube-scheduler",
  multus: "multus",
  virtController: "virt-controller",
  virtHandler: "virt-handler",
  cdi: "cdi-controller",
  provisioner: "csi-provisioner",
  pvBinder: "persistentvolume-binder",
  resizer: "csi-resizer",
  snapshotController: "snapshot-controller",
  csiSnapshotter: "csi-snapshotter",
} as const;

export const Label = {
  /** Marks the Nodes the simulator registered (and so may delete when the configured count drops). */
  simNode: "sim.altostack.io/node",
  hostname: "kubernetes.io/hostname",
  zone: "topology.kubernetes.io/zone",
  os: "kubernetes.io/os",
  arch: "kubernetes.io/arch",
  kubevirtSchedulable: "kubevirt.io/schedulable",
  /** virt-handler labels a VMI with the node it runs on. */
  vmiNodeName: "kubevirt.io/nodeName",
  cdiApp: "app",
} as const;

export const Annotation = {
  /** Failure injection: a DataVolume carrying it (value "true") fails its import or clone. */
  simFail: "sim.altostack.io/fail",
  /** The guest is paused (virt-api pause; virt-handler's domain state, kept on the VMI). */
  simPaused: "sim.altostack.io/paused",
  /** How often the guest was soft-rebooted / reset through virt-api (the simulator's record of it). */
  simSoftReboots: "sim.altostack.io/soft-reboots",
  simResets: "sim.altostack.io/resets",
  /** CDI's record of the upload/import pod's phase on the PVC; Succeeded once an upload's bytes are written. */
  cdiPodPhase: "cdi.kubevirt.io/storage.pod.phase",
  /** Bytes the simulated upload proxy wrote for the PVC, and where (its data file). */
  simUploadedBytes: "sim.altostack.io/uploaded-bytes",
  simUploadedFile: "sim.altostack.io/uploaded-file",
  multusNetworks: "k8s.v1.cni.cncf.io/networks",
  multusNetworkStatus: "k8s.v1.cni.cncf.io/network-status",
  defaultStorageClass: "storageclass.kubernetes.io/is-default-class",
  defaultSnapshotClass: "snapshotclass.kubernetes.io/is-default-class",
  pvProvisionedBy: "pv.kubernetes.io/provisioned-by",
  pvcBindCompleted: "pv.kubernetes.io/bind-completed",
  pvcBoundByController: "pv.kubernetes.io/bound-by-controller",
  pvcStorageProvisioner: "volume.kubernetes.io/storage-provisioner",
  pvcBetaStorageProvisioner: "volume.beta.kubernetes.io/storage-provisioner",
} as const;

export const Finalizer = {
  /** virt-controller keeps a VM until its VMI is gone. */
  vm: "kubevirt.io/virtualMachineControllerFinalize",
  /** virt-controller keeps a VMI until the guest has stopped. */
  vmi: "foregroundDeleteVirtualMachine",
  /** Added by the StorageObjectInUseProtection admission plugin; kube-controller-manager removes them. */
  pvcProtection: "kubernetes.io/pvc-protection",
  pvProtection: "kubernetes.io/pv-protection",
} as const;
