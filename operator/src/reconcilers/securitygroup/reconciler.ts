// SecurityGroup reconciler (I/O): the group's MultiNetworkPolicy on every NAD of the project's namespace (the
// project's own networks and the shared ones its ports use), and for the `default` group also the project's
// port-security baseline. Policies are owned by the group (same namespace), so garbage collection removes
// them with it. Rules MultiNetworkPolicy cannot express are named in the Ready condition and an Event.
import { ConditionType, Reason, securityGroupKind, type SecurityGroup } from "../../api/index.js";
import {
  Controller,
  Upstream,
  applyChild,
  keyOf,
  objectKey,
  setCondition,
  watchOf,
  writeStatusIfChanged,
  type ReconcileContext,
  type ReconcileOutcome,
  type EventingControllerDeps,
} from "../../kube/index.js";
import { Index, NetworkingLabel, networkingSources, type PolicyObject } from "../network/sources.js";
import type { Verdict } from "../network/status.js";
import { DEFAULT_SECURITY_GROUP } from "./default-group.js";
import { desiredGroupPolicy, portSecurityBaseline } from "./desired.js";

export const SECURITY_GROUP_CONTROLLER = "securitygroup";

export interface SecurityGroupControllerDeps extends EventingControllerDeps {
  workers?: number;
}

type SecurityGroupStatus = NonNullable<SecurityGroup["status"]>;

export function securityGroupController(deps: SecurityGroupControllerDeps): Controller<SecurityGroup> {
  const sources = networkingSources(deps.caches);
  const now = deps.now ?? (() => new Date());

  const reconcile = async (_key: string, ctx: ReconcileContext<SecurityGroup>): Promise<ReconcileOutcome> => {
    const group = ctx.object;
    // Gone or going: its policies are owned by it and go with it.
    if (group === undefined || group.metadata.deletionTimestamp !== undefined) return undefined;
    const namespace = group.metadata.namespace ?? "";
    const nadRefs = sources.nads
      .byIndex(Index.nadsByNamespace, namespace)
      .map((nad) => `${namespace}/${nad.metadata.name ?? ""}`)
      .sort();
    const groups = new Set(
      sources.securityGroups
        .list(namespace)
        .filter((g) => g.metadata.deletionTimestamp === undefined)
        .map((g) => g.metadata.name ?? ""),
    );

    const { policy, unenforced } = desiredGroupPolicy(group, nadRefs, groups);
    const desired: PolicyObject[] = [];
    // Without a network in the namespace there is nothing to filter (an empty policy-for would be ambiguous).
    if (nadRefs.length > 0) {
      desired.push(policy);
      if (group.metadata.name === DEFAULT_SECURITY_GROUP) desired.push(portSecurityBaseline(namespace, nadRefs, group));
    }
    for (const obj of desired) await applyChild(deps.client, Upstream.MultiNetworkPolicy, obj, group, ctx.fieldManager);
    const wanted = new Set(desired.map((p) => p.metadata.name));
    for (const stale of sources.policies.byIndex(Index.policiesBySecurityGroup, group.metadata.uid ?? "")) {
      if (!wanted.has(stale.metadata.name)) {
        await deps.client.delete(Upstream.MultiNetworkPolicy, stale.metadata.name ?? "", stale.metadata.namespace);
      }
    }

    const verdict: Verdict =
      unenforced.length > 0
        ? {
            status: "True",
            reason: Reason.PartiallyEnforced,
            message: `enforced except what MultiNetworkPolicy cannot express: ${unenforced.join("; ")}`,
          }
        : {
            status: "True",
            reason: Reason.Reconciled,
            message:
              nadRefs.length === 0
                ? "no network in this project yet; the rules apply as soon as there is one"
                : `enforced on ${nadRefs.length} network attachment(s)`,
          };
    if (unenforced.length > 0) deps.events.warning(group, verdict.reason, verdict.message);
    const status: SecurityGroupStatus = {
      ...group.status,
      observedGeneration: group.metadata.generation,
      ruleCount: group.spec.rules?.length ?? 0,
      policies: desired.map((p) => p.metadata.name ?? ""),
      conditions: setCondition(
        group.status?.conditions,
        { type: ConditionType.Ready, ...verdict, observedGeneration: group.metadata.generation },
        now(),
      ),
    };
    await writeStatusIfChanged(deps.client, securityGroupKind, group, status, ctx.fieldManager);
    return undefined;
  };

  const groupsIn = (namespace: string | undefined): string[] => sources.securityGroups.list(namespace).map(keyOf);
  const groupKeysByUid = (uid: string | undefined): string[] => {
    if (uid === undefined) return [];
    return sources.securityGroups.list().filter((g) => g.metadata.uid === uid).map(keyOf);
  };

  return new Controller<SecurityGroup>({
    name: SECURITY_GROUP_CONTROLLER,
    cache: sources.securityGroups,
    watches: [
      // A network attachment arriving or leaving changes every group's policy-for.
      watchOf(sources.nads, (nad) => groupsIn(nad.metadata.namespace)),
      // A group appearing or going decides whether others' remote-group rules can be enforced.
      watchOf(sources.securityGroups, (g) =>
        sources.securityGroups.byIndex(Index.securityGroupsByRemote, objectKey(g.metadata.namespace, g.metadata.name ?? "")).map(keyOf),
      ),
      // Someone edited or deleted one of our policies: put it back.
      watchOf(sources.policies, (p) => groupKeysByUid(p.metadata.labels?.[NetworkingLabel.securityGroupUid])),
    ],
    reconcile,
    logger: deps.logger,
    ...(deps.workers === undefined ? {} : { workers: deps.workers }),
    ...(deps.metrics === undefined ? {} : { metrics: deps.metrics }),
  });
}
