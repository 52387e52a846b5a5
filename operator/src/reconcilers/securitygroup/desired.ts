// Pure: a SecurityGroup → the MultiNetworkPolicies (k8s.cni.cncf.io/v1beta1) that enforce it: one per network
// that has ports in the group, for that network's NetworkAttachmentDefinition only (policy-for), selecting the
// pods labelled with the (group, network) pair (see labels.ts). So a port's groups apply to that port's
// network only, as Neutron applies them to that port only.
//
// Semantics carried over from Neutron: rules only allow; a port in several groups gets the union (policies are
// additive); a selected pod is default-deny in both directions (policyTypes Ingress and Egress); enforcement is
// stateful (replies are allowed), as Neutron's default. Ethertype without a remote prefix becomes an ipBlock of
// 0.0.0.0/0 or ::/0 so that an IPv4 rule does not open IPv6. A remote group becomes a podSelector on that
// (group, network) label in the same namespace — the pods with a port in that group on the same network, whose
// addresses are the only ones of the group reachable there; never another tenant's pods.
//
// What MultiNetworkPolicy v1beta1 cannot say is reported, never widened: ICMP and other non-TCP/UDP/SCTP
// protocols (NetworkPolicy ports know TCP, UDP and SCTP only), port ranges wider than MAX_EXPANDED_PORTS
// (v1beta1 has no endPort, so ranges are expanded port by port), and stateless groups.
//
// Link-layer and control traffic stays working under any rule set: ARP is not IP and never reaches the
// iptables rules; IPv6 neighbour and router discovery (ICMPv6 133–137) is accepted by multi-networkpolicy-
// iptables itself (since k8snetworkplumbingwg/multi-networkpolicy-iptables#37); DHCP (UDP 67/68, 546/547) is
// allowed by the project's baseline policy on every network where a pod has a port with port security
// (`portSecurityBaseline`).
import { createHash } from "node:crypto";
import {
  LABELS,
  MANAGED_BY,
  projectOfNamespace,
  type Network,
  type Port,
  type SecurityGroup,
  type SecurityGroupRule,
} from "../../api/index.js";
import type {
  MultiNetworkPolicyEgressRule,
  MultiNetworkPolicyIngressRule,
  MultiNetworkPolicyPeer,
  MultiNetworkPolicyPort,
} from "../../generated/index.js";
import { formatCidr, parseCidr } from "../ipam/addresses.js";
import { NetworkingLabel, type PolicyObject } from "../network/sources.js";
import {
  PORT_SECURITY_ENABLED,
  effectiveSecurityGroups,
  portNetworkKey,
  portSecurityEnabled,
  portSecurityLabel,
  securityGroupLabel,
} from "./labels.js";

export const POLICY_FOR_ANNOTATION = "k8s.v1.cni.cncf.io/policy-for";
const BASELINE_POLICY_PREFIX = "altostack-port-security";
/** Larger ranges would make policies of thousands of entries; they are reported instead. */
export const MAX_EXPANDED_PORTS = 1024;

const PROTOCOLS: Record<string, "TCP" | "UDP" | "SCTP"> = { tcp: "TCP", "6": "TCP", udp: "UDP", "17": "UDP", sctp: "SCTP", "132": "SCTP" };

/** A rule's peer before it is placed on a network: an address block, or the members of a remote group. */
export type RulePeer = { ipBlock: { cidr: string } } | { remoteGroup: string };

export type RuleTranslation =
  | { ok: true; direction: "ingress" | "egress"; peer: RulePeer; ports: MultiNetworkPolicyPort[] | undefined }
  | { ok: false; problem: string };

/** A peer on one network: a remote group is its members' pods with a port in the group on that network. */
export function policyPeer(peer: RulePeer, networkKey: string): MultiNetworkPolicyPeer {
  if ("ipBlock" in peer) return peer;
  return { podSelector: { matchLabels: { [securityGroupLabel(peer.remoteGroup, networkKey)]: "true" } } };
}

/** `groups`: names of the security groups that exist in the namespace (for remote group references). */
export function translateRule(rule: SecurityGroupRule, groups: ReadonlySet<string>): RuleTranslation {
  const ethertype = rule.ethertype ?? "IPv4";
  const protocolText = (rule.protocol ?? "any").toLowerCase();

  let ports: MultiNetworkPolicyPort[] | undefined;
  if (protocolText !== "any") {
    const protocol = PROTOCOLS[protocolText];
    if (protocol === undefined) {
      return { ok: false, problem: `protocol ${protocolText} (MultiNetworkPolicy filters only TCP, UDP and SCTP)` };
    }
    const min = rule.portRangeMin;
    const max = rule.portRangeMax ?? min;
    if (min === undefined || max === undefined || (min <= 1 && max >= 65535)) {
      ports = [{ protocol }];
    } else if (max - min + 1 > MAX_EXPANDED_PORTS) {
      return { ok: false, problem: `port range ${min}-${max} (more than ${MAX_EXPANDED_PORTS} ports; MultiNetworkPolicy v1beta1 has no endPort)` };
    } else {
      ports = [];
      for (let port = Math.max(min, 1); port <= max; port++) ports.push({ protocol, port });
    }
  }

  let peer: RulePeer;
  if (rule.remoteGroupRef !== undefined) {
    if (!groups.has(rule.remoteGroupRef)) return { ok: false, problem: `remote group ${rule.remoteGroupRef} (not found)` };
    peer = { remoteGroup: rule.remoteGroupRef };
  } else if (rule.remoteIPPrefix !== undefined) {
    const cidr = parseCidr(rule.remoteIPPrefix);
    if (cidr === undefined || `IPv${cidr.version}` !== ethertype) {
      return { ok: false, problem: `remoteIPPrefix ${rule.remoteIPPrefix} (not an ${ethertype} prefix)` };
    }
    peer = { ipBlock: { cidr: formatCidr(cidr) } };
  } else {
    peer = { ipBlock: { cidr: ethertype === "IPv4" ? "0.0.0.0/0" : "::/0" } };
  }

  return { ok: true, direction: rule.direction, peer, ports };
}

const NAME_MAX = 253;
const NAME_HASH_LENGTH = 10;

/**
 * `<head>-<hash>`: the head is for people (shortened to fit an object name), the hash of the full identity
 * keeps names unique and stable whatever the group and NAD names contain.
 */
function hashedName(head: string, identity: readonly string[]): string {
  const hash = createHash("sha256").update(JSON.stringify(identity)).digest("hex").slice(0, NAME_HASH_LENGTH);
  return `${head.slice(0, NAME_MAX - NAME_HASH_LENGTH - 1).replace(/[-.]+$/, "")}-${hash}`;
}

/** The policy of a group on one NAD (`namespace/name`): `sg-<group>.<nad>-<hash>`. */
export function policyName(groupName: string, nadRef: string): string {
  const nad = nadRef.slice(nadRef.indexOf("/") + 1);
  return hashedName(`sg-${groupName}.${nad}`, ["sg", groupName, nadRef]);
}

/** The project's baseline on one NAD: `altostack-port-security.<nad>-<hash>`. */
export function baselinePolicyName(nadRef: string): string {
  const nad = nadRef.slice(nadRef.indexOf("/") + 1);
  return hashedName(`${BASELINE_POLICY_PREFIX}.${nad}`, ["port-security", nadRef]);
}

function policyMeta(namespace: string, name: string, nadRef: string, extraLabels: Record<string, string>) {
  const project = projectOfNamespace(namespace);
  return {
    name,
    namespace,
    labels: {
      [LABELS.managedBy]: MANAGED_BY,
      ...(project === undefined ? {} : { [LABELS.project]: project }),
      ...extraLabels,
    },
    annotations: { [POLICY_FOR_ANNOTATION]: nadRef },
  };
}

/** A network that has ports in the group (or with port security), as the policies need it. */
export interface PolicyNetwork {
  /** `namespace/name` of the Network (`networkKeyOf`), which the pod labels are keyed by. */
  networkKey: string;
  /** `namespace/name` of its NAD in the group's namespace, which the policy is for. */
  nadRef: string;
}

export interface GroupPolicies {
  /** One per network, in the order of `networks`. */
  policies: PolicyObject[];
  /** Rules MultiNetworkPolicy cannot enforce, as "rule N: why". */
  unenforced: string[];
}

/** `networks`: those with ports in the group; `groups`: the groups of the namespace (for remote groups). */
export function desiredGroupPolicies(
  group: SecurityGroup,
  networks: readonly PolicyNetwork[],
  groups: ReadonlySet<string>,
): GroupPolicies {
  const namespace = group.metadata.namespace ?? "";
  const name = group.metadata.name ?? "";
  const unenforced: string[] = [];
  if (group.spec.stateful === false) unenforced.push("stateless groups (MultiNetworkPolicy is enforced statefully)");
  const enforced: Extract<RuleTranslation, { ok: true }>[] = [];
  (group.spec.rules ?? []).forEach((rule, i) => {
    const t = translateRule(rule, groups);
    if (t.ok) enforced.push(t);
    else unenforced.push(`rule ${i + 1}: ${t.problem}`);
  });
  const policies = networks.map(({ networkKey, nadRef }): PolicyObject => {
    const ingress: MultiNetworkPolicyIngressRule[] = [];
    const egress: MultiNetworkPolicyEgressRule[] = [];
    for (const t of enforced) {
      const peer = policyPeer(t.peer, networkKey);
      const ports = t.ports === undefined ? {} : { ports: t.ports };
      if (t.direction === "ingress") ingress.push({ from: [peer], ...ports });
      else egress.push({ to: [peer], ...ports });
    }
    return {
      apiVersion: "k8s.cni.cncf.io/v1beta1",
      kind: "MultiNetworkPolicy",
      metadata: policyMeta(namespace, policyName(name, nadRef), nadRef, {
        [NetworkingLabel.securityGroupUid]: group.metadata.uid ?? "",
      }),
      spec: {
        podSelector: { matchLabels: { [securityGroupLabel(name, networkKey)]: "true" } },
        policyTypes: ["Ingress", "Egress"],
        ingress,
        egress,
      },
    };
  });
  return { policies, unenforced };
}

/**
 * The project's baseline on one network, for pods with a port with port security there: default-deny in
 * both directions (a port whose groups allow nothing passes nothing, as in Neutron), except DHCP for v4 and
 * v6, which Neutron always allows. Networks where a pod's ports have no port security stay unfiltered.
 */
export function portSecurityBaseline(namespace: string, network: PolicyNetwork, owner: SecurityGroup): PolicyObject {
  return {
    apiVersion: "k8s.cni.cncf.io/v1beta1",
    kind: "MultiNetworkPolicy",
    metadata: policyMeta(namespace, baselinePolicyName(network.nadRef), network.nadRef, {
      [NetworkingLabel.securityGroupUid]: owner.metadata.uid ?? "",
    }),
    spec: {
      podSelector: { matchLabels: { [portSecurityLabel(network.networkKey)]: PORT_SECURITY_ENABLED } },
      policyTypes: ["Ingress", "Egress"],
      ingress: [{ ports: [{ protocol: "UDP", port: 68 }, { protocol: "UDP", port: 546 }] }],
      egress: [{ ports: [{ protocol: "UDP", port: 67 }, { protocol: "UDP", port: 547 }] }],
    },
  };
}

/** OpenStack's default group: members reach each other, everything may go out. */
export function defaultGroupRules(): SecurityGroupRule[] {
  return [
    { direction: "ingress", ethertype: "IPv4", remoteGroupRef: "default" },
    { direction: "ingress", ethertype: "IPv6", remoteGroupRef: "default" },
    { direction: "egress", ethertype: "IPv4" },
    { direction: "egress", ethertype: "IPv6" },
  ];
}

/** A port with its network and that network's NAD in the port's namespace. */
export interface PortOnNetwork {
  port: Port;
  network: Network;
  nadRef: string;
}

function distinctNetworks(ports: readonly PortOnNetwork[]): PolicyNetwork[] {
  const byKey = new Map<string, PolicyNetwork>();
  for (const { port, nadRef } of ports) {
    const networkKey = portNetworkKey(port);
    byKey.set(networkKey, { networkKey, nadRef });
  }
  return [...byKey.values()].sort((a, b) => a.nadRef.localeCompare(b.nadRef));
}

/** The networks that have ports in the group (Neutron's membership: named groups, else `default`). */
export const networksOfGroup = (groupName: string, ports: readonly PortOnNetwork[]): PolicyNetwork[] =>
  distinctNetworks(ports.filter(({ port, network }) => effectiveSecurityGroups(port, network).includes(groupName)));

/** The networks that have ports with port security (the baseline's). */
export const networksWithPortSecurity = (ports: readonly PortOnNetwork[]): PolicyNetwork[] =>
  distinctNetworks(ports.filter(({ port, network }) => portSecurityEnabled(port, network)));
