// Status writes that name allocated values (a port's MAC and addresses, a network's segment) carry the
// resourceVersion the reconcile planned from. Server-side apply treats a resourceVersion in the applied
// object as a precondition, so a reconcile working from a stale view gets 409 Conflict instead of
// overwriting a newer decision, and is retried with fresh state.
import {
  apiVersionOf,
  isConflict,
  isNotFound,
  statusChanged,
  type KubeClient,
  type KubeObject,
  type ReconcileContext,
  type ReconcileOutcome,
  type ResourceType,
} from "../../kube/index.js";

export interface GuardedStatusOptions {
  /** Write even when nothing changed: to prove the plan was made on the latest version before releasing surplus. */
  always?: boolean;
}

/** Returns true when a write was sent (and accepted). Throws Conflict when `obj` is no longer the latest version. */
export async function writeStatusGuarded<T extends KubeObject & { status?: unknown }>(
  client: Pick<KubeClient, "applyStatus">,
  rt: ResourceType,
  obj: T,
  status: NonNullable<T["status"]>,
  fieldManager: string,
  opts: GuardedStatusOptions = {},
): Promise<boolean> {
  if (opts.always !== true && !statusChanged(obj.status, status)) return false;
  const { name, namespace, resourceVersion } = obj.metadata;
  if (name === undefined || resourceVersion === undefined) {
    throw new Error(`${rt.kind} object needs metadata.name and metadata.resourceVersion for a guarded status write`);
  }
  await client.applyStatus(
    rt,
    {
      apiVersion: apiVersionOf(rt),
      kind: rt.kind,
      metadata: { name, ...(namespace === undefined ? {} : { namespace }), resourceVersion },
      status,
    },
    { fieldManager },
  );
  return true;
}

/** Finalizer removal when another replica may have finished the deletion first: gone is done. */
export async function ignoreNotFound(write: Promise<unknown>): Promise<void> {
  try {
    await write;
  } catch (e) {
    if (!isNotFound(e)) throw e;
  }
}

/**
 * Wraps a reconcile so that a 409 Conflict ends it quietly instead of as a failure. A Conflict on our
 * resourceVersion-guarded writes (status, finalizers) proves a newer version of the object exists; its
 * watch event brings the key back (the queue re-adds a key that changes while it is being processed), so
 * there is nothing to back off from — with two replicas reconciling at once this is the common case.
 */
export function conflictsComeBackThroughTheWatch<T>(
  reconcile: (key: string, ctx: ReconcileContext<T>) => Promise<ReconcileOutcome>,
): (key: string, ctx: ReconcileContext<T>) => Promise<ReconcileOutcome> {
  return async (key, ctx) => {
    try {
      return await reconcile(key, ctx);
    } catch (e) {
      if (!isConflict(e)) throw e;
      ctx.log.debug({ err: e }, "lost a write race; the newer version will be reconciled");
      return undefined;
    }
  };
}
