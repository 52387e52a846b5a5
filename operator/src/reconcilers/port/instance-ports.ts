// Instance ports: for every `{networkRef}` (or `{networkRef, fixedIP}`) entry of a Server's or Container's
// spec.networks, a Port owned by the instance (Nova creates such ports itself). They are applied under the
// instance-ports field manager, deleted when their entry goes, and garbage-collected with the instance; their
// allocations are freed by the port's own finalizer. Explicit `{portRef}` ports are never touched here:
// the port controller binds and unbinds them.
import {
  API_VERSION,
  LABELS,
  MANAGED_BY,
  containerKind,
  portKind,
  projectOfNamespace,
  serverKind,
  type Container,
  type Port,
  type Server,
} from "../../api/index.js";
import {
  Controller,
  applyChild,
  keyOf,
  type CacheSet,
  type KubeClient,
  type Logger,
  type OperatorMetrics,
  type ReconcileContext,
  type ReconcileOutcome,
  type WatchCache,
} from "../../kube/index.js";
import { Index, networkingSources, onlyWhen, specOrDeletionChanged } from "../network/sources.js";
import { DEFAULT_SECURITY_GROUP } from "../securitygroup/default-group.js";
import { autoPortName, type InstanceKind } from "./instance-networking.js";

type InstanceObject = Server | Container;

/** Pure: the ports an instance's `{networkRef}` entries ask for (owner references are added when applied). */
export function desiredInstancePorts(instance: InstanceObject): Port[] {
  const networks = instance.spec.networks ?? [];
  const namespace = instance.metadata.namespace ?? "";
  const project = projectOfNamespace(namespace);
  return networks.flatMap((entry, i) => {
    if (entry.networkRef === undefined) return [];
    return [
      {
        apiVersion: API_VERSION,
        kind: portKind.kind,
        metadata: {
          name: autoPortName(instance.metadata.name ?? "", networks, i),
          namespace,
          labels: { [LABELS.managedBy]: MANAGED_BY, ...(project === undefined ? {} : { [LABELS.project]: project }) },
        },
        spec: {
          networkRef: entry.networkRef,
          ...(entry.fixedIP === undefined ? {} : { fixedIPs: [{ ipAddress: entry.fixedIP }] }),
          // Nova puts a server's ports in its security groups, `default` when it names none.
          securityGroupRefs: instance.spec.securityGroupRefs ?? [DEFAULT_SECURITY_GROUP],
        },
      },
    ];
  });
}

export interface InstancePortsDeps {
  client: KubeClient;
  caches: CacheSet;
  logger: Logger;
  metrics?: OperatorMetrics;
  workers?: number;
}

/** One controller per instance kind: `instance-ports-server`, `instance-ports-container`. */
export function instancePortsController(deps: InstancePortsDeps, kind: InstanceKind): Controller<InstanceObject> {
  const sources = networkingSources(deps.caches);
  const instances = (kind === "Server" ? sources.servers : sources.containers) as WatchCache<InstanceObject>;

  const reconcile = async (_key: string, ctx: ReconcileContext<InstanceObject>): Promise<ReconcileOutcome> => {
    const instance = ctx.object;
    // Gone or going: the ports go with it by garbage collection (after any finalizer of the instance).
    if (instance === undefined || instance.metadata.deletionTimestamp !== undefined) return undefined;
    const desired = desiredInstancePorts(instance);
    const names = new Set(desired.map((p) => p.metadata.name));
    for (const port of desired) await applyChild(deps.client, portKind, port, instance, ctx.fieldManager);
    for (const owned of sources.ports.byIndex(Index.portsByOwner, instance.metadata.uid ?? "")) {
      const controlled = owned.metadata.ownerReferences?.some((r) => r.controller === true && r.uid === instance.metadata.uid);
      if (controlled === true && !names.has(owned.metadata.name) && owned.metadata.deletionTimestamp === undefined) {
        await deps.client.delete(portKind, owned.metadata.name ?? "", owned.metadata.namespace);
      }
    }
    return undefined;
  };

  const rt = kind === "Server" ? serverKind : containerKind;
  return new Controller<InstanceObject>({
    name: `instance-ports-${kind.toLowerCase()}`,
    cache: instances,
    watches: [
      // An owned port deleted or its spec changed by someone else: put it back as the instance says.
      {
        cache: onlyWhen(sources.ports, specOrDeletionChanged),
        mapToKeys: (port) =>
          (port.metadata.ownerReferences ?? [])
            .filter((r) => r.controller === true && r.kind === rt.kind)
            .map((r) => keyOf({ metadata: { namespace: port.metadata.namespace, name: r.name } })),
      },
    ],
    // Only spec changes (and deletion) matter, not the instance's status.
    shouldEnqueueUpdate: (a, b) => a.metadata.generation !== b.metadata.generation,
    reconcile,
    logger: deps.logger,
    ...(deps.workers === undefined ? {} : { workers: deps.workers }),
    ...(deps.metrics === undefined ? {} : { metrics: deps.metrics }),
  });
}
