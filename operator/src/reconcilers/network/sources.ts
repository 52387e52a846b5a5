// The watch caches the networking controllers share, with their indexes registered once per CacheSet, and
// the few rules for resolving references between networking objects. Every networking controller (and the
// server reconciler's resolveNetworking) reads through here, so an index is defined in exactly one place.
import {
  LABELS,
  MANAGED_BY,
  allocationKind,
  containerKind,
  networkKind,
  portKind,
  projectNamespace,
  securityGroupKind,
  serverKind,
  subnetKind,
  type Allocation,
  type Container,
  type Network,
  type Port,
  type SecurityGroup,
  type Server,
  type Subnet,
} from "../../api/index.js";
import type { MultiNetworkPolicy, NetworkAttachmentDefinition } from "../../generated/index.js";
import {
  Upstream,
  byField,
  byOwnerUid,
  keyOf,
  objectKey,
  type CacheSet,
  type KubeObject,
  type SecondaryWatch,
  type WatchCache,
} from "../../kube/index.js";

export type NadObject = NetworkAttachmentDefinition & KubeObject;
export type PolicyObject = MultiNetworkPolicy & KubeObject;

/** Labels on the NADs and MultiNetworkPolicies the operator writes, to find them without guessing names. */
export const NetworkingLabel = {
  networkUid: "altostack.io/network-uid",
  securityGroupUid: "altostack.io/security-group-uid",
} as const;

export const Index = {
  allocationsByHolder: "allocation-holder",
  allocationsByPool: "allocation-pool",
  portsByNetwork: "port-network",
  portsByOwner: "port-owner",
  subnetsByNetwork: "subnet-network",
  subnetsByUid: "subnet-uid",
  networksByUid: "network-uid",
  instancesByPort: "instance-port",
  nadsByNetwork: "nad-network",
  nadsByNamespace: "nad-namespace",
  policiesBySecurityGroup: "policy-security-group",
  securityGroupsByRemote: "security-group-remote",
} as const;

/** `type/pool`: the key allocations of one pool are indexed under. */
export const poolKey = (type: string, pool: string): string => `${type}/${pool}`;

/** The namespace/name key of the network a port (or instance entry) in `namespace` refers to. */
export function networkKeyOf(namespace: string | undefined, networkRef: string): string {
  const slash = networkRef.indexOf("/");
  if (slash < 0) return objectKey(namespace, networkRef);
  return objectKey(projectNamespace(networkRef.slice(0, slash)), networkRef.slice(slash + 1));
}

/** The key of the network a subnet belongs to (subnets always live beside their network). */
export const subnetNetworkKey = (subnet: Subnet): string => objectKey(subnet.metadata.namespace, subnet.spec.networkRef);

export interface NetworkingSources {
  networks: WatchCache<Network>;
  subnets: WatchCache<Subnet>;
  ports: WatchCache<Port>;
  securityGroups: WatchCache<SecurityGroup>;
  allocations: WatchCache<Allocation>;
  servers: WatchCache<Server>;
  containers: WatchCache<Container>;
  nads: WatchCache<NadObject>;
  policies: WatchCache<PolicyObject>;
}

const managedSelector = `${LABELS.managedBy}=${MANAGED_BY}`;
const registered = new WeakMap<CacheSet, NetworkingSources>();

/** The shared networking caches of a CacheSet, with every index registered (once). */
export function networkingSources(caches: CacheSet): NetworkingSources {
  const existing = registered.get(caches);
  if (existing !== undefined) return existing;
  const sources: NetworkingSources = {
    networks: caches.get<Network>(networkKind),
    subnets: caches.get<Subnet>(subnetKind),
    ports: caches.get<Port>(portKind),
    securityGroups: caches.get<SecurityGroup>(securityGroupKind),
    allocations: caches.get<Allocation>(allocationKind),
    servers: caches.get<Server>(serverKind),
    containers: caches.get<Container>(containerKind),
    nads: caches.get<NadObject>(Upstream.NetworkAttachmentDefinition, { labelSelector: managedSelector }),
    policies: caches.get<PolicyObject>(Upstream.MultiNetworkPolicy, { labelSelector: managedSelector }),
  };
  sources.allocations.addIndex(
    Index.allocationsByHolder,
    byField((a: Allocation) => a.spec.holder.uid),
  );
  sources.allocations.addIndex(
    Index.allocationsByPool,
    byField((a: Allocation) => poolKey(a.spec.type, a.spec.pool)),
  );
  sources.ports.addIndex(
    Index.portsByNetwork,
    byField((p: Port) => networkKeyOf(p.metadata.namespace, p.spec.networkRef)),
  );
  sources.ports.addIndex(Index.portsByOwner, byOwnerUid);
  sources.subnets.addIndex(Index.subnetsByNetwork, byField(subnetNetworkKey));
  sources.subnets.addIndex(
    Index.subnetsByUid,
    byField((s: Subnet) => s.metadata.uid),
  );
  sources.networks.addIndex(
    Index.networksByUid,
    byField((n: Network) => n.metadata.uid),
  );
  const portKeys = (obj: { metadata: { namespace?: string }; spec: { networks?: { portRef?: string }[] } }) =>
    (obj.spec.networks ?? []).map((n) => (n.portRef === undefined ? undefined : objectKey(obj.metadata.namespace, n.portRef)));
  sources.servers.addIndex(Index.instancesByPort, byField(portKeys));
  sources.containers.addIndex(Index.instancesByPort, byField(portKeys));
  sources.nads.addIndex(
    Index.nadsByNetwork,
    byField((n: NadObject) => n.metadata.labels?.[NetworkingLabel.networkUid]),
  );
  sources.nads.addIndex(
    Index.nadsByNamespace,
    byField((n: NadObject) => n.metadata.namespace),
  );
  sources.policies.addIndex(
    Index.policiesBySecurityGroup,
    byField((p: PolicyObject) => p.metadata.labels?.[NetworkingLabel.securityGroupUid]),
  );
  sources.securityGroups.addIndex(
    Index.securityGroupsByRemote,
    byField((sg: SecurityGroup) =>
      (sg.spec.rules ?? []).map((r) =>
        r.remoteGroupRef === undefined ? undefined : objectKey(sg.metadata.namespace, r.remoteGroupRef),
      ),
    ),
  );
  registered.set(caches, sources);
  return sources;
}

/**
 * Whether a port has joined its network: it holds its MAC or addresses, which it got only while the network
 * was visible to it. Such a port keeps a network that was unshared since (see desired.ts networkUsableFrom).
 */
export function hasJoined(sources: Pick<NetworkingSources, "allocations">, port: Port): boolean {
  return sources.allocations.byIndex(Index.allocationsByHolder, port.metadata.uid ?? "").length > 0;
}

/** Subnets of a network, oldest first (Neutron's order for picking a subnet). */
export function subnetsOf(sources: Pick<NetworkingSources, "subnets">, networkKey: string): Subnet[] {
  return sources.subnets.byIndex(Index.subnetsByNetwork, networkKey).sort(byAge);
}

export function byAge(a: KubeObject, b: KubeObject): number {
  const ta = a.metadata.creationTimestamp ?? "";
  const tb = b.metadata.creationTimestamp ?? "";
  return ta === tb ? keyOf(a).localeCompare(keyOf(b)) : ta < tb ? -1 : 1;
}

/**
 * A secondary-watch source that passes on only the updates `changed` cares about (adds and deletes always
 * pass). Status churn of a busy object — a subnet's usage, a port's status — then does not fan out into
 * reconciles of everything that merely refers to it.
 */
export function onlyWhen<T extends KubeObject>(
  cache: WatchCache<T>,
  changed: (oldObj: T, newObj: T) => boolean,
): SecondaryWatch["cache"] {
  return {
    start: () => {
      cache.start();
    },
    synced: () => cache.synced(),
    onAdd: (handler) => cache.onAdd(handler),
    onDelete: (handler) => cache.onDelete(handler),
    onUpdate: (handler) =>
      cache.onUpdate((oldObj, newObj) => {
        if (changed(oldObj, newObj)) handler(oldObj, newObj);
      }),
  };
}

/** The spec (generation) or the deletion state changed: what references to an object depend on. */
export const specOrDeletionChanged = (oldObj: KubeObject, newObj: KubeObject): boolean =>
  oldObj.metadata.generation !== newObj.metadata.generation ||
  oldObj.metadata.deletionTimestamp !== newObj.metadata.deletionTimestamp;

/** A secondary-watch source that passes on deletions only: "a value was freed" wakes whoever waits for one. */
export function deletesOnly<T extends KubeObject>(cache: WatchCache<T>): SecondaryWatch["cache"] {
  return {
    start: () => {
      cache.start();
    },
    synced: () => cache.synced(),
    onAdd: () => () => true,
    onUpdate: () => () => true,
    onDelete: (handler) => cache.onDelete(handler),
  };
}

/** Objects whose Ready condition is not True (for the current generation): those waiting for something. */
export function notReady<T extends KubeObject & { status?: { conditions?: { type: string; status: string; observedGeneration?: number }[] } }>(
  objects: readonly T[],
): T[] {
  return objects.filter((o) => {
    const ready = o.status?.conditions?.find((c) => c.type === "Ready");
    return ready?.status !== "True" || ready.observedGeneration !== o.metadata.generation;
  });
}
