// Port reconciler (I/O): a MAC and fixed IPs through the allocation arbiter, the binding to the server or
// container that uses the port, and Neutron's status. Values are named in status only after their
// Allocation is ours, status writes are guarded by the port's resourceVersion, and allocations the port no
// longer needs are released only after such a write succeeded (see ipam/arbiter.ts). Deletion frees every
// allocation the port holds, read live so that none is missed.
import {
  Finalizer,
  Reason,
  containerKind,
  portKind,
  serverKind,
  type Allocation,
  type Container,
  type Port,
  type Server,
  type Subnet,
} from "../../api/index.js";
import {
  Controller,
  ensureFinalizer,
  keyOf,
  objectKey,
  removeFinalizer,
  withReady as withReadyCondition,
  writeStatusIfChanged,
  type KubeObject,
  type ReconcileContext,
  type ReconcileOutcome,
  type EventingControllerDeps,
} from "../../kube/index.js";
import { fillSlots, listHeld, openSlots, release, surplusOf } from "../ipam/arbiter.js";
import { conflictsComeBackThroughTheWatch, ignoreNotFound, writeStatusGuarded } from "../ipam/guarded-status.js";
import {
  Index,
  deletesOnly,
  hasJoined,
  networkKeyOf,
  networkingSources,
  notReady,
  onlyWhen,
  specOrDeletionChanged,
  subnetNetworkKey,
  subnetsOf,
} from "../network/sources.js";
import { networkUsableFrom } from "../network/desired.js";
import type { Verdict } from "../network/status.js";
import { DEFAULT_GROUP_NAME, effectiveSecurityGroups } from "../securitygroup/labels.js";
import { evaluateSubnet } from "../subnet/evaluate.js";
import { allocationFailureVerdict, portBinding, portNeutronStatus, readyPortVerdict, type Instance } from "./binding.js";
import { macSlot, planAddresses, type PlannerSubnet } from "./plan.js";

export const PORT_CONTROLLER = "port";

export interface PortControllerDeps extends EventingControllerDeps {
  workers?: number;
}

type PortStatus = NonNullable<Port["status"]>;

export function portController(deps: PortControllerDeps): Controller<Port> {
  const sources = networkingSources(deps.caches);
  const now = deps.now ?? (() => new Date());

  const withReady = (port: Port, status: PortStatus, verdict: Verdict): PortStatus => withReadyCondition(port, status, verdict, now());

  /** The instance owning the port (auto-created ports), and every instance naming it in spec.networks. */
  const bindingOf = (port: Port) => {
    const ns = port.metadata.namespace;
    const ownerRef = port.metadata.ownerReferences?.find((r) => r.controller === true);
    let owner: Instance | undefined;
    if (ownerRef?.kind === serverKind.kind) {
      const server = sources.servers.get(objectKey(ns, ownerRef.name));
      if (server?.metadata.uid === ownerRef.uid) owner = { kind: "Server", object: server };
    } else if (ownerRef?.kind === containerKind.kind) {
      const container = sources.containers.get(objectKey(ns, ownerRef.name));
      if (container?.metadata.uid === ownerRef.uid) owner = { kind: "Container", object: container };
    }
    const key = keyOf(port);
    const referrers: Instance[] = [
      ...sources.servers.byIndex(Index.instancesByPort, key).map((object) => ({ kind: "Server" as const, object })),
      ...sources.containers.byIndex(Index.instancesByPort, key).map((object) => ({ kind: "Container" as const, object })),
    ];
    return portBinding(owner, referrers);
  };

  const reconcile = async (_key: string, ctx: ReconcileContext<Port>): Promise<ReconcileOutcome> => {
    if (ctx.object === undefined) return undefined; // allocations of a vanished port are the ipam controller's
    if (ctx.object.metadata.deletionTimestamp !== undefined) {
      for (const allocation of await listHeld(deps.client, ctx.object.metadata.uid ?? "")) {
        await release(deps.client, allocation);
      }
      await ignoreNotFound(removeFinalizer(deps.client, portKind, ctx.object, Finalizer.port));
      return undefined;
    }
    const port = await ensureFinalizer(deps.client, portKind, ctx.object, Finalizer.port);
    const namespace = port.metadata.namespace;
    const networkKey = networkKeyOf(namespace, port.spec.networkRef);
    const network = sources.networks.get(networkKey);
    const binding = bindingOf(port);
    const bindingStatus = binding === undefined ? {} : { deviceId: binding.deviceId, deviceOwner: binding.deviceOwner };

    // Another project's network is visible only when shared (or, once unshared, to the ports that joined it
    // while it was: holding their MAC and addresses); otherwise it does not exist for this port.
    if (network === undefined || !networkUsableFrom(network, namespace, hasJoined(sources, port))) {
      const status = withReady(port, { ...port.status, ...bindingStatus, status: "DOWN" }, {
        status: "False",
        reason: Reason.DependencyNotFound,
        message: `network ${port.spec.networkRef} not found; create it (or use a shared network) first`,
      });
      await writeStatusIfChanged(deps.client, portKind, port, status, ctx.fieldManager);
      return undefined;
    }

    const holder = { kind: portKind.kind, namespace, name: ctx.name, uid: port.metadata.uid ?? "" };
    const slotDeps = { client: deps.client, allocations: sources.allocations, fieldManager: ctx.fieldManager };
    const session = openSlots(sources.allocations, holder);
    const failures: Verdict[] = [];
    const describe = new Map<string, string>([["mac", "mac"]]);

    const [macOutcome] = await fillSlots(slotDeps, session, [macSlot(port)]);
    let mac: string | undefined;
    const fixedIPs: NonNullable<PortStatus["fixedIPs"]> = [];
    if (macOutcome?.ok === true) {
      mac = macOutcome.value;
      const siblings = subnetsOf(sources, networkKey);
      const subnets: PlannerSubnet[] = siblings.map((subnet) => {
        const evaluation = subnet.metadata.deletionTimestamp === undefined ? evaluateSubnet(subnet, siblings) : undefined;
        return { subnet, view: evaluation?.ok === true ? evaluation.view : undefined };
      });
      const plan = planAddresses(port, subnets, mac);
      failures.push(...plan.problems);
      for (const slot of plan.slots) {
        const names = slot.pools.map((uid) => plan.subnetsByUid.get(uid)?.name ?? uid);
        describe.set(slot.key, `subnet ${names.join(", ")}`);
      }
      const names = new Map(siblings.map((s) => [s.metadata.uid ?? "", s.metadata.name ?? ""]));
      for (const outcome of await fillSlots(slotDeps, session, plan.slots)) {
        if (outcome.ok) {
          fixedIPs.push({ subnet: names.get(outcome.pool) ?? outcome.pool, subnetId: outcome.pool, ipAddress: outcome.value });
        } else if (outcome.why !== "gone") {
          failures.push(allocationFailureVerdict(outcome, describe.get(outcome.key) ?? outcome.key, namespace));
        }
      }
    } else if (macOutcome !== undefined && !macOutcome.ok && macOutcome.why !== "gone") {
      failures.push(allocationFailureVerdict(macOutcome, "mac", namespace));
    }

    // Neutron refuses unknown groups; here the group may simply not be applied yet (GitOps ordering).
    const groups = effectiveSecurityGroups(port, network);
    const missing = groups.filter((g) => sources.securityGroups.get(objectKey(namespace, g)) === undefined);
    if (missing.length > 0) {
      failures.push({
        status: "False",
        reason: Reason.DependencyNotFound,
        message: `security group(s) ${missing.join(", ")} not found in this project; create them or remove them from the port`,
      });
    }

    const failure = failures[0];
    const ready = failure === undefined && mac !== undefined;
    const verdict = failure ?? readyPortVerdict(mac ?? "", fixedIPs.map((f) => f.ipAddress), binding);
    if (failure !== undefined) deps.events.warning(port, failure.reason, failure.message);
    const status = withReady(
      port,
      {
        status: portNeutronStatus(port, ready, binding),
        ...(mac === undefined ? {} : { macAddress: mac }),
        fixedIPs,
        networkId: network.metadata.uid,
        ...bindingStatus,
      },
      verdict,
    );
    const surplus = surplusOf(session);
    await writeStatusGuarded(deps.client, portKind, port, status, ctx.fieldManager, { always: surplus.length > 0 });
    // Only now, with a status that no longer names them written against the latest port, are these free.
    for (const allocation of surplus) await release(deps.client, allocation);
    return undefined;
  };

  const portsOfNetwork = (networkKey: string): string[] => sources.ports.byIndex(Index.portsByNetwork, networkKey).map(keyOf);
  const portsOfInstance = (instance: KubeObject & { spec: { networks?: { portRef?: string }[] } }): string[] => [
    ...(instance.spec.networks ?? []).flatMap((n) => (n.portRef === undefined ? [] : [objectKey(instance.metadata.namespace, n.portRef)])),
    ...sources.ports.byIndex(Index.portsByOwner, instance.metadata.uid ?? "").map(keyOf),
  ];

  return new Controller<Port>({
    name: PORT_CONTROLLER,
    cache: sources.ports,
    // Status churn elsewhere (a subnet's usage, a server's power state) is filtered out: ports depend only
    // on the spec and existence of what they refer to.
    watches: [
      { cache: onlyWhen(sources.networks, specOrDeletionChanged), mapToKeys: (n) => portsOfNetwork(keyOf(n)) },
      {
        cache: onlyWhen(sources.subnets, specOrDeletionChanged),
        mapToKeys: (s) => portsOfNetwork(subnetNetworkKey(s as Subnet)),
      },
      {
        cache: onlyWhen(sources.allocations, () => false),
        mapToKeys: (a) => {
          const { holder } = (a as Allocation).spec;
          return holder.kind === portKind.kind ? [objectKey(holder.namespace, holder.name)] : [];
        },
      },
      // A freed address or MAC may be what a failed port waits for.
      {
        cache: deletesOnly(sources.allocations),
        mapToKeys: (a) => {
          const { spec } = a as Allocation;
          const networks =
            spec.type === "ip"
              ? sources.subnets.byIndex(Index.subnetsByUid, spec.pool).map(subnetNetworkKey)
              : spec.type === "mac"
                ? [...new Set(sources.ports.list().map((p) => networkKeyOf(p.metadata.namespace, p.spec.networkRef)))]
                : [];
          return networks.flatMap((key) => notReady(sources.ports.byIndex(Index.portsByNetwork, key)).map(keyOf));
        },
      },
      // A security group arriving (or going) decides whether the ports naming it are complete.
      {
        cache: onlyWhen(sources.securityGroups, () => false),
        mapToKeys: (g) =>
          sources.ports
            .list(g.metadata.namespace)
            .filter((p) => (p.spec.securityGroupRefs ?? [DEFAULT_GROUP_NAME]).includes(g.metadata.name ?? ""))
            .map(keyOf),
      },
      { cache: onlyWhen(sources.servers, specOrDeletionChanged), mapToKeys: (s) => portsOfInstance(s as Server) },
      { cache: onlyWhen(sources.containers, specOrDeletionChanged), mapToKeys: (c) => portsOfInstance(c as Container) },
    ],
    reconcile: conflictsComeBackThroughTheWatch(reconcile),
    logger: deps.logger,
    ...(deps.workers === undefined ? {} : { workers: deps.workers }),
    ...(deps.metrics === undefined ? {} : { metrics: deps.metrics }),
  });
}
