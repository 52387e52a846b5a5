// SecurityGroup reconciler (I/O): the group's MultiNetworkPolicies, one per network (the project's own or a
// shared one) that has ports of the namespace in the group, each for that network's NAD only; for the
// `default` group also the project's port-security baseline, one per network with ports with port security.
// Policies are owned by the group (same namespace), so garbage collection removes them with it; the group's
// policies no longer wanted (a network without ports in it any more, or the single all-networks policy of
// earlier versions) are deleted. Rules MultiNetworkPolicy cannot express are named in the Ready condition
// and an Event.
import { ConditionType, Reason, securityGroupKind, type Port, type SecurityGroup } from "../../api/index.js";
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
import { nadReference } from "../network/desired.js";
import {
  Index,
  NetworkingLabel,
  networkingSources,
  onlyWhen,
  specOrDeletionChanged,
  type PolicyObject,
} from "../network/sources.js";
import type { Verdict } from "../network/status.js";
import { DEFAULT_SECURITY_GROUP } from "./default-group.js";
import {
  desiredGroupPolicies,
  networksOfGroup,
  networksWithPortSecurity,
  portSecurityBaseline,
  type PortOnNetwork,
} from "./desired.js";
import { portNetworkKey } from "./labels.js";

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
    const groupName = group.metadata.name ?? "";
    const ports = portsOnNetworks(namespace);
    const groups = new Set(
      sources.securityGroups
        .list(namespace)
        .filter((g) => g.metadata.deletionTimestamp === undefined)
        .map((g) => g.metadata.name ?? ""),
    );

    const { policies, unenforced } = desiredGroupPolicies(group, networksOfGroup(groupName, ports), groups);
    const desired: PolicyObject[] = [...policies];
    if (groupName === DEFAULT_SECURITY_GROUP) {
      desired.push(...networksWithPortSecurity(ports).map((network) => portSecurityBaseline(namespace, network, group)));
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
              policies.length === 0
                ? "no port is in this group yet; the rules apply to each network as ports in the group join it"
                : `enforced on ${policies.length} network(s), for the ports in this group there`,
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

  /**
   * The namespace's ports whose network is attached here (has its NAD in the namespace): before that no pod
   * can use them, so there is nothing to filter. Ports of a missing network wait for it the same way.
   */
  const portsOnNetworks = (namespace: string): PortOnNetwork[] =>
    sources.ports.list(namespace).flatMap((port) => {
      const network = sources.networks.get(portNetworkKey(port));
      if (network === undefined) return [];
      const nadRef = nadReference(network, namespace);
      return sources.nads.get(nadRef) === undefined ? [] : [{ port, network, nadRef }];
    });

  const groupsIn = (namespace: string | undefined): string[] => sources.securityGroups.list(namespace).map(keyOf);
  /** The groups a port is or may be in (the controller maps both versions of an update, so leavers too). */
  const groupsOfPort = (port: Port): string[] =>
    [...(port.spec.securityGroupRefs ?? []), DEFAULT_SECURITY_GROUP].map((name) => objectKey(port.metadata.namespace, name));
  /** Every group of the namespaces with ports on the network (its port security decides their groups). */
  const groupsOfNetworkPorts = (networkKey: string): string[] => [
    ...new Set(sources.ports.byIndex(Index.portsByNetwork, networkKey).flatMap((p) => groupsIn(p.metadata.namespace))),
  ];
  const groupKeysByUid = (uid: string | undefined): string[] => {
    if (uid === undefined) return [];
    return sources.securityGroups.list().filter((g) => g.metadata.uid === uid).map(keyOf);
  };

  return new Controller<SecurityGroup>({
    name: SECURITY_GROUP_CONTROLLER,
    cache: sources.securityGroups,
    watches: [
      // A network attachment arriving or leaving brings or ends the policies for that network.
      watchOf(sources.nads, (nad) => groupsIn(nad.metadata.namespace)),
      // A port joining or leaving a group or a network (spec; its status churn does not matter here).
      { cache: onlyWhen(sources.ports, specOrDeletionChanged), mapToKeys: (p) => groupsOfPort(p as Port) },
      // A network's port security decides whether its ports are in any group.
      { cache: onlyWhen(sources.networks, specOrDeletionChanged), mapToKeys: (n) => groupsOfNetworkPorts(keyOf(n)) },
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
