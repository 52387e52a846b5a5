// Pure: an Image → the CDI DataVolume holding its data, the DataSource servers clone from, the RBAC that
// lets other projects clone it (per its visibility), and for a server snapshot the VolumeSnapshot of the
// server's root disk the data is copied from.
import type { DataSource, DataVolume, VolumeSnapshot } from "../../generated/index.js";
import { LABELS, MANAGED_BY, projectOfNamespace, type Image } from "../../api/index.js";
import type { KubeObject } from "../../kube/index.js";
import { imageCloneRbacName, imageSnapshotName, imageVolumeName, labelValue } from "../server/names.js";
import type { DiskStorage } from "../server/vm.js";
import { cloneSubjects } from "./visibility.js";

export type DataVolumeObject = DataVolume & KubeObject;
export type DataSourceObject = DataSource & KubeObject;
export type VolumeSnapshotObject = VolumeSnapshot & KubeObject;

export interface RbacSubject {
  kind: "Group" | "ServiceAccount" | "User";
  name: string;
  namespace?: string;
  apiGroup?: string;
}

export interface RoleObject extends KubeObject {
  rules: { apiGroups: string[]; resources: string[]; resourceNames?: string[]; verbs: string[] }[];
}

export interface RoleBindingObject extends KubeObject {
  roleRef: { apiGroup: string; kind: "Role" | "ClusterRole"; name: string };
  subjects: RbacSubject[];
}

/** Marks an image's objects so they can be found from the image. */
export const ImageLabel = { image: "altostack.io/image" } as const;

/**
 * The PVC an image is copied from: a server's root disk (source.serverRef, createImage) or a volume
 * (source.volumeRef, upload-to-image). Both take one path: a VolumeSnapshot of the PVC, then a DataVolume
 * from the snapshot (a consistent copy even while the disk is in use), which goes once the data is in place.
 */
export interface DiskSource {
  claimName: string;
  sizeGiB: number | undefined;
}

export interface ImageChildrenInput {
  image: Image;
  /** Size of the image's volume in GiB (see volumeSizeGiB). */
  sizeGiB: number;
  storage: DiskStorage;
  /** For source.serverRef/volumeRef: the disk to snapshot, once there is one. */
  sourceDisk: DiskSource | undefined;
  /** The image's data is in place: the snapshot it was copied from is no longer needed. */
  imported: boolean;
}

export interface ImageChildren {
  dataVolume: DataVolumeObject | undefined;
  dataSource: DataSourceObject;
  /** Only while a server snapshot is being copied. */
  snapshot: VolumeSnapshotObject | undefined;
  /** Only when other projects may use the image. */
  role: RoleObject | undefined;
  roleBinding: RoleBindingObject | undefined;
}

/**
 * The image volume's size: the image's minDisk when set, else the operator's default. CDI needs a size
 * before it downloads anything; a server's root disk is never made smaller than this.
 */
export function volumeSizeGiB(image: Image, defaultGiB: number, sourceDisk?: DiskSource): number {
  if (copiesDisk(image) && sourceDisk?.sizeGiB !== undefined) return sourceDisk.sizeGiB;
  return Math.max(image.spec.minDisk ?? 0, defaultGiB, 1);
}

/** CDI's checksum format: `algorithm:hex`. */
export function cdiChecksum(checksum: { algorithm: string; value: string } | undefined): string | undefined {
  return checksum === undefined ? undefined : `${checksum.algorithm}:${checksum.value}`;
}

function labelsOf(image: Image): Record<string, string> {
  const labels: Record<string, string> = {
    [LABELS.managedBy]: MANAGED_BY,
    [ImageLabel.image]: labelValue(image.metadata.name ?? ""),
  };
  const project = projectOfNamespace(image.metadata.namespace);
  if (project !== undefined) labels[LABELS.project] = labelValue(project);
  return labels;
}

/** The image is a copy of a disk (a server's or a volume). */
export function copiesDisk(image: Image): boolean {
  return image.spec.source.serverRef !== undefined || image.spec.source.volumeRef !== undefined;
}

function dataVolumeSource(image: Image, sourceDisk: DiskSource | undefined): DataVolume["spec"]["source"] | undefined {
  const { source } = image.spec;
  const namespace = image.metadata.namespace ?? "";
  if (source.http !== undefined) {
    const checksum = cdiChecksum(source.http.checksum);
    return { http: { url: source.http.url, ...(checksum === undefined ? {} : { checksum }) } };
  }
  if (source.upload !== undefined) return { upload: {} };
  if (copiesDisk(image) && sourceDisk !== undefined) {
    return { snapshot: { namespace, name: imageSnapshotName(image.metadata.name ?? "") } };
  }
  // A server without a disk yet, a volume not there yet: no data source.
  return undefined;
}

export function desiredImageChildren(input: ImageChildrenInput): ImageChildren {
  const { image, storage } = input;
  const imageName = image.metadata.name ?? "";
  const namespace = image.metadata.namespace ?? "";
  const volume = imageVolumeName(imageName);
  const labels = labelsOf(image);

  const source = dataVolumeSource(image, input.sourceDisk);
  const dataVolume: DataVolumeObject | undefined =
    source === undefined
      ? undefined
      : {
          apiVersion: "cdi.kubevirt.io/v1beta1",
          kind: "DataVolume",
          metadata: {
            name: volume,
            namespace,
            labels,
            // An image volume has no consumer pod: bind it at once even on WaitForFirstConsumer classes.
            annotations: { "cdi.kubevirt.io/storage.bind.immediate.requested": "true" },
          },
          spec: {
            source,
            contentType: "kubevirt",
            storage: {
              resources: { requests: { storage: `${input.sizeGiB}Gi` } },
              ...(storage.accessModes === undefined || storage.accessModes.length === 0
                ? {}
                : { accessModes: [...storage.accessModes] as NonNullable<DataVolume["spec"]["storage"]>["accessModes"] }),
              ...(storage.storageClassName === undefined ? {} : { storageClassName: storage.storageClassName }),
            },
          },
        };

  const dataSource: DataSourceObject = {
    apiVersion: "cdi.kubevirt.io/v1beta1",
    kind: "DataSource",
    metadata: { name: volume, namespace, labels },
    spec: { source: { pvc: { name: volume, namespace } } },
  };

  const snapshot: VolumeSnapshotObject | undefined =
    copiesDisk(image) && input.sourceDisk !== undefined && !input.imported
      ? {
          apiVersion: "snapshot.storage.k8s.io/v1",
          kind: "VolumeSnapshot",
          metadata: { name: imageSnapshotName(imageName), namespace, labels },
          spec: { source: { persistentVolumeClaimName: input.sourceDisk.claimName } },
        }
      : undefined;

  const subjects = cloneSubjects(image);
  const rbacName = imageCloneRbacName(imageName);
  const role: RoleObject | undefined =
    subjects === undefined
      ? undefined
      : {
          apiVersion: "rbac.authorization.k8s.io/v1",
          kind: "Role",
          metadata: { name: rbacName, namespace, labels },
          rules: [
            // CDI authorises a cross-namespace clone with this check, for the image's volume only.
            { apiGroups: ["cdi.kubevirt.io"], resources: ["datavolumes/source"], resourceNames: [volume], verbs: ["create"] },
          ],
        };
  const roleBinding: RoleBindingObject | undefined =
    subjects === undefined
      ? undefined
      : {
          apiVersion: "rbac.authorization.k8s.io/v1",
          kind: "RoleBinding",
          metadata: { name: rbacName, namespace, labels },
          roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: rbacName },
          subjects,
        };

  return { dataVolume, dataSource, snapshot, role, roleBinding };
}
