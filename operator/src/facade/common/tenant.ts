// Reading and writing a project's objects as the caller — the one place the facade's tenant rules live:
// - reads come from the cache, restricted to the caller's project namespace, after the apiserver agreed (as the
//   caller) that they may list that kind there; anything outside is "not found", as OpenStack answers;
// - writes go through the caller's impersonating client, so RBAC and quota decide; the answer waits until the
//   cache has the write, so the client reads its own write right after.
import { isAlreadyExists, isConflict, type KubeObject, type ResourceType } from "../../kube/index.js";
import { requireAccess, requireProject, type Caller, type CallerProject } from "./caller.js";
import { ApiError, type FaultStyle } from "./errors.js";
import { fromKubeError, type FailedAction } from "./kube-errors.js";
import { chooseObjectName, type NameChoice } from "./names.js";
import type { FacadeStore } from "./store.js";

export type TenantKind = ResourceType & { plural: string; kind: string };

/** The field manager of every facade write. */
export const FACADE_MANAGER = "altostack-facade";
/** How often a guarded read-modify-write is retried after conflicts before giving up with a 409. */
const GUARDED_ATTEMPTS = 5;

export class TenantAccess {
  constructor(
    private readonly store: FacadeStore,
    private readonly style: FaultStyle,
  ) {}

  /** The caller's objects of `kind` (403 when the caller may not list them at all). */
  async list<T extends KubeObject>(caller: Caller, kind: TenantKind, policy: string): Promise<T[]> {
    const project = requireProject(caller);
    await requireAccess(caller, { verb: "list", resource: kind, namespace: project.namespace }, policy);
    return this.store.inNamespace<T>(kind, project.namespace);
  }

  /**
   * Every object of `kind` in any namespace, for cloud admins listing across projects (Nova's all_tenants):
   * the apiserver must agree the caller may list the kind cluster-wide.
   */
  async listAll<T extends KubeObject>(caller: Caller, kind: TenantKind, policy: string): Promise<T[]> {
    await requireAccess(caller, { verb: "list", resource: kind }, policy);
    return this.store.all<T>(kind);
  }

  /** The caller's object with this OpenStack id, or undefined (also for other projects' objects). */
  async find<T extends KubeObject>(caller: Caller, kind: TenantKind, id: string, policy: string): Promise<T | undefined> {
    const project = requireProject(caller);
    const obj = this.store.byUid<T>(kind, id);
    if (obj === undefined) return undefined;
    if (obj.metadata.namespace !== project.namespace) {
      // Cloud admins see every project's objects, if the apiserver lets them read there.
      if (!caller.cloudAdmin) return undefined;
      await requireAccess(caller, { verb: "get", resource: kind, namespace: obj.metadata.namespace }, policy);
      return obj;
    }
    await requireAccess(caller, { verb: "get", resource: kind, namespace: project.namespace }, policy);
    return obj;
  }

  /**
   * Creates an object named after its OpenStack name (see chooseObjectName), retrying once with a fresh name
   * if another writer took it first.
   */
  async create<T extends KubeObject>(
    caller: Caller,
    kind: TenantKind,
    name: string,
    build: (choice: NameChoice, project: CallerProject) => T,
    failed: FailedAction,
    opts: { fallback: string; maxLength?: number } = { fallback: kind.kind.toLowerCase() },
  ): Promise<T> {
    const project = requireProject(caller);
    const taken = (candidate: string): boolean => this.store.get(kind, `${project.namespace}/${candidate}`) !== undefined;
    for (let attempt = 0; ; attempt++) {
      const choice =
        attempt === 0
          ? chooseObjectName(name, { fallback: opts.fallback, maxLength: opts.maxLength, taken })
          : chooseObjectName(name, { fallback: opts.fallback, maxLength: opts.maxLength, taken: () => true });
      const object = build(choice, project);
      try {
        return await this.store.write(kind, () => caller.kube.create<T>(kind, object, { fieldManager: FACADE_MANAGER }));
      } catch (e) {
        if (attempt === 0 && isAlreadyExists(e)) continue;
        throw fromKubeError(e, this.style, failed);
      }
    }
  }

  /** A JSON merge patch of the object, as the caller. */
  async patch<T extends KubeObject>(caller: Caller, kind: TenantKind, obj: KubeObject, patch: unknown, failed: FailedAction): Promise<T> {
    try {
      return await this.store.write(kind, () =>
        caller.kube.patch<T>(kind, obj.metadata.name ?? "", obj.metadata.namespace, patch, "merge", { fieldManager: FACADE_MANAGER }),
      );
    } catch (e) {
      throw fromKubeError(e, this.style, failed);
    }
  }

  /**
   * Read-modify-write of an object's spec (lists are replaced whole, so a concurrent change must not be lost):
   * `change` computes the spec patch from the current object; the patch is guarded by its resourceVersion and,
   * when someone else wrote in between (a controller adding a finalizer, another client), recomputed on a fresh
   * read. `change` may throw an ApiError when the fresh object makes the request invalid.
   */
  async patchGuarded<T extends KubeObject>(
    caller: Pick<Caller, "kube">,
    kind: TenantKind,
    obj: T,
    change: (current: T) => Record<string, unknown>,
    failed: FailedAction,
  ): Promise<T> {
    let current: T | undefined = obj;
    for (let attempt = 0; attempt < GUARDED_ATTEMPTS && current !== undefined; attempt++) {
      const spec = change(current);
      const version = current.metadata.resourceVersion;
      try {
        return await this.store.write(kind, () =>
          caller.kube.patch<T>(kind, obj.metadata.name ?? "", obj.metadata.namespace, { metadata: { resourceVersion: version }, spec }, "merge", {
            fieldManager: FACADE_MANAGER,
          }),
        );
      } catch (e) {
        if (!isConflict(e)) throw fromKubeError(e, this.style, failed);
        current = await caller.kube.get<T>(kind, obj.metadata.name ?? "", obj.metadata.namespace);
      }
    }
    if (current === undefined) throw fromKubeError(new ApiError(404, `${failed.subject} could not be found.`), this.style, failed);
    throw fromKubeError(new ApiError(409, `${failed.subject} kept changing; retry the request.`), this.style, failed);
  }

  /**
   * Deletes as the caller. `foreground`: the object stays (being deleted) until garbage collection has removed
   * what it owns — a server's ports go before the server does, as in Nova, so `server delete --wait` followed by
   * `subnet delete` finds the subnet free.
   */
  async delete(caller: Caller, kind: TenantKind, obj: KubeObject, failed: FailedAction, opts: { foreground?: boolean } = {}): Promise<void> {
    try {
      await caller.kube.delete(kind, obj.metadata.name ?? "", obj.metadata.namespace, {
        preconditions: { uid: obj.metadata.uid ?? "" },
        ...(opts.foreground === true ? { propagationPolicy: "Foreground" as const } : {}),
      });
    } catch (e) {
      throw fromKubeError(e, this.style, failed);
    }
    await this.store.deleted(kind, obj);
  }
}
