// Pure: a SecurityGroup → the MultiNetworkPolicy (k8s.cni.cncf.io/v1beta1) that enforces it on the project's
// NetworkAttachmentDefinitions, for the pods labelled with the group (see labels.ts).
//
// Semantics carried over from Neutron: rules only allow; a port in several groups gets the union (policies are
// additive); a selected pod is default-deny in both directions (policyTypes Ingress and Egress); enforcement is
// stateful (replies are allowed), as Neutron's default. Ethertype without a remote prefix becomes an ipBlock of
// 0.0.0.0/0 or ::/0 so that an IPv4 rule does not open IPv6. A remote group becomes a podSelector on that
// group's label in the same namespace — never another tenant's pods.
//
// What MultiNetworkPolicy v1beta1 cannot say is reported, never widened: ICMP and other non-TCP/UDP/SCTP
// protocols (NetworkPolicy ports know TCP, UDP and SCTP only), port ranges wider than MAX_EXPANDED_PORTS
// (v1beta1 has no endPort, so ranges are expanded port by port), and stateless groups.
//
// Link-layer and control traffic stays working under any rule set: ARP is not IP and never reaches the
// iptables rules; IPv6 neighbour and router discovery (ICMPv6 133–137) is accepted by multi-networkpolicy-
// iptables itself (since k8snetworkplumbingwg/multi-networkpolicy-iptables#37); DHCP (UDP 67/68, 546/547) is
// allowed by the project's baseline policy for every pod with port security (`portSecurityBaseline`).
import { createHash } from "node:crypto";
import { LABELS, MANAGED_BY, projectOfNamespace, type SecurityGroup, type SecurityGroupRule } from "../../api/index.js";
import type {
  MultiNetworkPolicyEgressRule,
  MultiNetworkPolicyIngressRule,
  MultiNetworkPolicyPeer,
  MultiNetworkPolicyPort,
} from "../../generated/index.js";
import { formatCidr, parseCidr } from "../ipam/addresses.js";
import { NetworkingLabel, type PolicyObject } from "../network/sources.js";
import { PORT_SECURITY_ENABLED, PORT_SECURITY_LABEL, securityGroupLabel } from "./labels.js";

export const POLICY_FOR_ANNOTATION = "k8s.v1.cni.cncf.io/policy-for";
export const BASELINE_POLICY_NAME = "altostack-port-security";
/** Larger ranges would make policies of thousands of entries; they are reported instead. */
export const MAX_EXPANDED_PORTS = 1024;

const PROTOCOLS: Record<string, "TCP" | "UDP" | "SCTP"> = { tcp: "TCP", "6": "TCP", udp: "UDP", "17": "UDP", sctp: "SCTP", "132": "SCTP" };

export type RuleTranslation =
  | { ok: true; direction: "ingress" | "egress"; peer: MultiNetworkPolicyPeer; ports: MultiNetworkPolicyPort[] | undefined }
  | { ok: false; problem: string };

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

  let peer: MultiNetworkPolicyPeer;
  if (rule.remoteGroupRef !== undefined) {
    if (!groups.has(rule.remoteGroupRef)) return { ok: false, problem: `remote group ${rule.remoteGroupRef} (not found)` };
    peer = { podSelector: { matchLabels: { [securityGroupLabel(rule.remoteGroupRef)]: "true" } } };
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

/** A policy name for a group: `sg-<name>`, shortened with a hash when too long for an object name. */
export function policyName(groupName: string): string {
  const name = `sg-${groupName}`;
  if (name.length <= 253) return name;
  return `${name.slice(0, 240)}-${createHash("sha256").update(groupName).digest("hex").slice(0, 12)}`;
}

function policyMeta(namespace: string, name: string, nadRefs: readonly string[], extraLabels: Record<string, string>) {
  const project = projectOfNamespace(namespace);
  return {
    name,
    namespace,
    labels: {
      [LABELS.managedBy]: MANAGED_BY,
      ...(project === undefined ? {} : { [LABELS.project]: project }),
      ...extraLabels,
    },
    annotations: { [POLICY_FOR_ANNOTATION]: nadRefs.join(",") },
  };
}

export interface GroupPolicy {
  policy: PolicyObject;
  /** Rules MultiNetworkPolicy cannot enforce, as "rule N: why". */
  unenforced: string[];
}

/** `nadRefs`: the project's NADs (`namespace/name`), which the policy applies to. */
export function desiredGroupPolicy(group: SecurityGroup, nadRefs: readonly string[], groups: ReadonlySet<string>): GroupPolicy {
  const namespace = group.metadata.namespace ?? "";
  const ingress: MultiNetworkPolicyIngressRule[] = [];
  const egress: MultiNetworkPolicyEgressRule[] = [];
  const unenforced: string[] = [];
  if (group.spec.stateful === false) unenforced.push("stateless groups (MultiNetworkPolicy is enforced statefully)");
  (group.spec.rules ?? []).forEach((rule, i) => {
    const t = translateRule(rule, groups);
    if (!t.ok) {
      unenforced.push(`rule ${i + 1}: ${t.problem}`);
      return;
    }
    const ports = t.ports === undefined ? {} : { ports: t.ports };
    if (t.direction === "ingress") ingress.push({ from: [t.peer], ...ports });
    else egress.push({ to: [t.peer], ...ports });
  });
  const name = group.metadata.name ?? "";
  return {
    policy: {
      apiVersion: "k8s.cni.cncf.io/v1beta1",
      kind: "MultiNetworkPolicy",
      metadata: policyMeta(namespace, policyName(name), nadRefs, {
        [NetworkingLabel.securityGroupUid]: group.metadata.uid ?? "",
      }),
      spec: {
        podSelector: { matchLabels: { [securityGroupLabel(name)]: "true" } },
        policyTypes: ["Ingress", "Egress"],
        ingress,
        egress,
      },
    },
    unenforced,
  };
}

/**
 * The project's baseline for pods with port security: default-deny in both directions (a port whose groups
 * allow nothing passes nothing, as in Neutron), except DHCP for v4 and v6, which Neutron always allows.
 */
export function portSecurityBaseline(namespace: string, nadRefs: readonly string[], owner: SecurityGroup): PolicyObject {
  return {
    apiVersion: "k8s.cni.cncf.io/v1beta1",
    kind: "MultiNetworkPolicy",
    metadata: policyMeta(namespace, BASELINE_POLICY_NAME, nadRefs, {
      [NetworkingLabel.securityGroupUid]: owner.metadata.uid ?? "",
    }),
    spec: {
      podSelector: { matchLabels: { [PORT_SECURITY_LABEL]: PORT_SECURITY_ENABLED } },
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
