// How servers and containers join networks. The contract with the compute (and container) reconcilers:
//
// - `resolveNetworking(sources, instance)` reads the shared caches and answers ready / pending / failed; when
//   ready it carries `networking` for the VM builder (KubeVirt interfaces with bridge binding and the port's
//   MAC, `multus.networkName: <ns>/<nad>`, no pod network, network_data.json for the config drive), the pod
//   labels security groups select on, and Nova's `addresses`. Pure over the caches: no I/O.
// - `networkingWatches(sources, kind, instances)` are the watches that bring an instance back when one of its
//   ports, their networks or subnets change.
// - `containerNetworksAnnotation(...)` is the Multus annotation a container's Pod carries (port IP and MAC).
//
// Ports for `{networkRef}` entries are created by the instance-ports controller (instance-ports.ts) under the
// names `autoPortName` gives, owned by the instance; `{portRef}` ports are bound by the port controller.
import { createHash } from "node:crypto";
import {
  ConditionType,
  Reason,
  openstackName,
  type Container,
  type InstanceNetwork,
  type Network,
  type Port,
  type Server,
  type Subnet,
} from "../../api/index.js";
import type { Interface, Network as KubevirtNetwork } from "../../generated/index.js";
import { keyOf, objectKey, type SecondaryWatch, type WatchCache } from "../../kube/index.js";
import { parseCidr, parseIp } from "../ipam/addresses.js";
import { nadReference } from "../network/desired.js";
import { Index, networkKeyOf, specOrDeletionChanged, onlyWhen, type NetworkingSources } from "../network/sources.js";
import { instanceSecurityLabels } from "../securitygroup/labels.js";
import { networkData, type NetworkData } from "./network-data.js";

export type InstanceKind = "Server" | "Container";
type InstanceObject = Server | Container;

/** What the VM builder takes (its `networking` parameter), plus the pod labels for security groups. */
export interface InstanceNetworking {
  interfaces: Interface[];
  networks: KubevirtNetwork[];
  networkData: NetworkData;
  /** Only the tenant networks: no pod network interface (`devices.autoattachPodInterface: false`). */
  autoattachPodInterface: false;
  /** Labels for the VM template / Pod: security groups and port security (securitygroup/labels.ts). */
  podLabels: Record<string, string>;
  /** OpenStack network name per interface name (for Nova's `addresses` from the VMI's interfaces). */
  networkNames: Record<string, string>;
}

export interface NovaAddress {
  addr: string;
  version: number;
  type: "fixed";
  macAddr: string;
}
/** Nova's `addresses`: network name → addresses, in NIC order. */
export type NovaAddresses = Record<string, NovaAddress[]>;

/** A port ready to be plugged, with what it needs from its network and subnets. */
export interface ResolvedAttachment {
  port: Port;
  network: Network;
  /** The subnets of the port's fixed IPs (by subnet id); missing ones are skipped. */
  subnets: ReadonlyMap<string, Subnet>;
  /** `namespace/name` of the NAD in the instance's namespace. */
  nad: string;
}

export type NetworkingResolution =
  | {
      state: "ready";
      networking: InstanceNetworking | undefined;
      addresses: NovaAddresses;
      networksSummary: string;
      ports: Port[];
      /** The ports with their networks, subnets and NADs, in NIC order (for `containerNetworksAnnotation`). */
      attachments: ResolvedAttachment[];
    }
  | { state: "pending"; message: string }
  | { state: "failed"; reason: string; message: string };

// ---- names ----

const NAME_MAX = 253;

/**
 * The name of the port created for an instance's `{networkRef}` entry: `<instance>-<network>`, with `-2`, `-3`
 * for further NICs on the same network (stable when entries are reordered); hashed when too long.
 */
export function autoPortName(instanceName: string, networks: readonly InstanceNetwork[], index: number): string {
  const entry = networks[index];
  if (entry?.networkRef === undefined) throw new Error(`networks[${index}] of ${instanceName} has no networkRef`);
  const ref = entry.networkRef;
  const occurrence = networks.slice(0, index + 1).filter((n) => n.networkRef === ref).length;
  const name = `${instanceName}-${ref.replace("/", ".")}${occurrence > 1 ? `-${occurrence}` : ""}`;
  if (name.length <= NAME_MAX) return name;
  const hash = createHash("sha256").update(name).digest("hex").slice(0, 12);
  return `${name.slice(0, NAME_MAX - hash.length - 1).replace(/[-.]+$/, "")}-${hash}`;
}

/** The key of the port behind each entry of an instance's spec.networks. */
export function instancePortKeys(instance: InstanceObject): string[] {
  const networks = instance.spec.networks ?? [];
  const ns = instance.metadata.namespace;
  return networks.map((entry, i) =>
    objectKey(ns, entry.portRef ?? autoPortName(instance.metadata.name ?? "", networks, i)),
  );
}

// ---- pure wiring ----

export const interfaceName = (index: number): string => `nic${index}`;

/** Ports (ready, in NIC order) → KubeVirt interfaces and networks, network_data.json and pod labels. */
export function instanceNetworking(attachments: readonly ResolvedAttachment[]): InstanceNetworking {
  const interfaces: Interface[] = [];
  const networks: KubevirtNetwork[] = [];
  const networkNames: Record<string, string> = {};
  attachments.forEach(({ port, network, nad }, i) => {
    interfaces.push({ name: interfaceName(i), bridge: {}, macAddress: port.status?.macAddress ?? "", model: "virtio" });
    networks.push({ name: interfaceName(i), multus: { networkName: nad } });
    networkNames[interfaceName(i)] = openstackName(network);
  });
  const data = networkData(
    attachments.map(({ port, network, subnets }) => ({
      portId: port.metadata.uid ?? "",
      macAddress: port.status?.macAddress ?? "",
      mtu: network.status?.mtu ?? network.spec.mtu ?? 1500,
      networkId: network.metadata.uid ?? "",
      addresses: (port.status?.fixedIPs ?? []).flatMap((fixed) => {
        const subnet = fixed.subnetId === undefined ? undefined : subnets.get(fixed.subnetId);
        if (subnet === undefined) return [];
        return [
          {
            ipAddress: fixed.ipAddress,
            cidr: subnet.spec.cidr,
            gateway: subnet.status?.gatewayIP,
            hostRoutes: subnet.spec.hostRoutes ?? [],
            dnsNameservers: subnet.spec.dnsNameservers ?? [],
          },
        ];
      }),
    })),
  );
  return {
    interfaces,
    networks,
    networkData: data,
    autoattachPodInterface: false,
    podLabels: instanceSecurityLabels(attachments.map(({ port, network }) => ({ port, network }))),
    networkNames,
  };
}

/** Nova's `addresses` for the attachments. */
export function novaAddresses(attachments: readonly ResolvedAttachment[]): NovaAddresses {
  const addresses: NovaAddresses = {};
  for (const { port, network } of attachments) {
    const list = (addresses[openstackName(network)] ??= []);
    for (const fixed of port.status?.fixedIPs ?? []) {
      list.push({ addr: fixed.ipAddress, version: parseIp(fixed.ipAddress)?.version ?? 4, type: "fixed", macAddr: port.status?.macAddress ?? "" });
    }
  }
  return addresses;
}

/** As `openstack server list` prints Networks: `net1=10.0.0.5, fd00::5; net2=192.168.0.3`. */
export function networksSummary(addresses: NovaAddresses): string {
  return Object.entries(addresses)
    .map(([name, list]) => `${name}=${list.map((a) => a.addr).join(", ")}`)
    .join("; ");
}

/**
 * The Multus network-selection annotation (`k8s.v1.cni.cncf.io/networks`) for a container's Pod: each port's
 * NAD with its addresses (CIDR notation, for the static IPAM in the NAD) and MAC, interfaces net1, net2, ...
 */
export const MULTUS_NETWORKS_ANNOTATION = "k8s.v1.cni.cncf.io/networks";
export function containerNetworksAnnotation(attachments: readonly ResolvedAttachment[]): string {
  const selections = attachments.map(({ port, nad, subnets }, i) => {
    const [namespace = "", name = ""] = nad.split("/");
    const ips = (port.status?.fixedIPs ?? []).flatMap((fixed) => {
      const cidr = fixed.subnetId === undefined ? undefined : parseCidr(subnets.get(fixed.subnetId)?.spec.cidr ?? "");
      return cidr === undefined ? [] : [`${fixed.ipAddress}/${cidr.prefix}`];
    });
    return { name, namespace, ips, mac: port.status?.macAddress ?? "", interface: `net${i + 1}` };
  });
  return JSON.stringify(selections);
}

// ---- resolution from the caches ----

/** Port Ready reasons that mean "not yet" rather than "this needs fixing". */
const TRANSIENT_REASONS: ReadonlySet<string> = new Set([
  Reason.Progressing,
  Reason.DependencyNotFound,
  Reason.DependencyNotReady,
  Reason.ReconcileError,
]);

export function resolveNetworking(
  sources: Pick<NetworkingSources, "ports" | "networks" | "subnets">,
  kind: InstanceKind,
  instance: InstanceObject,
): NetworkingResolution {
  const entries = instance.spec.networks ?? [];
  if (entries.length === 0) return { state: "ready", networking: undefined, addresses: {}, networksSummary: "", ports: [], attachments: [] };
  const namespace = instance.metadata.namespace ?? "";
  const uid = instance.metadata.uid ?? "";
  const attachments: ResolvedAttachment[] = [];
  const keys = instancePortKeys(instance);
  for (const [i, entry] of entries.entries()) {
    const key = keys[i] ?? "";
    const portName = key.slice(namespace.length + 1);
    const port = sources.ports.get(key);
    if (port === undefined) {
      return { state: "pending", message: entry.portRef === undefined ? `creating port ${portName}` : `port ${portName} not found` };
    }
    if (entry.portRef === undefined) {
      const owner = port.metadata.ownerReferences?.find((r) => r.controller === true);
      if (owner?.kind !== kind || owner.uid !== uid) {
        return {
          state: "failed",
          reason: Reason.PortInUse,
          message: `port ${portName} exists and does not belong to this ${kind.toLowerCase()}; rename or delete it`,
        };
      }
    } else if (port.status?.deviceId !== undefined && port.status.deviceId !== uid) {
      return {
        state: "failed",
        reason: Reason.PortInUse,
        message: `port ${portName} is already bound to another server or container`,
      };
    } else if (port.status?.deviceId === undefined) {
      return { state: "pending", message: `binding port ${portName}` };
    }
    const ready = port.status?.conditions?.find((c) => c.type === ConditionType.Ready);
    if (ready?.status !== "True" || ready.observedGeneration !== port.metadata.generation || port.status?.macAddress === undefined) {
      if (ready?.status === "False" && !TRANSIENT_REASONS.has(ready.reason)) {
        return { state: "failed", reason: ready.reason, message: `port ${portName}: ${ready.message}` };
      }
      return { state: "pending", message: `waiting for port ${portName}${ready === undefined ? "" : `: ${ready.message}`}` };
    }
    const network = sources.networks.get(networkKeyOf(port.metadata.namespace, port.spec.networkRef));
    if (network === undefined) return { state: "pending", message: `waiting for network ${port.spec.networkRef}` };
    const nad = nadReference(network, namespace);
    if (!(network.status?.attachments ?? []).includes(nad)) {
      return { state: "pending", message: `waiting for network ${port.spec.networkRef} to be attached in this project` };
    }
    const subnets = new Map<string, Subnet>();
    for (const fixed of port.status.fixedIPs ?? []) {
      const subnet = fixed.subnetId === undefined ? undefined : sources.subnets.byIndex(Index.subnetsByUid, fixed.subnetId)[0];
      if (subnet?.metadata.uid !== undefined) subnets.set(subnet.metadata.uid, subnet);
    }
    attachments.push({ port, network, subnets, nad });
  }
  const addresses = novaAddresses(attachments);
  return {
    state: "ready",
    networking: instanceNetworking(attachments),
    addresses,
    networksSummary: networksSummary(addresses),
    ports: attachments.map((a) => a.port),
    attachments,
  };
}

/**
 * Watches for an instance controller: a change of one of its ports (status: addresses, binding), of their
 * networks (attachments) or subnets (gateway, routes, DNS) enqueues the instances concerned.
 */
export function networkingWatches(
  sources: NetworkingSources,
  kind: InstanceKind,
  instances: Pick<WatchCache<InstanceObject>, "byIndex" | "get">,
): SecondaryWatch[] {
  const instancesOfPort = (port: Port): string[] => {
    const keys = instances.byIndex(Index.instancesByPort, keyOf(port)).map(keyOf);
    const owner = port.metadata.ownerReferences?.find((r) => r.controller === true && r.kind === kind);
    if (owner !== undefined) keys.push(objectKey(port.metadata.namespace, owner.name));
    return keys;
  };
  const instancesOfNetwork = (networkKey: string): string[] =>
    sources.ports.byIndex(Index.portsByNetwork, networkKey).flatMap(instancesOfPort);
  return [
    { cache: sources.ports, mapToKeys: (p) => instancesOfPort(p as Port) },
    { cache: sources.networks, mapToKeys: (n) => instancesOfNetwork(keyOf(n)) },
    {
      cache: onlyWhen(sources.subnets, (a, b) => specOrDeletionChanged(a, b) || a.status?.gatewayIP !== b.status?.gatewayIP),
      mapToKeys: (s) => instancesOfNetwork(objectKey(s.metadata.namespace, (s as Subnet).spec.networkRef)),
    },
  ];
}
