// Network reconciler (I/O): a segment (tenant VLAN, or the provider segment an admin pinned) arbitrated
// through an Allocation, and the OVS-CNI NetworkAttachmentDefinitions in every namespace that uses the
// network. Deletion waits while ports remain (NetworkInUse), then deletes the network's subnets (as
// Neutron does), frees the segment and removes the NADs. A network unshared while other projects' ports
// are on it keeps their NADs and reports SharingInUse until those ports go (Neutron refuses the change).
import {
  Finalizer,
  Reason,
  networkKind,
  portKind,
  projectOfNamespace,
  subnetKind,
  type Allocation,
  type Network,
  type Port,
  type Subnet,
} from "../../api/index.js";
import {
  Controller,
  Upstream,
  applyChild,
  ensureFinalizer,
  keyOf,
  objectKey,
  removeFinalizer,
  withReady as withReadyCondition,
  watchOf,
  writeStatusIfChanged,
  type ReconcileContext,
  type ReconcileOutcome,
  type EventingControllerDeps,
} from "../../kube/index.js";
import type { NetworkingConfig } from "../../operator/config.js";
import { ensureSlots, listHeld, release, segmentValue, type SlotCandidate } from "../ipam/arbiter.js";
import { conflictsComeBackThroughTheWatch, ignoreNotFound, writeStatusGuarded } from "../ipam/guarded-status.js";
import {
  attachmentNamespaces,
  desiredNad,
  nadReference,
  planSegment,
  sharingInUse,
  vlanCandidates,
  type PortPresence,
  type Segment,
} from "./desired.js";
import {
  Index,
  NetworkingLabel,
  deletesOnly,
  hasJoined,
  networkKeyOf,
  networkingSources,
  notReady,
  onlyWhen,
  specOrDeletionChanged,
  subnetNetworkKey,
  subnetsOf,
} from "./sources.js";
import { inUseVerdict, neutronStatus, readyVerdict, segmentFailureVerdict, sharingInUseVerdict, type Verdict } from "./status.js";

export const NETWORK_CONTROLLER = "network";

export interface NetworkControllerDeps extends EventingControllerDeps {
  networking: NetworkingConfig;
  workers?: number;
}

type NetworkStatus = NonNullable<Network["status"]>;

export function networkController(deps: NetworkControllerDeps): Controller<Network> {
  const sources = networkingSources(deps.caches);
  const now = deps.now ?? (() => new Date());

  const withReady = (network: Network, status: NetworkStatus, verdict: Verdict): NetworkStatus => withReadyCondition(network, status, verdict, now());

  const reconcile = async (key: string, ctx: ReconcileContext<Network>): Promise<ReconcileOutcome> => {
    if (ctx.object === undefined) return undefined;
    if (ctx.object.metadata.deletionTimestamp !== undefined) return reconcileDelete(key, ctx.object, ctx);
    const network = await ensureFinalizer(deps.client, networkKind, ctx.object, Finalizer.network);
    const subnetNames = subnetsOf(sources, key).map((s) => s.metadata.name ?? "");

    const project = projectOfNamespace(network.metadata.namespace);
    const providerAllowed = project !== undefined && deps.networking.providerProjects.includes(project);
    const plan = planSegment(network.spec, deps.networking.physnets, providerAllowed);
    if (!plan.ok) {
      const status = withReady(network, { ...network.status, status: "DOWN", subnets: subnetNames }, {
        status: "False",
        reason: Reason.InvalidSpec,
        message: plan.message,
      });
      await writeStatusIfChanged(deps.client, networkKind, network, status, ctx.fieldManager);
      return undefined;
    }

    // The segment: what the status names, else what we hold, else the pinned value or a free tenant VLAN.
    const physnet = plan.physnet;
    const pinned: SlotCandidate | undefined =
      plan.networkType === "flat"
        ? { pool: physnet.name, value: segmentValue(undefined) }
        : plan.vlan === undefined
          ? undefined
          : { pool: physnet.name, value: segmentValue(plan.vlan) };
    const st = network.status;
    const current =
      st?.physicalNetwork === physnet.name && st.networkType === plan.networkType
        ? { pool: physnet.name, value: segmentValue(st.segmentationId) }
        : undefined;
    const holder = { kind: networkKind.kind, namespace: network.metadata.namespace, name: ctx.name, uid: network.metadata.uid ?? "" };
    const { outcomes, surplus } = await ensureSlots(
      { client: deps.client, allocations: sources.allocations, fieldManager: ctx.fieldManager },
      holder,
      [
        {
          key: "segment",
          type: "segment",
          pools: [physnet.name],
          current,
          requested: pinned,
          candidates: (taken) =>
            mapIterable(
              vlanCandidates(physnet, (vlan) => taken({ pool: physnet.name, value: segmentValue(vlan) })),
              (vlan) => ({ pool: physnet.name, value: segmentValue(vlan) }),
            ),
        },
      ],
    );
    const outcome = outcomes[0];
    if (outcome === undefined || !outcome.ok) {
      // The segment slot has neither keepOnly nor several outcomes: a failure is "taken" or "exhausted".
      const verdict =
        outcome === undefined || outcome.why === "gone"
          ? { status: "False" as const, reason: Reason.ReconcileError, message: "the segment could not be allocated" }
          : segmentFailureVerdict(outcome, physnet.name);
      deps.events.warning(network, verdict.reason, verdict.message);
      const status = withReady(
        network,
        { status: "DOWN", subnets: subnetNames, mtu: network.spec.mtu ?? deps.networking.defaultMtu },
        verdict,
      );
      await writeStatusGuarded(deps.client, networkKind, network, status, ctx.fieldManager, { always: surplus.length > 0 });
      for (const allocation of surplus) await release(deps.client, allocation);
      return undefined;
    }
    const vlan = outcome.value === "flat" ? undefined : Number(outcome.value.replace(/^vlan:/, ""));
    const segment: Segment = {
      networkType: plan.networkType,
      physnet: physnet.name,
      bridge: physnet.bridge,
      vlan,
      mtu: network.spec.mtu ?? deps.networking.defaultMtu,
    };

    // NADs: every namespace that uses the network; stale ones (a shared network's last port there went) go.
    const ports = sources.ports.byIndex(Index.portsByNetwork, key).map(presenceOf);
    const namespaces = attachmentNamespaces(network, ports);
    for (const namespace of namespaces) {
      await applyChild(deps.client, Upstream.NetworkAttachmentDefinition, desiredNad(network, namespace, segment), network, ctx.fieldManager);
    }
    for (const nad of sources.nads.byIndex(Index.nadsByNetwork, network.metadata.uid ?? "")) {
      if (!namespaces.includes(nad.metadata.namespace ?? "")) {
        await deps.client.delete(Upstream.NetworkAttachmentDefinition, nad.metadata.name ?? "", nad.metadata.namespace);
      }
    }

    const attachments = namespaces.map((ns) => nadReference(network, ns));
    const stillUsedBy = sharingInUse(network, ports);
    const verdict = stillUsedBy.length > 0 ? sharingInUseVerdict(stillUsedBy) : readyVerdict(segment, attachments);
    if (stillUsedBy.length > 0) deps.events.warning(network, verdict.reason, verdict.message);
    const status = withReady(
      network,
      {
        status: neutronStatus(network, true),
        networkType: segment.networkType,
        physicalNetwork: segment.physnet,
        ...(segment.vlan === undefined ? {} : { segmentationId: segment.vlan }),
        bridge: segment.bridge,
        mtu: segment.mtu,
        subnets: subnetNames,
        attachments,
      },
      verdict,
    );
    await writeStatusGuarded(deps.client, networkKind, network, status, ctx.fieldManager, { always: surplus.length > 0 });
    for (const allocation of surplus) await release(deps.client, allocation);
    return undefined;
  };

  async function reconcileDelete(key: string, network: Network, ctx: ReconcileContext<Network>): Promise<ReconcileOutcome> {
    const ports = sources.ports.byIndex(Index.portsByNetwork, key);
    if (ports.length > 0) {
      const own = ports.filter((p) => p.metadata.namespace === network.metadata.namespace);
      const verdict = inUseVerdict(own.map((p) => p.metadata.name ?? ""), ports.length - own.length);
      deps.events.warning(network, verdict.reason, verdict.message, { action: "Delete" });
      await writeStatusIfChanged(deps.client, networkKind, network, withReady(network, { ...network.status }, verdict), ctx.fieldManager);
      return undefined; // the port watch brings us back when they go
    }
    // Neutron deletes a network's subnets with it.
    const subnets = subnetsOf(sources, key);
    if (subnets.length > 0) {
      for (const subnet of subnets) {
        if (subnet.metadata.deletionTimestamp === undefined) {
          await deps.client.delete(subnetKind, subnet.metadata.name ?? "", subnet.metadata.namespace);
        }
      }
      const verdict: Verdict = { status: "False", reason: Reason.Progressing, message: `deleting ${subnets.length} subnet(s)` };
      await writeStatusIfChanged(deps.client, networkKind, network, withReady(network, { ...network.status }, verdict), ctx.fieldManager);
      return undefined; // the subnet watch brings us back
    }
    for (const allocation of await listHeld(deps.client, network.metadata.uid ?? "")) await release(deps.client, allocation);
    for (const nad of sources.nads.byIndex(Index.nadsByNetwork, network.metadata.uid ?? "")) {
      await deps.client.delete(Upstream.NetworkAttachmentDefinition, nad.metadata.name ?? "", nad.metadata.namespace);
    }
    await ignoreNotFound(removeFinalizer(deps.client, networkKind, network, Finalizer.network));
    return undefined;
  }

  const presenceOf = (port: Port): PortPresence => ({ namespace: port.metadata.namespace, joined: hasJoined(sources, port) });

  const networkKeysByUid = (uid: string | undefined): string[] =>
    uid === undefined ? [] : sources.networks.byIndex(Index.networksByUid, uid).map(keyOf);

  return new Controller<Network>({
    name: NETWORK_CONTROLLER,
    cache: sources.networks,
    // Only existence matters of ports (NADs per namespace, NetworkInUse) and subnets (the status list).
    watches: [
      {
        cache: onlyWhen(sources.ports, specOrDeletionChanged),
        mapToKeys: (p) => {
          const key = networkKeyOf(p.metadata.namespace, (p as Port).spec.networkRef);
          // One more port where the network is already attached changes nothing; ports going always count.
          const network = sources.networks.get(key);
          const attached =
            network !== undefined &&
            network.metadata.deletionTimestamp === undefined &&
            (network.status?.attachments ?? []).includes(nadReference(network, p.metadata.namespace ?? ""));
          return attached && p.metadata.deletionTimestamp === undefined ? [] : [key];
        },
      },
      { cache: onlyWhen(sources.subnets, specOrDeletionChanged), mapToKeys: (s) => [subnetNetworkKey(s as Subnet)] },
      {
        cache: onlyWhen(sources.allocations, () => false),
        mapToKeys: (a) => {
          const { holder } = (a as Allocation).spec;
          if (holder.kind === networkKind.kind) return [objectKey(holder.namespace, holder.name)];
          // Another project's port joining (or leaving) a network that is no longer shared decides whether
          // its namespace keeps an attachment; on a shared network every port there already has one.
          if (holder.kind !== portKind.kind) return [];
          const port = sources.ports.get(objectKey(holder.namespace, holder.name));
          if (port === undefined) return [];
          const networkKey = networkKeyOf(port.metadata.namespace, port.spec.networkRef);
          const network = sources.networks.get(networkKey);
          return network !== undefined && network.spec.shared !== true && network.metadata.namespace !== port.metadata.namespace
            ? [networkKey]
            : [];
        },
      },
      // A freed segment may be what a network waiting with VlanIdInUse/NoNetworkAvailable needs.
      {
        cache: deletesOnly(sources.allocations),
        mapToKeys: (a) => ((a as Allocation).spec.type === "segment" ? notReady(sources.networks.list()).map(keyOf) : []),
      },
      watchOf(sources.nads, (n) => networkKeysByUid(n.metadata.labels?.[NetworkingLabel.networkUid])),
    ],
    reconcile: conflictsComeBackThroughTheWatch(reconcile),
    logger: deps.logger,
    ...(deps.workers === undefined ? {} : { workers: deps.workers }),
    ...(deps.metrics === undefined ? {} : { metrics: deps.metrics }),
  });
}

function* mapIterable<A, B>(items: Iterable<A>, fn: (a: A) => B): Generator<B> {
  for (const item of items) yield fn(item);
}
