// Resource types (group/version/kind/plural/scope), REST paths, the object shape every kind shares,
// and the cache-key format. Our own kinds' ResourceTypes come from operator/src/api; a DefinedKind
// there is structurally a ResourceType and can be passed wherever one is expected.

export interface ResourceType {
  readonly group: string;
  readonly version: string;
  readonly kind: string;
  readonly plural: string;
  readonly namespaced: boolean;
}

export interface OwnerReference {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
  controller?: boolean;
  blockOwnerDeletion?: boolean;
}

export interface ObjectMeta {
  /** Optional only because create() with generateName leaves it empty; every stored object has one. */
  name?: string;
  generateName?: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  generation?: number;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  finalizers?: string[];
  ownerReferences?: OwnerReference[];
  deletionTimestamp?: string;
  deletionGracePeriodSeconds?: number;
  creationTimestamp?: string;
  managedFields?: unknown[];
}

/** The part every Kubernetes object has; kinds extend it with spec/status/data. */
export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata: ObjectMeta;
}

/** `v1` for the core group, `group/version` otherwise. */
export function apiVersionOf(rt: ResourceType): string {
  return rt.group === "" ? rt.version : `${rt.group}/${rt.version}`;
}

/** The group part of an apiVersion (`""` for the core group). */
export function groupOf(apiVersion: string): string {
  const slash = apiVersion.indexOf("/");
  return slash < 0 ? "" : apiVersion.slice(0, slash);
}

/**
 * The REST path of a collection (no name), an object, or an object's subresource.
 * A namespaced type without a namespace addresses the all-namespaces collection (list/watch only).
 */
export function apiPath(rt: ResourceType, namespace?: string, name?: string, subresource?: string): string {
  const base = rt.group === "" ? `/api/${rt.version}` : `/apis/${rt.group}/${rt.version}`;
  if (!rt.namespaced && namespace !== undefined && namespace !== "") {
    throw new Error(`${rt.kind} is cluster-scoped but namespace ${namespace} was given`);
  }
  if (rt.namespaced && name !== undefined && (namespace === undefined || namespace === "")) {
    throw new Error(`${rt.kind} ${name} is namespaced but no namespace was given`);
  }
  if (subresource !== undefined && (name === undefined || name === "")) {
    throw new Error(`subresource ${subresource} of ${rt.kind} needs a name`);
  }
  let path = base;
  if (rt.namespaced && namespace !== undefined && namespace !== "") {
    path += `/namespaces/${encodeURIComponent(namespace)}`;
  }
  path += `/${rt.plural}`;
  if (name !== undefined && name !== "") path += `/${encodeURIComponent(name)}`;
  // Subresources may have several segments (e.g. "proxy/healthz"); only the segments are encoded.
  if (subresource !== undefined) path += `/${subresource.split("/").map(encodeURIComponent).join("/")}`;
  return path;
}

/** Cache/queue key: `namespace/name`, or `name` for cluster-scoped objects. */
export function objectKey(namespace: string | undefined, name: string): string {
  return namespace === undefined || namespace === "" ? name : `${namespace}/${name}`;
}

export function keyOf(obj: KubeObject): string {
  return objectKey(obj.metadata.namespace, obj.metadata.name ?? "");
}

export function parseKey(key: string): { namespace: string | undefined; name: string } {
  const slash = key.indexOf("/");
  return slash < 0 ? { namespace: undefined, name: key } : { namespace: key.slice(0, slash), name: key.slice(slash + 1) };
}

const rt = (group: string, version: string, kind: string, plural: string, namespaced: boolean): ResourceType =>
  Object.freeze({ group, version, kind, plural, namespaced });

/** Built-in Kubernetes types the operator uses. */
export const Builtin = {
  Namespace: rt("", "v1", "Namespace", "namespaces", false),
  ResourceQuota: rt("", "v1", "ResourceQuota", "resourcequotas", true),
  ServiceAccount: rt("", "v1", "ServiceAccount", "serviceaccounts", true),
  Secret: rt("", "v1", "Secret", "secrets", true),
  ConfigMap: rt("", "v1", "ConfigMap", "configmaps", true),
  Pod: rt("", "v1", "Pod", "pods", true),
  Node: rt("", "v1", "Node", "nodes", false),
  PersistentVolumeClaim: rt("", "v1", "PersistentVolumeClaim", "persistentvolumeclaims", true),
  PersistentVolume: rt("", "v1", "PersistentVolume", "persistentvolumes", false),
  Role: rt("rbac.authorization.k8s.io", "v1", "Role", "roles", true),
  RoleBinding: rt("rbac.authorization.k8s.io", "v1", "RoleBinding", "rolebindings", true),
  ClusterRole: rt("rbac.authorization.k8s.io", "v1", "ClusterRole", "clusterroles", false),
  ClusterRoleBinding: rt("rbac.authorization.k8s.io", "v1", "ClusterRoleBinding", "clusterrolebindings", false),
  Lease: rt("coordination.k8s.io", "v1", "Lease", "leases", true),
  Event: rt("events.k8s.io", "v1", "Event", "events", true),
  StorageClass: rt("storage.k8s.io", "v1", "StorageClass", "storageclasses", false),
  CustomResourceDefinition: rt(
    "apiextensions.k8s.io",
    "v1",
    "CustomResourceDefinition",
    "customresourcedefinitions",
    false,
  ),
} as const;
export type BuiltinKind = keyof typeof Builtin;

/** Kinds of the projects Altostack builds on: KubeVirt, CDI, Multus, CSI snapshots. */
export const Upstream = {
  VirtualMachine: rt("kubevirt.io", "v1", "VirtualMachine", "virtualmachines", true),
  VirtualMachineInstance: rt("kubevirt.io", "v1", "VirtualMachineInstance", "virtualmachineinstances", true),
  VirtualMachineInstanceMigration: rt(
    "kubevirt.io",
    "v1",
    "VirtualMachineInstanceMigration",
    "virtualmachineinstancemigrations",
    true,
  ),
  VirtualMachineClusterInstancetype: rt(
    "instancetype.kubevirt.io",
    "v1beta1",
    "VirtualMachineClusterInstancetype",
    "virtualmachineclusterinstancetypes",
    false,
  ),
  VirtualMachineExport: rt("export.kubevirt.io", "v1beta1", "VirtualMachineExport", "virtualmachineexports", true),
  DataVolume: rt("cdi.kubevirt.io", "v1beta1", "DataVolume", "datavolumes", true),
  DataSource: rt("cdi.kubevirt.io", "v1beta1", "DataSource", "datasources", true),
  NetworkAttachmentDefinition: rt(
    "k8s.cni.cncf.io",
    "v1",
    "NetworkAttachmentDefinition",
    "network-attachment-definitions",
    true,
  ),
  MultiNetworkPolicy: rt("k8s.cni.cncf.io", "v1beta1", "MultiNetworkPolicy", "multi-networkpolicies", true),
  VolumeSnapshot: rt("snapshot.storage.k8s.io", "v1", "VolumeSnapshot", "volumesnapshots", true),
  VolumeSnapshotClass: rt("snapshot.storage.k8s.io", "v1", "VolumeSnapshotClass", "volumesnapshotclasses", false),
  VolumeSnapshotContent: rt(
    "snapshot.storage.k8s.io",
    "v1",
    "VolumeSnapshotContent",
    "volumesnapshotcontents",
    false,
  ),
} as const;
export type UpstreamKind = keyof typeof Upstream;
