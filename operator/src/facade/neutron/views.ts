// Neutron JSON for networks, subnets, ports, security groups and rules: one mapper per object. Pure: the routes
// gather what the objects reference (ids of networks, subnets and groups) from the caches.
import { createHash } from "node:crypto";
import {
  openstackName,
  type Network,
  type Port,
  type SecurityGroup,
  type SecurityGroupRule,
  type Subnet,
} from "../../api/index.js";
import { evaluateSubnet, poolsText } from "../../reconcilers/subnet/evaluate.js";
import { formatIp } from "../../reconcilers/ipam/addresses.js";
import { isoSeconds } from "../keystone/tokens.js";

const timestamps = (obj: { metadata: { creationTimestamp?: string | undefined; generation?: number | undefined } }, updated?: string) => {
  const created = isoSeconds(new Date(obj.metadata.creationTimestamp ?? 0));
  return { created_at: created, updated_at: updated ?? created, revision_number: obj.metadata.generation ?? 1 };
};

const lastTransition = (conditions: readonly { lastTransitionTime: string }[] | undefined): string | undefined => {
  const latest = (conditions ?? []).map((c) => Date.parse(c.lastTransitionTime)).filter((t) => !Number.isNaN(t));
  return latest.length === 0 ? undefined : isoSeconds(new Date(Math.max(...latest)));
};

const owner = (projectId: string) => ({ project_id: projectId, tenant_id: projectId });

export interface NetworkViewInput {
  network: Network;
  projectId: string;
  subnetIds: string[];
  admin: boolean;
}

export function networkView({ network, projectId, subnetIds, admin }: NetworkViewInput) {
  const spec = network.spec;
  const status = network.status;
  return {
    id: network.metadata.uid ?? "",
    name: openstackName(network),
    description: spec.description ?? "",
    admin_state_up: spec.adminStateUp !== false,
    status: status?.status ?? "ACTIVE",
    shared: spec.shared === true,
    "router:external": spec.external === true,
    mtu: status?.mtu ?? spec.mtu ?? 1500,
    port_security_enabled: spec.portSecurityEnabled !== false,
    subnets: subnetIds,
    availability_zone_hints: [],
    availability_zones: ["nova"],
    ipv4_address_scope: null,
    ipv6_address_scope: null,
    is_default: false,
    l2_adjacency: true,
    qos_policy_id: null,
    dns_domain: "",
    tags: [...(spec.tags ?? [])],
    ...owner(projectId),
    ...timestamps(network, lastTransition(status?.conditions)),
    ...(admin
      ? {
          "provider:network_type": status?.networkType ?? spec.providerNetworkType ?? null,
          "provider:physical_network": status?.physicalNetwork ?? spec.providerPhysicalNetwork ?? null,
          "provider:segmentation_id": status?.segmentationId ?? spec.providerSegmentationId ?? null,
        }
      : {}),
  };
}

export interface SubnetViewInput {
  subnet: Subnet;
  projectId: string;
  networkId: string;
}

/** Gateway and pools as the subnet reconciler reports them, or as it will compute them (same function). */
function effectiveAddressing(subnet: Subnet): { gateway: string | null; pools: { start: string; end: string }[] } {
  const status = subnet.status;
  if (status?.allocationPools !== undefined) {
    return { gateway: subnet.spec.noGateway === true ? null : (status.gatewayIP ?? null), pools: status.allocationPools };
  }
  const evaluated = evaluateSubnet(subnet, []);
  if (!evaluated.ok) return { gateway: subnet.spec.gatewayIP ?? null, pools: subnet.spec.allocationPools ?? [] };
  const gateway = evaluated.view.gateway;
  return { gateway: gateway === undefined ? null : formatIp(evaluated.view.cidr.version, gateway), pools: poolsText(evaluated.view) };
}

export function subnetView({ subnet, projectId, networkId }: SubnetViewInput) {
  const spec = subnet.spec;
  const { gateway, pools } = effectiveAddressing(subnet);
  return {
    id: subnet.metadata.uid ?? "",
    name: openstackName(subnet),
    description: spec.description ?? "",
    network_id: networkId,
    cidr: spec.cidr,
    ip_version: spec.ipVersion,
    gateway_ip: gateway,
    allocation_pools: pools,
    dns_nameservers: [...(spec.dnsNameservers ?? [])],
    host_routes: (spec.hostRoutes ?? []).map((r) => ({ destination: r.destination, nexthop: r.nexthop })),
    enable_dhcp: spec.enableDhcp !== false,
    ipv6_address_mode: spec.ipv6AddressMode ?? null,
    ipv6_ra_mode: spec.ipv6RaMode ?? null,
    subnetpool_id: null,
    segment_id: null,
    service_types: [],
    dns_publish_fixed_ip: false,
    tags: [...(spec.tags ?? [])],
    ...owner(projectId),
    ...timestamps(subnet, lastTransition(subnet.status?.conditions)),
  };
}

export interface PortViewInput {
  port: Port;
  projectId: string;
  networkId: string;
  /** Subnet name → id, for fixed IPs. */
  subnetIds: ReadonlyMap<string, string>;
  securityGroupIds: string[];
  /** Id of the server or container the port is bound to, when known from the port's owner. */
  admin: boolean;
}

export function portView({ port, projectId, networkId, subnetIds, securityGroupIds, admin }: PortViewInput) {
  const spec = port.spec;
  const status = port.status;
  const fixedIps =
    status?.fixedIPs?.map((f) => ({ subnet_id: f.subnetId ?? subnetIds.get(f.subnet) ?? "", ip_address: f.ipAddress })) ??
    (spec.fixedIPs ?? []).map((f) => ({
      subnet_id: f.subnetRef === undefined ? "" : (subnetIds.get(f.subnetRef) ?? ""),
      ...(f.ipAddress === undefined ? {} : { ip_address: f.ipAddress }),
    }));
  return {
    id: port.metadata.uid ?? "",
    name: openstackName(port),
    description: spec.description ?? "",
    network_id: status?.networkId ?? networkId,
    admin_state_up: spec.adminStateUp !== false,
    status: status?.status ?? "DOWN",
    mac_address: status?.macAddress ?? spec.macAddress ?? "",
    fixed_ips: fixedIps,
    device_id: status?.deviceId ?? "",
    device_owner: status?.deviceOwner ?? "",
    security_groups: securityGroupIds,
    port_security_enabled: spec.portSecurityEnabled !== false,
    allowed_address_pairs: (spec.allowedAddressPairs ?? []).map((p) => ({
      ip_address: p.ipAddress,
      mac_address: p.macAddress ?? status?.macAddress ?? "",
    })),
    extra_dhcp_opts: [],
    dns_name: "",
    dns_assignment: [],
    "binding:vnic_type": "normal",
    ...(admin ? { "binding:host_id": "", "binding:profile": {}, "binding:vif_details": {}, "binding:vif_type": "ovs" } : {}),
    tags: [...(spec.tags ?? [])],
    ...owner(projectId),
    ...timestamps(port, lastTransition(status?.conditions)),
  };
}

/** A rule's id: stable for the rule's content within its group (rules have no identity of their own in the CRD). */
export function ruleId(groupUid: string, rule: SecurityGroupRule): string {
  const canonical = JSON.stringify([
    rule.direction,
    rule.ethertype ?? "IPv4",
    rule.protocol ?? null,
    rule.portRangeMin ?? null,
    rule.portRangeMax ?? null,
    rule.remoteIPPrefix ?? null,
    rule.remoteGroupRef ?? null,
  ]);
  const hex = createHash("sha256").update(`${groupUid}\0${canonical}`).digest("hex");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-5${hex.slice(13, 16)}-a${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

export interface RuleViewInput {
  group: SecurityGroup;
  rule: SecurityGroupRule;
  projectId: string;
  /** remoteGroupRef → id. */
  remoteGroupId: string | null;
}

export function ruleView({ group, rule, projectId, remoteGroupId }: RuleViewInput) {
  const protocol = rule.protocol === undefined || rule.protocol === "any" ? null : rule.protocol;
  return {
    id: ruleId(group.metadata.uid ?? "", rule),
    security_group_id: group.metadata.uid ?? "",
    direction: rule.direction,
    ethertype: rule.ethertype ?? "IPv4",
    protocol,
    port_range_min: rule.portRangeMin ?? null,
    port_range_max: rule.portRangeMax ?? null,
    remote_ip_prefix: rule.remoteIPPrefix ?? null,
    remote_group_id: remoteGroupId,
    remote_address_group_id: null,
    description: rule.description ?? "",
    belongs_to_default_sg: group.metadata.name === "default",
    ...owner(projectId),
    ...timestamps(group),
  };
}

export function securityGroupView(group: SecurityGroup, projectId: string, rules: ReturnType<typeof ruleView>[]) {
  return {
    id: group.metadata.uid ?? "",
    name: openstackName(group),
    description: group.spec.description ?? "",
    stateful: group.spec.stateful !== false,
    shared: false,
    security_group_rules: rules,
    tags: [...(group.spec.tags ?? [])],
    ...owner(projectId),
    ...timestamps(group, lastTransition(group.status?.conditions)),
  };
}
