// Server-side apply helpers: the field manager name, children with a controller ownerReference (or
// owner labels where Kubernetes forbids the reference), and status writes that skip no-op updates.
import type { ApplyOptions, KubeClient } from "./client.js";
import { statusChanged } from "./conditions.js";
import { apiVersionOf, type KubeObject, type OwnerReference, type ResourceType } from "./resources.js";

/** Labels linking a child to an owner it cannot carry an ownerReference to (e.g. across namespaces). */
export const OwnerLabel = {
  kind: "altostack.io/owner-kind",
  name: "altostack.io/owner-name",
  namespace: "altostack.io/owner-namespace",
  uid: "altostack.io/owner-uid",
} as const;

/**
 * The owner's name as an annotation too: names may be up to 253 characters, label values only 63,
 * so the label is set only when the name fits and readers fall back to the annotation.
 */
export const OwnerNameAnnotation = "altostack.io/owner-name";

export const FIELD_MANAGER_PREFIX = "altostack-";

/** The SSA field manager of a controller: `altostack-<name>`. */
export function fieldManager(controllerName: string): string {
  return `${FIELD_MANAGER_PREFIX}${controllerName}`;
}

/** Kubernetes garbage collection only follows references a child may legally hold. */
export function canOwnerReference(
  owner: { namespace?: string | undefined },
  child: { namespaced: boolean; namespace?: string | undefined },
): boolean {
  const ownerNamespace = owner.namespace ?? "";
  if (ownerNamespace === "") return true; // cluster-scoped owners may own anything
  return child.namespaced && child.namespace === ownerNamespace;
}

export function ownerReference(
  owner: KubeObject,
  opts: { controller?: boolean; blockOwnerDeletion?: boolean } = {},
): OwnerReference {
  const { apiVersion, kind } = owner;
  const { name, uid } = owner.metadata;
  if (apiVersion === undefined || kind === undefined || name === undefined || uid === undefined) {
    throw new Error("an owner needs apiVersion, kind, metadata.name and metadata.uid");
  }
  return {
    apiVersion,
    kind,
    name,
    uid,
    controller: opts.controller ?? true,
    blockOwnerDeletion: opts.blockOwnerDeletion ?? true,
  };
}

/** Returns `desired` linked to `owner`: a controller ownerReference where legal, owner labels otherwise. */
export function withOwner<T extends KubeObject>(rt: ResourceType, desired: T, owner: KubeObject): T {
  const childNamespace = rt.namespaced ? desired.metadata.namespace : undefined;
  if (canOwnerReference(owner.metadata, { namespaced: rt.namespaced, namespace: childNamespace })) {
    const ref = ownerReference(owner);
    const others = (desired.metadata.ownerReferences ?? []).filter((r) => r.uid !== ref.uid);
    return { ...desired, metadata: { ...desired.metadata, ownerReferences: [...others, ref] } };
  }
  const ref = ownerReference(owner);
  const labels: Record<string, string> = {
    ...desired.metadata.labels,
    [OwnerLabel.kind]: ref.kind,
    [OwnerLabel.uid]: ref.uid,
  };
  if (owner.metadata.namespace !== undefined) labels[OwnerLabel.namespace] = owner.metadata.namespace;
  if (isLabelValue(ref.name)) labels[OwnerLabel.name] = ref.name;
  const annotations = { ...desired.metadata.annotations, [OwnerNameAnnotation]: ref.name };
  return { ...desired, metadata: { ...desired.metadata, labels, annotations } };
}

/** Server-side applies `desired` as a child of `owner` (see withOwner). */
export async function applyChild<T extends KubeObject>(
  client: Pick<KubeClient, "apply">,
  rt: ResourceType,
  desired: T,
  owner: KubeObject,
  manager: string,
  opts: Omit<ApplyOptions, "fieldManager"> = {},
): Promise<T> {
  return client.apply<T>(rt, withOwner(rt, desired, owner), { ...opts, fieldManager: manager });
}

export interface OwnerFromLabels {
  kind: string;
  name: string;
  namespace: string | undefined;
  uid: string;
}

/** The owner a child points to through owner labels, if it has them. */
export function ownerFromLabels(obj: KubeObject): OwnerFromLabels | undefined {
  const labels = obj.metadata.labels ?? {};
  const kind = labels[OwnerLabel.kind];
  const uid = labels[OwnerLabel.uid];
  const name = labels[OwnerLabel.name] ?? obj.metadata.annotations?.[OwnerNameAnnotation];
  if (kind === undefined || uid === undefined || name === undefined) return undefined;
  return { kind, name, namespace: labels[OwnerLabel.namespace], uid };
}

/** Label selector for the children an owner links to by labels (used to clean them up). */
export function ownerLabelSelector(owner: KubeObject): string {
  const uid = owner.metadata.uid;
  if (uid === undefined) throw new Error("owner has no uid");
  return `${OwnerLabel.uid}=${uid}`;
}

/**
 * Applies `newStatus` to the status subresource when it differs from `obj.status`. Returns the
 * updated object, or undefined when nothing was written.
 */
export async function writeStatusIfChanged<T extends KubeObject & { status?: unknown }>(
  client: Pick<KubeClient, "applyStatus">,
  rt: ResourceType,
  obj: T,
  newStatus: NonNullable<T["status"]>,
  manager: string,
): Promise<T | undefined> {
  if (!statusChanged(obj.status, newStatus)) return undefined;
  const { name, namespace } = obj.metadata;
  if (name === undefined) throw new Error(`${rt.kind} object has no metadata.name`);
  return client.applyStatus<T>(
    rt,
    {
      apiVersion: apiVersionOf(rt),
      kind: rt.kind,
      metadata: namespace === undefined ? { name } : { name, namespace },
      status: newStatus,
    },
    { fieldManager: manager },
  );
}

const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;

function isLabelValue(value: string): boolean {
  return value.length <= 63 && LABEL_VALUE.test(value);
}
