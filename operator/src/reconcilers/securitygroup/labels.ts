// Pure: the pod labels through which MultiNetworkPolicies find the pods (virt-launcher pods of servers,
// container pods) their security groups apply to. The server and container reconcilers put these on the
// VM template / Pod; the security group reconciler selects on them. One place for the label format.
import { createHash } from "node:crypto";
import type { Network, Port } from "../../api/index.js";

/** On every pod with at least one port that has port security: the baseline policy (DHCP) selects these. */
export const PORT_SECURITY_LABEL = "altostack.io/port-security";
export const PORT_SECURITY_ENABLED = "enabled";
const SG_LABEL_PREFIX = "altostack.io/sg-";
const LABEL_NAME_MAX = 63;

/** `altostack.io/sg-<group>`; names too long for a label key are shortened with a hash suffix. */
export function securityGroupLabel(groupName: string): string {
  const name = `sg-${groupName}`;
  if (name.length <= LABEL_NAME_MAX) return `altostack.io/${name}`;
  const hash = createHash("sha256").update(groupName).digest("hex").slice(0, 10);
  const head = name.slice(0, LABEL_NAME_MAX - hash.length - 1).replace(/[-_.]+$/, "");
  return `altostack.io/${head}-${hash}`;
}

export const isSecurityGroupLabel = (key: string): boolean => key.startsWith(SG_LABEL_PREFIX);

/** The project's default group, which every port is in unless it names its groups (Neutron's rule). */
export const DEFAULT_GROUP_NAME = "default";

/** The groups a port is in: those it names, else `default`; none without port security. */
export function effectiveSecurityGroups(port: Port, network: Network | undefined): string[] {
  if (!portSecurityEnabled(port, network)) return [];
  return port.spec.securityGroupRefs ?? [DEFAULT_GROUP_NAME];
}

/** Neutron's rule: the port's own setting, else the network's, else enabled. */
export function portSecurityEnabled(port: Port, network: Network | undefined): boolean {
  return port.spec.portSecurityEnabled ?? network?.spec.portSecurityEnabled ?? true;
}

/**
 * The labels an instance's pod carries for its ports: the security groups of every port with port security,
 * and the port-security marker when there is at least one such port. Ports without port security add nothing
 * (MultiNetworkPolicy selects whole pods, so a pod mixing both kinds of ports is filtered on all of its
 * project networks: the finest grain MultiNetworkPolicy offers).
 */
export function instanceSecurityLabels(ports: readonly { port: Port; network: Network | undefined }[]): Record<string, string> {
  const labels: Record<string, string> = {};
  for (const { port, network } of ports) {
    if (!portSecurityEnabled(port, network)) continue;
    labels[PORT_SECURITY_LABEL] = PORT_SECURITY_ENABLED;
    for (const group of effectiveSecurityGroups(port, network)) labels[securityGroupLabel(group)] = "true";
  }
  return labels;
}
