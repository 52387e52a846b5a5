// Finalizers via a JSON patch that carries the resourceVersion the controller read. The apiserver
// then enforces it as a precondition: if the object changed in between, the patch fails with 409
// Conflict and the key is retried with fresh state, so a finalizer is never added to or removed
// from a version the controller has not seen.
//
// Why not a JSON-patch `test` of /metadata/resourceVersion: a failed `test` comes back as an opaque
// 422 Invalid ("the server rejected our request…", no details), indistinguishable from a genuinely
// invalid patch. Replacing the resourceVersion gets a real Conflict (checked in
// operator/test/kube-plumbing.test.ts). The whole list is written, never an index, so a list that
// shifted underneath cannot make the patch itself fail before the precondition is checked.
import type { KubeClient } from "./client.js";
import type { KubeObject, ResourceType } from "./resources.js";

type PatchClient = Pick<KubeClient, "patch">;

export function hasFinalizer(obj: KubeObject, finalizer: string): boolean {
  return obj.metadata.finalizers?.includes(finalizer) ?? false;
}

/**
 * Adds the finalizer unless present. Returns the updated object (or `obj` when nothing changed).
 * An object already being deleted is returned unchanged: Kubernetes refuses new finalizers then.
 */
export async function ensureFinalizer<T extends KubeObject>(
  client: PatchClient,
  rt: ResourceType,
  obj: T,
  finalizer: string,
): Promise<T> {
  if (hasFinalizer(obj, finalizer) || obj.metadata.deletionTimestamp !== undefined) return obj;
  return writeFinalizers(client, rt, obj, [...(obj.metadata.finalizers ?? []), finalizer]);
}

/** Removes the finalizer if present. Returns the updated object (or `obj` when nothing changed). */
export async function removeFinalizer<T extends KubeObject>(
  client: PatchClient,
  rt: ResourceType,
  obj: T,
  finalizer: string,
): Promise<T> {
  if (!hasFinalizer(obj, finalizer)) return obj;
  return writeFinalizers(
    client,
    rt,
    obj,
    (obj.metadata.finalizers ?? []).filter((f) => f !== finalizer),
  );
}

async function writeFinalizers<T extends KubeObject>(
  client: PatchClient,
  rt: ResourceType,
  obj: T,
  finalizers: readonly string[],
): Promise<T> {
  const { name, namespace, resourceVersion } = obj.metadata;
  if (name === undefined || resourceVersion === undefined) {
    throw new Error(`${rt.kind} object needs metadata.name and metadata.resourceVersion to patch finalizers`);
  }
  const patch = [
    { op: "replace", path: "/metadata/resourceVersion", value: resourceVersion },
    { op: "add", path: "/metadata/finalizers", value: finalizers },
  ];
  return client.patch<T>(rt, name, namespace, patch, "json");
}
