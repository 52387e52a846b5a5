// Pure: a Network and its segment → the OVS-CNI NetworkAttachmentDefinitions that realise it, one per
// namespace that uses the network: its own, plus (for shared networks) the namespaces of ports on it, and
// which projects' ports may use it (after unsharing, those that joined while it was shared keep it).
import { LABELS, MANAGED_BY, openstackName, projectOfNamespace, type Network } from "../../api/index.js";
import type { Physnet } from "../../operator/config.js";
import { NetworkingLabel, type NadObject } from "./sources.js";

/** Where the network's traffic goes: a bridge, and on it a VLAN or nothing (flat). */
export interface Segment {
  networkType: "vlan" | "flat";
  physnet: string;
  bridge: string;
  vlan?: number | undefined;
  mtu: number;
}

/** Multus schedules pods that use the NAD onto nodes that advertise this device-plugin resource. */
export const NAD_RESOURCE_ANNOTATION = "k8s.v1.cni.cncf.io/resourceName";
export const ovsResourceName = (bridge: string): string => `ovs-cni.network.kubevirt.io/${bridge}`;

/**
 * The NAD's name in `namespace`: the network's own name at home, `net-<uid>` elsewhere (two projects may
 * share networks with the same name into a third).
 */
export function nadName(network: Network, namespace: string): string {
  return namespace === network.metadata.namespace ? (network.metadata.name ?? "") : `net-${network.metadata.uid ?? ""}`;
}

/** `namespace/name`, as KubeVirt's `multus.networkName` and MultiNetworkPolicy's policy-for want it. */
export const nadReference = (network: Network, namespace: string): string => `${namespace}/${nadName(network, namespace)}`;

/**
 * OVS-CNI's configuration. No IPAM of its own: guests get static addresses from the config drive, and pods
 * (containers) get theirs through the static IPAM plugin from the `ips` the Multus annotation carries.
 */
export function ovsCniConfig(name: string, segment: Segment): string {
  const config: Record<string, unknown> = {
    cniVersion: "0.4.0",
    name,
    type: "ovs",
    bridge: segment.bridge,
    ...(segment.vlan === undefined ? {} : { vlan: segment.vlan }),
    mtu: segment.mtu,
    capabilities: { ips: true, mac: true },
    ipam: { type: "static" },
  };
  return JSON.stringify(config);
}

export function desiredNad(network: Network, namespace: string, segment: Segment): NadObject {
  const name = nadName(network, namespace);
  const project = projectOfNamespace(network.metadata.namespace);
  return {
    apiVersion: "k8s.cni.cncf.io/v1",
    kind: "NetworkAttachmentDefinition",
    metadata: {
      name,
      namespace,
      labels: {
        [LABELS.managedBy]: MANAGED_BY,
        ...(project === undefined ? {} : { [LABELS.project]: project }),
        [NetworkingLabel.networkUid]: network.metadata.uid ?? "",
      },
      annotations: {
        [NAD_RESOURCE_ANNOTATION]: ovsResourceName(segment.bridge),
        "altostack.io/network": `${network.metadata.namespace ?? ""}/${openstackName(network)}`,
      },
    },
    spec: { config: ovsCniConfig(name, segment) },
  };
}

/**
 * A port as the attachment rules see it: its namespace, and whether it has joined the network (holds its
 * MAC and addresses: it was admitted while the network was visible to it).
 */
export interface PortPresence {
  namespace: string | undefined;
  joined: boolean;
}

/** Namespaces of other projects than the network's, sorted and each once. */
export function otherNamespaces(network: Network, namespaces: Iterable<string | undefined>): string[] {
  const own = network.metadata.namespace ?? "";
  return [...new Set([...namespaces].filter((ns): ns is string => ns !== undefined && ns !== "" && ns !== own))].sort();
}

/**
 * Other projects' namespaces still using a network that is no longer shared: those with ports that joined
 * while it was. Neutron refuses to unshare such a network (InvalidSharedSetting); declaratively the change
 * happens anyway, so these keep their attachment until their last port goes.
 */
export function sharingInUse(network: Network, ports: Iterable<PortPresence>): string[] {
  if (network.spec.shared === true) return [];
  return otherNamespaces(network, [...ports].filter((p) => p.joined).map((p) => p.namespace));
}

/**
 * The namespaces that need a NAD: the network's own; for a shared network those of every port on it; for a
 * network no longer shared those of ports that joined while it was (never cut off another tenant's NICs).
 */
export function attachmentNamespaces(network: Network, ports: Iterable<PortPresence>): string[] {
  const all = [...ports];
  const others = network.spec.shared === true ? otherNamespaces(network, all.map((p) => p.namespace)) : sharingInUse(network, all);
  return [network.metadata.namespace ?? "", ...others];
}

/**
 * Whether a port in `namespace` may use `network`: its own project's, a shared one, or one it joined while
 * that was shared (existing ports keep working after unsharing; only new ones of other projects are refused).
 */
export function networkUsableFrom(network: Network, namespace: string | undefined, joined: boolean): boolean {
  return network.metadata.namespace === namespace || network.spec.shared === true || joined;
}

// ---- segments ----

export type SegmentPlan =
  | { ok: true; networkType: "vlan"; physnet: Physnet; vlan: number | undefined }
  | { ok: true; networkType: "flat"; physnet: Physnet }
  | { ok: false; message: string };

/** Whether a network sets any of Neutron's admin-only provider attributes. */
export const hasProviderAttributes = (spec: Network["spec"]): boolean =>
  spec.providerNetworkType !== undefined || spec.providerPhysicalNetwork !== undefined || spec.providerSegmentationId !== undefined;

/**
 * Which segment a network asks for, like Neutron's ML2 type drivers: provider attributes pin it (admins only:
 * `providerAllowed`); otherwise a tenant VLAN from the first physnet that has VLAN ranges. `vlan: undefined`
 * means allocate one.
 */
export function planSegment(spec: Network["spec"], physnets: readonly Physnet[], providerAllowed = true): SegmentPlan {
  if (!providerAllowed && hasProviderAttributes(spec)) {
    return {
      ok: false,
      message:
        "provider attributes (providerNetworkType, providerPhysicalNetwork, providerSegmentationId) are for admins; " +
        "remove them to get a tenant network, or have an admin create the network (shared, if you need it here)",
    };
  }
  const named = spec.providerPhysicalNetwork;
  const physnet =
    named !== undefined
      ? physnets.find((p) => p.name === named)
      : spec.providerNetworkType === "flat"
        ? physnets[0]
        : (physnets.find((p) => p.vlanRanges.length > 0) ?? physnets[0]);
  const known = physnets.map((p) => p.name).join(", ");
  if (physnet === undefined) {
    return {
      ok: false,
      message: `physical network ${named ?? ""} is not configured (the operator knows: ${known}); pick one of those`,
    };
  }
  if (spec.providerNetworkType === "flat") return { ok: true, networkType: "flat", physnet };
  const pinned = spec.providerSegmentationId;
  if (pinned === undefined && physnet.vlanRanges.length === 0) {
    return {
      ok: false,
      message:
        `physical network ${physnet.name} has no tenant VLAN ranges; set providerSegmentationId ` +
        "or use a physical network with ranges",
    };
  }
  return { ok: true, networkType: "vlan", physnet, vlan: pinned };
}

/** Tenant VLAN ids of a physnet in order, skipping those `taken` says are allocated. */
export function* vlanCandidates(physnet: Physnet, taken: (vlan: number) => boolean): Generator<number> {
  for (const range of physnet.vlanRanges) {
    for (let vlan = range.min; vlan <= range.max; vlan++) if (!taken(vlan)) yield vlan;
  }
}
