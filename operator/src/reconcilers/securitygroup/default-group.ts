// Every project gets OpenStack's `default` security group (members reach each other, egress open). A small
// controller of its own, beside the Project reconciler rather than inside it: it creates the group once the
// project's namespace exists, never overwrites it (tenants add rules to `default`, as in OpenStack), and
// re-creates it if it is deleted while the project lives. The group is owned by the Project, so it goes with it.
// `isImplicitProjectObject` lets the Project reconciler's deletion check not count it as a user resource.
import {
  API_VERSION,
  LABELS,
  MANAGED_BY,
  projectKind,
  projectNamespace,
  projectOfNamespace,
  securityGroupKind,
  type Project,
  type SecurityGroup,
} from "../../api/index.js";
import {
  Builtin,
  Controller,
  isAlreadyExists,
  ownerReference,
  watchOf,
  type CacheSet,
  type KubeClient,
  type KubeObject,
  type Logger,
  type OperatorMetrics,
  type ReconcileContext,
  type ReconcileOutcome,
} from "../../kube/index.js";
import { defaultGroupRules } from "./desired.js";
import { DEFAULT_GROUP_NAME } from "./labels.js";

export const DEFAULT_SECURITY_GROUP = DEFAULT_GROUP_NAME;
export const DEFAULT_SECURITY_GROUP_CONTROLLER = "default-security-group";

/** Objects the operator creates in every project by itself; they do not keep a project from being deleted. */
export function isImplicitProjectObject(kind: { kind: string }, obj: KubeObject): boolean {
  return kind.kind === securityGroupKind.kind && obj.metadata.name === DEFAULT_SECURITY_GROUP;
}

export function defaultSecurityGroup(project: Project): SecurityGroup {
  const name = project.metadata.name ?? "";
  return {
    apiVersion: API_VERSION,
    kind: securityGroupKind.kind,
    metadata: {
      name: DEFAULT_SECURITY_GROUP,
      namespace: projectNamespace(name),
      labels: { [LABELS.managedBy]: MANAGED_BY, [LABELS.project]: name },
      // Not a controller reference: the group is the tenant's to edit; the reference only ties its lifetime.
      ownerReferences: [{ ...ownerReference(project, { controller: false, blockOwnerDeletion: false }) }],
    },
    spec: { description: "Default security group", rules: defaultGroupRules() },
  };
}

export interface DefaultSecurityGroupDeps {
  client: KubeClient;
  caches: CacheSet;
  logger: Logger;
  metrics?: OperatorMetrics;
}

export function defaultSecurityGroupController(deps: DefaultSecurityGroupDeps): Controller<Project> {
  const projects = deps.caches.get<Project>(projectKind);
  const namespaces = deps.caches.get(Builtin.Namespace);
  const groups = deps.caches.get<SecurityGroup>(securityGroupKind);

  const reconcile = async (_key: string, ctx: ReconcileContext<Project>): Promise<ReconcileOutcome> => {
    const project = ctx.object;
    if (project === undefined || project.metadata.deletionTimestamp !== undefined) return undefined;
    const namespace = namespaces.get(projectNamespace(ctx.name));
    // The Project reconciler creates the namespace; a foreign or terminating one is not ours to fill.
    if (namespace?.metadata.labels?.[LABELS.project] !== ctx.name || namespace.metadata.deletionTimestamp !== undefined) {
      return undefined;
    }
    if (groups.get(`${projectNamespace(ctx.name)}/${DEFAULT_SECURITY_GROUP}`) !== undefined) return undefined;
    try {
      await deps.client.create(securityGroupKind, defaultSecurityGroup(project), { fieldManager: ctx.fieldManager });
      ctx.log.info("created the project's default security group");
    } catch (e) {
      if (!isAlreadyExists(e)) throw e;
    }
    return undefined;
  };

  const projectOf = (obj: KubeObject): string[] => {
    const name = projectOfNamespace(obj.metadata.namespace);
    return name === undefined || obj.metadata.name !== DEFAULT_SECURITY_GROUP ? [] : [name];
  };
  return new Controller<Project>({
    name: DEFAULT_SECURITY_GROUP_CONTROLLER,
    cache: projects,
    watches: [
      watchOf(namespaces, (ns) => {
        const name = projectOfNamespace(ns.metadata.name);
        return name === undefined ? [] : [name];
      }),
      watchOf(groups, projectOf),
    ],
    // Only creation matters; a project's updates do not change its default group.
    shouldEnqueueUpdate: () => false,
    reconcile,
    logger: deps.logger,
    ...(deps.metrics === undefined ? {} : { metrics: deps.metrics }),
  });
}
