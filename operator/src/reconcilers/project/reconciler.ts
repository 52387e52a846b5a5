// Project reconciler (I/O): namespace, quota and RBAC from the project's spec; deletion refused while the
// project still holds resources, unless the spec asks for cascade.
import {
  ConditionType,
  Finalizer,
  LABELS,
  PROJECT_SCOPED_KINDS,
  projectKind,
  projectNamespace,
  projectOfNamespace,
  type Project,
  type ProjectStatus,
} from "../../api/index.js";
import {
  Builtin,
  Controller,
  applyChild,
  ensureFinalizer,
  removeFinalizer,
  setCondition,
  watchOf,
  writeStatusIfChanged,
  type KubeObject,
  type ReconcileContext,
  type ReconcileOutcome,
  type ResourceType,
  type WatchCache,
  type EventingControllerDeps,
} from "../../kube/index.js";
import { isImplicitProjectObject } from "../securitygroup/default-group.js";
import { QUOTA_NAME, desiredChildren, effectiveQuotas } from "./desired.js";
import { describeRemaining, readyCondition } from "./status.js";

export const PROJECT_CONTROLLER = "project";

export type ProjectControllerDeps = EventingControllerDeps;

interface QuotaObject extends KubeObject {
  status?: { used?: Record<string, string> };
}

const managedSelector = `${LABELS.managedBy}=altostack`;

export function projectController(deps: ProjectControllerDeps): Controller<Project> {
  const projects = deps.caches.get<Project>(projectKind);
  const namespaces = deps.caches.get(Builtin.Namespace);
  const quotas = deps.caches.get<QuotaObject>(Builtin.ResourceQuota, { labelSelector: managedSelector });
  const tenantCaches = PROJECT_SCOPED_KINDS.map((kind) => ({ kind, cache: deps.caches.get(kind) }));
  const toProject = (obj: KubeObject): string[] => {
    const name = obj.metadata.labels?.[LABELS.project] ?? projectOfNamespace(obj.metadata.namespace);
    return name === undefined ? [] : [name];
  };
  const byNamespaceName = (obj: KubeObject): string[] => {
    const name = projectOfNamespace(obj.metadata.name);
    return name === undefined ? [] : [name];
  };

  const reconcile = async (_key: string, ctx: ReconcileContext<Project>): Promise<ReconcileOutcome> => {
    const project = ctx.object;
    if (project === undefined) return undefined; // gone: its children go with it through garbage collection
    const now = deps.now ?? (() => new Date());
    const remaining = countRemaining(tenantCaches, projectNamespace(ctx.name));

    if (project.metadata.deletionTimestamp !== undefined) {
      await reconcileDelete(project, remaining, ctx, now);
      return undefined;
    }

    const current = await ensureFinalizer(deps.client, projectKind, project, Finalizer.project);
    const children = desiredChildren(current);
    const namespaceName = children.namespace.metadata.name ?? "";
    const existing = namespaces.get(namespaceName);
    const namespaceConflict = existing !== undefined && existing.metadata.labels?.[LABELS.project] !== ctx.name;

    if (!namespaceConflict) {
      // Namespace first: everything else lives in it.
      await applyChild(deps.client, Builtin.Namespace, children.namespace, current, ctx.fieldManager);
      await applyChild(deps.client, Builtin.ClusterRole, children.clusterRole, current, ctx.fieldManager);
      await applyChild(deps.client, Builtin.ClusterRoleBinding, children.clusterRoleBinding, current, ctx.fieldManager);
      await applyChild(deps.client, Builtin.ResourceQuota, children.resourceQuota, current, ctx.fieldManager);
      for (const role of children.roles) await applyChild(deps.client, Builtin.Role, role, current, ctx.fieldManager);
      for (const binding of children.roleBindings) {
        await applyChild(deps.client, Builtin.RoleBinding, binding, current, ctx.fieldManager);
      }
    } else {
      deps.events.warning(current, "NamespaceConflict", `namespace ${namespaceName} exists and is not this project's`);
    }

    const verdict = readyCondition({ namespaceName, namespaceConflict, deleting: false, remaining, cascade: false });
    const used = quotas.get(`${namespaceName}/${QUOTA_NAME}`)?.status?.used;
    const status: ProjectStatus = {
      ...current.status,
      observedGeneration: current.metadata.generation,
      namespace: namespaceConflict ? undefined : namespaceName,
      quotas: effectiveQuotas(current),
      ...(used === undefined ? {} : { usage: used }),
      conditions: setCondition(
        current.status?.conditions,
        { type: ConditionType.Ready, ...verdict, observedGeneration: current.metadata.generation },
        now(),
      ),
    };
    await writeStatusIfChanged(deps.client, projectKind, current, status, ctx.fieldManager);
    return undefined;
  };

  async function reconcileDelete(
    project: Project,
    remaining: Record<string, number>,
    ctx: ReconcileContext<Project>,
    now: () => Date,
  ): Promise<void> {
    const left = describeRemaining(remaining);
    if (left === "") {
      // Empty: let garbage collection take the namespace, quota and roles.
      await removeFinalizer(deps.client, projectKind, project, Finalizer.project);
      return;
    }
    const cascade = project.spec.deletionPolicy === "Cascade";
    if (cascade) {
      const namespace = projectNamespace(ctx.name);
      for (const { kind, cache } of tenantCaches) {
        for (const obj of cache.list(namespace)) {
          if (obj.metadata.deletionTimestamp === undefined && obj.metadata.name !== undefined) {
            await deps.client.delete(kind, obj.metadata.name, namespace);
          }
        }
      }
    } else {
      deps.events.warning(project, "DeletionBlocked", `project still holds ${left}`);
    }
    const verdict = readyCondition({
      namespaceName: projectNamespace(ctx.name),
      namespaceConflict: false,
      deleting: true,
      remaining,
      cascade,
    });
    const status: ProjectStatus = {
      ...project.status,
      conditions: setCondition(
        project.status?.conditions,
        { type: ConditionType.Ready, ...verdict, observedGeneration: project.metadata.generation },
        now(),
      ),
    };
    // The watches on the project's objects bring us back when they go; no requeue needed.
    await writeStatusIfChanged(deps.client, projectKind, project, status, ctx.fieldManager);
  }

  return new Controller<Project>({
    name: PROJECT_CONTROLLER,
    cache: projects,
    watches: [
      watchOf(namespaces, byNamespaceName),
      watchOf(quotas, toProject),
      // Only whether the project's objects exist matters here (deletion blocking), not their changes.
      ...tenantCaches.map(({ cache }) => watchOf(cache, toProject, { updates: false })),
    ],
    reconcile,
    logger: deps.logger,
    ...(deps.metrics === undefined ? {} : { metrics: deps.metrics }),
  });
}

function countRemaining(
  caches: readonly { kind: ResourceType & { plural: string }; cache: WatchCache<KubeObject> }[],
  namespace: string,
): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const { kind, cache } of caches) {
    // What the operator creates in every project by itself (the default security group) is not "left".
    const n = cache.list(namespace).filter((obj) => !isImplicitProjectObject(kind, obj)).length;
    if (n > 0) counts[kind.plural] = n;
  }
  return counts;
}
