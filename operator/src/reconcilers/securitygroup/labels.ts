// Pure: the pod labels through which MultiNetworkPolicies find the pods (virt-launcher pods of servers,
// container pods) their security groups apply to. The server and container reconcilers put these on the
// VM template / Pod; the security group reconciler selects on them. One place for the label format.
//
// Neutron applies a port's groups to that port only. MultiNetworkPolicy selects whole pods, but its
// policy-for narrows a policy to one network attachment; so every label names a (group, network) pair and
// every policy is for one network: a pod's groups on `front` never open anything on `back`.
import { createHash } from "node:crypto";
import type { Network, Port } from "../../api/index.js";
import { networkKeyOf } from "../network/sources.js";

const PREFIX = "altostack.io/";
const SG_LABEL_NAME_PREFIX = "sg-";
const PORT_SECURITY_LABEL_NAME_PREFIX = "port-security.";
/** Label values of the port-security markers. */
export const PORT_SECURITY_ENABLED = "enabled";
const LABEL_NAME_MAX = 63;
const HASH_LENGTH = 10;

/**
 * A label key `altostack.io/<head>-<hash>`: the head is for people (shortened to fit the 63-character name
 * part), the hash of the full identity keeps keys unique however names are shortened or contain dots, and
 * however a shared network (`other/shared`) is named beside a local one of the same name.
 */
function hashedLabelKey(head: string, identity: readonly string[]): string {
  const hash = createHash("sha256").update(JSON.stringify(identity)).digest("hex").slice(0, HASH_LENGTH);
  const readable = head
    .replace(/[^-a-z0-9_.]/gi, "-")
    .slice(0, LABEL_NAME_MAX - HASH_LENGTH - 1)
    .replace(/[-_.]+$/, "");
  return `${PREFIX}${readable}-${hash}`;
}

const networkName = (networkKey: string): string => networkKey.slice(networkKey.indexOf("/") + 1);

/**
 * `altostack.io/sg-<group>.<network>-<hash>`: on pods with a port on the network (`namespace/name` key, as
 * `networkKeyOf` gives it) that is in the group. The group's policy for that network selects on it.
 */
export function securityGroupLabel(groupName: string, networkKey: string): string {
  return hashedLabelKey(`${SG_LABEL_NAME_PREFIX}${groupName}.${networkName(networkKey)}`, ["sg", groupName, networkKey]);
}

/**
 * `altostack.io/port-security.<network>-<hash>`: on pods with a port with port security on the network. The
 * project's baseline (default-deny but DHCP) for that network selects on it.
 */
export function portSecurityLabel(networkKey: string): string {
  return hashedLabelKey(`${PORT_SECURITY_LABEL_NAME_PREFIX}${networkName(networkKey)}`, ["port-security", networkKey]);
}

/** The port-security key of the first format (one per pod, not per network): still recognised so it is removed. */
const LEGACY_PORT_SECURITY_LABEL = `${PREFIX}port-security`;

/**
 * Whether a label key is a security label: this format's (group, network) and port-security keys, and the
 * earlier per-group `altostack.io/sg-<group>` and `altostack.io/port-security`, so that live pods can drop
 * the ones no longer wanted (or left by an older format) without any other label being touched.
 */
export function isSecurityLabelKey(key: string): boolean {
  return (
    key.startsWith(`${PREFIX}${SG_LABEL_NAME_PREFIX}`) ||
    key.startsWith(`${PREFIX}${PORT_SECURITY_LABEL_NAME_PREFIX}`) ||
    key === LEGACY_PORT_SECURITY_LABEL
  );
}

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

/** The `namespace/name` key of a port's network: what the labels and the per-network policies are keyed by. */
export const portNetworkKey = (port: Port): string => networkKeyOf(port.metadata.namespace, port.spec.networkRef);

/**
 * The labels an instance's pod carries for its ports: for every port with port security, the port-security
 * marker of its network and one label per (group of the port, its network). Ports without port security add
 * nothing, so their networks stay unfiltered for the pod even when its other ports are filtered.
 */
export function instanceSecurityLabels(ports: readonly { port: Port; network: Network | undefined }[]): Record<string, string> {
  const labels: Record<string, string> = {};
  for (const { port, network } of ports) {
    if (!portSecurityEnabled(port, network)) continue;
    const networkKey = portNetworkKey(port);
    labels[portSecurityLabel(networkKey)] = PORT_SECURITY_ENABLED;
    for (const group of effectiveSecurityGroups(port, network)) labels[securityGroupLabel(group, networkKey)] = "true";
  }
  return labels;
}
