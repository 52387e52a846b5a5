// Neutron v2.0: networks, subnets, ports, security groups and rules (→ Network, Subnet, Port, SecurityGroup
// objects), extensions, quotas and network IP availability. Lists support Neutron's attribute filters, sorting,
// limit/marker pagination and `fields`.
import { z } from "zod";
import { namedQuotas, writeProjectQuotas } from "../common/quotas.js";
import {
  networkKind,
  openstackName,
  portKind,
  projectKind,
  projectOfNamespace,
  securityGroupKind,
  subnetKind,
  type Network,
  type Port,
  type Project,
  type SecurityGroup,
  type SecurityGroupRule,
  type Subnet,
} from "../../api/index.js";
import { otherNamespaces } from "../../reconcilers/network/desired.js";
import { effectiveQuotas } from "../../reconcilers/project/desired.js";
import { requireAccess, requireProject, type Caller, type CallerProject } from "../common/caller.js";
import type { ServiceDeps } from "../common/deps.js";
import { ApiError, badRequest, forbidden } from "../common/errors.js";
import { reply, type Reply, type Route, type RouteContext, type Service } from "../common/http.js";
import { fromKubeError } from "../common/kube-errors.js";
import { filterItems, nextHref, paginate, parsePage, parseSort, selectFields, sortItems, type JsonObject } from "../common/listing.js";
import { TenantAccess } from "../common/tenant.js";
import { SERVICE_PREFIXES } from "../keystone/catalog.js";
import { networkView, portView, ruleId, ruleView, securityGroupView, subnetView } from "./views.js";
import { specNameOf } from "../common/names.js";
import { refFrom } from "../common/refs.js";

/** Extensions we implement faithfully; clients probe some before using a feature (e.g. port create). */
const EXTENSIONS: readonly { alias: string; name: string; description: string }[] = [
  { alias: "allowed-address-pairs", name: "Allowed Address Pairs", description: "Provides allowed address pairs" },
  { alias: "external-net", name: "Neutron external network", description: "Adds external network attribute to network resource." },
  { alias: "fields", name: "Fields", description: "Supports selecting attributes with the fields parameter" },
  { alias: "net-mtu", name: "Network MTU", description: "Provides MTU attribute for a network resource." },
  { alias: "network-ip-availability", name: "Network IP Availability", description: "Provides IP availability data for each network and subnet." },
  { alias: "pagination", name: "Pagination support", description: "Extension that indicates that pagination is enabled." },
  { alias: "port-security", name: "Port Security", description: "Provides port security" },
  { alias: "project-id", name: "project_id field enabled", description: "Extension that indicates that project_id field is enabled." },
  { alias: "provider", name: "Provider Network", description: "Expose mapping of virtual networks to physical networks" },
  { alias: "quotas", name: "Quota management support", description: "Expose functions for quotas management per project" },
  { alias: "quota_details", name: "Quota details management support", description: "Expose functions for quotas usage statistics per project" },
  { alias: "security-group", name: "security-group", description: "The security groups extension." },
  { alias: "sorting", name: "Sorting support", description: "Extension that indicates that sorting is enabled." },
  { alias: "standard-attr-description", name: "standard-attr-description", description: "Extension to add descriptions to standard attributes" },
  { alias: "standard-attr-revisions", name: "Resource revision numbers", description: "This extension will display the revision number of neutron resources." },
  { alias: "standard-attr-tag", name: "Tag support for resources with standard attribute", description: "Enables to set tag on resources with standard attribute." },
  { alias: "standard-attr-timestamp", name: "Resource timestamps", description: "Adds created_at and updated_at fields to all Neutron resources that have Neutron standard attributes." },
  { alias: "stateful-security-group", name: "Stateful security group", description: "Indicates if the security group is stateful or not" },
];

/** Query parameters that are not attribute filters. */
const RESERVED_QUERY = new Set(["limit", "marker", "fields", "sort_key", "sort_dir", "page_reverse", "tags", "tags-any", "not-tags", "not-tags-any"]);

const nullableString = (max: number) => z.string().max(max).nullish();
const tagsSchema = z.array(z.string().min(1).max(255)).max(64).nullish();

const networkSchema = z.object({
  name: nullableString(255),
  description: nullableString(255),
  admin_state_up: z.boolean().nullish(),
  shared: z.boolean().nullish(),
  "router:external": z.boolean().nullish(),
  mtu: z.int().min(68).max(9216).nullish(),
  port_security_enabled: z.boolean().nullish(),
  "provider:network_type": z.enum(["flat", "vlan"]).nullish(),
  "provider:physical_network": nullableString(64),
  "provider:segmentation_id": z.int().min(1).max(4094).nullish(),
  tags: tagsSchema,
});
const subnetSchema = z.object({
  network_id: z.string().min(1),
  cidr: z.string().min(1).max(64),
  ip_version: z.union([z.literal(4), z.literal(6)]),
  name: nullableString(255),
  description: nullableString(255),
  gateway_ip: z.string().max(64).nullable().optional(),
  allocation_pools: z.array(z.object({ start: z.string().max(64), end: z.string().max(64) })).max(64).nullish(),
  dns_nameservers: z.array(z.string().max(64)).max(16).nullish(),
  host_routes: z.array(z.object({ destination: z.string().max(64), nexthop: z.string().max(64) })).max(64).nullish(),
  enable_dhcp: z.boolean().nullish(),
  ipv6_address_mode: z.enum(["slaac", "dhcpv6-stateful", "dhcpv6-stateless"]).nullish(),
  ipv6_ra_mode: z.enum(["slaac", "dhcpv6-stateful", "dhcpv6-stateless"]).nullish(),
  subnetpool_id: z.string().nullish(),
  tags: tagsSchema,
});
const subnetUpdateSchema = subnetSchema.omit({ network_id: true, cidr: true, ip_version: true, ipv6_address_mode: true, ipv6_ra_mode: true }).partial();
const portSchema = z.object({
  network_id: z.string().min(1),
  name: nullableString(255),
  description: nullableString(255),
  fixed_ips: z.array(z.object({ subnet_id: z.string().nullish(), ip_address: z.string().max(64).nullish() })).max(16).nullish(),
  mac_address: z.string().regex(/^([0-9a-fA-F]{2}:){5}[0-9a-fA-F]{2}$/).nullish(),
  security_groups: z.array(z.string()).max(32).nullish(),
  port_security_enabled: z.boolean().nullish(),
  allowed_address_pairs: z.array(z.object({ ip_address: z.string().max(64), mac_address: z.string().nullish() })).max(32).nullish(),
  admin_state_up: z.boolean().nullish(),
  device_id: z.string().nullish(),
  device_owner: z.string().nullish(),
  "binding:vnic_type": z.string().nullish(),
  "binding:host_id": z.string().nullish(),
  "binding:profile": z.unknown().optional(),
  tags: tagsSchema,
});
const portUpdateSchema = portSchema.omit({ network_id: true, mac_address: true }).partial();
const groupSchema = z.object({ name: nullableString(255), description: nullableString(255), stateful: z.boolean().nullish(), tags: tagsSchema });
const ruleSchema = z.object({
  security_group_id: z.string().min(1),
  direction: z.enum(["ingress", "egress"]),
  ethertype: z.enum(["IPv4", "IPv6"]).nullish(),
  protocol: z.union([z.string().max(16), z.int().transform(String)]).nullish(),
  port_range_min: z.int().min(0).max(65535).nullish(),
  port_range_max: z.int().min(0).max(65535).nullish(),
  remote_ip_prefix: z.string().max(64).nullish(),
  remote_group_id: z.string().nullish(),
  remote_address_group_id: z.string().nullish(),
  description: nullableString(255),
});
const quotaUpdateSchema = z.object({
  quota: z.looseObject({ network: z.int().min(-1).nullish(), port: z.int().min(-1).nullish(), security_group: z.int().min(-1).nullish() }),
});

type NetworkInput = z.infer<typeof networkSchema>;

export function neutronService(deps: ServiceDeps): Service {
  const { store, identity } = deps;
  const tenant = new TenantAccess(store, "neutron");
  const failed = (action: string, subject: string) => ({ policy: action, subject });

  const projectIdOf = (namespace: string | undefined): string => {
    const name = projectOfNamespace(namespace);
    return name === undefined ? "" : (identity.projectByObjectName(name)?.metadata.uid ?? "");
  };
  const notFoundOf = (type: string, id: string) => new ApiError(404, `${type} ${id} could not be found.`, { neutronType: `${type.replace(/ /g, "")}NotFound` });

  /** Shared and external networks are visible to every project, as in Neutron. */
  const visibleNetworks = async (caller: Caller): Promise<Network[]> => {
    const own = await tenant.list<Network>(caller, networkKind, "get_network");
    const ownNamespace = requireProject(caller).namespace;
    const others = store
      .all<Network>(networkKind)
      .filter((n) => n.metadata.namespace !== ownNamespace && (n.spec.shared === true || n.spec.external === true || caller.cloudAdmin));
    // Neutron deletes synchronously: a network whose finalizer still holds it (its attachment definition going
    // away) is already gone for clients, which GET it after DELETE and expect 404 (gophercloud, Terraform).
    return [...own, ...others].filter((n) => n.metadata.deletionTimestamp === undefined);
  };
  const networkOr404 = async (caller: Caller, id: string, forWrite = false): Promise<Network> => {
    const network = (await visibleNetworks(caller)).find((n) => n.metadata.uid === id);
    if (network === undefined) throw notFoundOf("Network", id);
    if (forWrite && network.metadata.namespace !== requireProject(caller).namespace && !caller.cloudAdmin) {
      throw new ApiError(403, `Policy doesn't allow update_network to be performed on network ${id}.`, { neutronType: "PolicyNotAuthorized" });
    }
    return network;
  };
  const subnetsOf = (network: Network): Subnet[] =>
    store.inNamespace<Subnet>(subnetKind, network.metadata.namespace ?? "").filter((s) => s.spec.networkRef === network.metadata.name);
  const networkOfRef = (namespace: string, ref: string): Network | undefined => {
    const slash = ref.indexOf("/");
    return slash < 0 ? store.get<Network>(networkKind, `${namespace}/${ref}`) : store.get<Network>(networkKind, `project-${ref.slice(0, slash)}/${ref.slice(slash + 1)}`);
  };

  const portsOn = (network: Network): Port[] =>
    store.all<Port>(portKind).filter((p) => networkOfRef(p.metadata.namespace ?? "", p.spec.networkRef)?.metadata.uid === network.metadata.uid);
  /** Neutron refuses to unshare a network other projects have ports on, admins included. */
  const refuseUnsharingInUse = (network: Network, input: { shared?: boolean | null | undefined }): void => {
    if (input.shared !== false || network.spec.shared !== true) return;
    if (otherNamespaces(network, portsOn(network).map((p) => p.metadata.namespace)).length === 0) return;
    throw new ApiError(409, `Unable to reconfigure sharing settings for network ${network.metadata.uid ?? ""}. Multiple tenants are using it.`, {
      neutronType: "InvalidSharedSetting",
    });
  };

  const showNetwork = (network: Network, caller: Caller) =>
    networkView({ network, projectId: projectIdOf(network.metadata.namespace), subnetIds: subnetsOf(network).map((s) => s.metadata.uid ?? ""), admin: caller.cloudAdmin });
  const showSubnet = (subnet: Subnet) =>
    subnetView({
      subnet,
      projectId: projectIdOf(subnet.metadata.namespace),
      networkId: store.get<Network>(networkKind, `${subnet.metadata.namespace ?? ""}/${subnet.spec.networkRef}`)?.metadata.uid ?? "",
    });
  const showPort = (port: Port, caller: Caller) => {
    const ns = port.metadata.namespace ?? "";
    const network = networkOfRef(ns, port.spec.networkRef);
    const subnetIds = new Map<string, string>();
    if (network !== undefined) for (const s of subnetsOf(network)) subnetIds.set(s.metadata.name ?? "", s.metadata.uid ?? "");
    const groups = port.spec.securityGroupRefs ?? (store.get(securityGroupKind, `${ns}/default`) === undefined ? [] : ["default"]);
    return portView({
      port,
      projectId: projectIdOf(ns),
      networkId: network?.metadata.uid ?? "",
      subnetIds,
      securityGroupIds: groups.map((g) => store.get<SecurityGroup>(securityGroupKind, `${ns}/${g}`)?.metadata.uid ?? g),
      admin: caller.cloudAdmin,
    });
  };
  const rulesOf = (group: SecurityGroup) => {
    const ns = group.metadata.namespace ?? "";
    const projectId = projectIdOf(ns);
    return (group.spec.rules ?? []).map((rule) =>
      ruleView({
        group,
        rule,
        projectId,
        remoteGroupId: rule.remoteGroupRef === undefined ? null : (store.get<SecurityGroup>(securityGroupKind, `${ns}/${rule.remoteGroupRef}`)?.metadata.uid ?? null),
      }),
    );
  };
  const showGroup = (group: SecurityGroup) => securityGroupView(group, projectIdOf(group.metadata.namespace), rulesOf(group));

  /** Neutron list semantics: attribute filters, tags, sorting, limit/marker, fields, `<key>_links`. */
  const list = (ctx: RouteContext, key: string, items: JsonObject[], sortable: readonly string[]): Reply => {
    const q = ctx.query;
    const filterKeys = [...new Set(q.keys())].filter((k) => !RESERVED_QUERY.has(k));
    let result = filterItems(items, q, filterKeys.filter((k) => items.length === 0 || k in (items[0] ?? {})));
    // A filter on an attribute the resource does not have matches nothing, as Neutron.
    if (items.length > 0 && filterKeys.some((k) => !(k in (items[0] ?? {})))) result = [];
    const tags = q.get("tags");
    if (tags !== null && tags !== "") result = result.filter((i) => tags.split(",").every((t) => (i.tags as string[] | undefined)?.includes(t)));
    const tagsAny = q.get("tags-any");
    if (tagsAny !== null && tagsAny !== "") result = result.filter((i) => tagsAny.split(",").some((t) => (i.tags as string[] | undefined)?.includes(t)));
    result = sortItems(result, parseSort(q, sortable, [{ key: "id", dir: "asc" }]));
    if (q.get("page_reverse")?.toLowerCase() === "true") result.reverse();
    const page = paginate(result as (JsonObject & { id: string })[], parsePage(q), (m) => notFoundOf("Marker", m));
    const fields = q.getAll("fields").flatMap((f) => f.split(","));
    const body: JsonObject = { [key]: page.items.map((i) => selectFields(i, fields)) };
    if (page.nextMarker !== undefined) body[`${key}_links`] = [{ rel: "next", href: nextHref(`${ctx.serviceUrl}${ctx.path}`, q, page.nextMarker) }];
    return reply(200, body);
  };
  const one = (ctx: RouteContext, key: string, item: JsonObject): Reply => {
    const fields = ctx.query.getAll("fields").flatMap((f) => f.split(","));
    return reply(200, { [key]: selectFields(item, fields) });
  };

  // ---- networks ----

  const networkSpecOf = (input: NetworkInput, caller: Caller): Record<string, unknown> => {
    const provider = input["provider:network_type"] != null || input["provider:physical_network"] != null || input["provider:segmentation_id"] != null;
    if (provider && !caller.cloudAdmin) {
      throw new ApiError(403, "Policy doesn't allow create_network:provider:network_type to be performed.", { neutronType: "PolicyNotAuthorized" });
    }
    if ((input.shared === true || input["router:external"] === true) && !caller.cloudAdmin) {
      throw new ApiError(403, "Policy doesn't allow create_network:shared to be performed.", { neutronType: "PolicyNotAuthorized" });
    }
    return {
      ...(input.description == null ? {} : { description: input.description }),
      ...(input.admin_state_up == null ? {} : { adminStateUp: input.admin_state_up }),
      ...(input.shared == null ? {} : { shared: input.shared }),
      ...(input["router:external"] == null ? {} : { external: input["router:external"] }),
      ...(input.mtu == null ? {} : { mtu: input.mtu }),
      ...(input.port_security_enabled == null ? {} : { portSecurityEnabled: input.port_security_enabled }),
      ...(input["provider:network_type"] == null ? {} : { providerNetworkType: input["provider:network_type"] }),
      ...(input["provider:physical_network"] == null ? {} : { providerPhysicalNetwork: input["provider:physical_network"] }),
      ...(input["provider:segmentation_id"] == null ? {} : { providerSegmentationId: input["provider:segmentation_id"] }),
      ...(input.tags == null ? {} : { tags: [...new Set(input.tags)] }),
    };
  };

  const createNetwork = async (ctx: RouteContext): Promise<Reply> => {
    const caller = ctx.caller();
    const { network: input } = await ctx.body(z.object({ network: networkSchema }));
    const name = input.name ?? "";
    const created = await tenant.create<Network>(
      caller,
      networkKind,
      name,
      (choice, p) => ({
        apiVersion: networkKind.apiVersion,
        kind: networkKind.kind,
        metadata: { name: choice.objectName, namespace: p.namespace },
        spec: { ...specNameOf(choice), ...networkSpecOf(input, caller) },
      }),
      failed("create_network", `network ${name}`),
      { fallback: "network", maxLength: 50 },
    );
    return reply(201, { network: showNetwork(created, caller) });
  };

  const deleteNetwork = async (ctx: RouteContext): Promise<Reply> => {
    const caller = ctx.caller();
    const network = await networkOr404(caller, ctx.params.id ?? "", true);
    if (portsOn(network).length > 0) {
      throw new ApiError(409, `Unable to complete operation on network ${network.metadata.uid ?? ""}. There are one or more ports still in use on the network.`, {
        neutronType: "NetworkInUse",
      });
    }
    // Neutron deletes a network's subnets with it.
    for (const subnet of subnetsOf(network)) {
      await tenant.delete(caller, subnetKind, subnet, failed("delete_subnet", `subnet ${subnet.metadata.uid ?? ""}`));
    }
    await tenant.delete(caller, networkKind, network, failed("delete_network", `network ${network.metadata.uid ?? ""}`));
    return reply(204);
  };

  // ---- subnets ----

  const subnetOr404 = async (caller: Caller, id: string): Promise<Subnet> => {
    const subnet = await tenant.find<Subnet>(caller, subnetKind, id, "get_subnet");
    if (subnet === undefined) {
      // Subnets of shared networks are visible too.
      const shared = store.byUid<Subnet>(subnetKind, id);
      const network = shared === undefined ? undefined : store.get<Network>(networkKind, `${shared.metadata.namespace ?? ""}/${shared.spec.networkRef}`);
      if (shared !== undefined && network?.spec.shared === true) return shared;
      throw notFoundOf("Subnet", id);
    }
    return subnet;
  };

  const subnetSpecOf = (input: Partial<z.infer<typeof subnetSchema>>): Record<string, unknown> => ({
    ...(input.description == null ? {} : { description: input.description }),
    ...(input.gateway_ip === null ? { noGateway: true, gatewayIP: null } : input.gateway_ip === undefined ? {} : { gatewayIP: input.gateway_ip, noGateway: null }),
    ...(input.allocation_pools == null ? {} : { allocationPools: input.allocation_pools }),
    ...(input.dns_nameservers == null ? {} : { dnsNameservers: input.dns_nameservers }),
    ...(input.host_routes == null ? {} : { hostRoutes: input.host_routes }),
    ...(input.enable_dhcp == null ? {} : { enableDhcp: input.enable_dhcp }),
    ...(input.ipv6_address_mode == null ? {} : { ipv6AddressMode: input.ipv6_address_mode }),
    ...(input.ipv6_ra_mode == null ? {} : { ipv6RaMode: input.ipv6_ra_mode }),
    ...(input.tags == null ? {} : { tags: [...new Set(input.tags)] }),
  });

  const createSubnet = async (ctx: RouteContext): Promise<Reply> => {
    const caller = ctx.caller();
    const project = requireProject(caller);
    const { subnet: input } = await ctx.body(z.object({ subnet: subnetSchema }));
    if (input.subnetpool_id != null) throw badRequest("Subnet pools are not supported; give a cidr.");
    const network = await networkOr404(caller, input.network_id, true);
    if (network.metadata.namespace !== project.namespace) throw badRequest("Subnets can only be added to networks of your own project.");
    const name = input.name ?? "";
    const spec = subnetSpecOf(input);
    const created = await tenant.create<Subnet>(
      caller,
      subnetKind,
      name,
      (choice, p) => ({
        apiVersion: subnetKind.apiVersion,
        kind: subnetKind.kind,
        metadata: { name: choice.objectName, namespace: p.namespace },
        spec: {
          ...specNameOf(choice),
          networkRef: network.metadata.name ?? "",
          cidr: input.cidr,
          ipVersion: input.ip_version,
          ...Object.fromEntries(Object.entries(spec).filter(([, v]) => v !== null)),
        },
      }),
      failed("create_subnet", `subnet ${input.cidr}`),
      { fallback: "subnet", maxLength: 50 },
    );
    return reply(201, { subnet: showSubnet(created) });
  };

  // ---- ports ----

  const portOr404 = async (caller: Caller, id: string): Promise<Port> => {
    const port = await tenant.find<Port>(caller, portKind, id, "get_port");
    if (port === undefined) throw notFoundOf("Port", id);
    return port;
  };
  const groupRefs = (project: CallerProject, ids: readonly string[]): string[] =>
    ids.map((id) => {
      const group = store.inNamespace<SecurityGroup>(securityGroupKind, project.namespace).find((g) => g.metadata.uid === id);
      if (group === undefined) throw notFoundOf("Security group", id);
      return group.metadata.name ?? "";
    });
  const fixedIpsOf = (network: Network, fixedIps: z.infer<typeof portSchema>["fixed_ips"]) =>
    (fixedIps ?? []).map((f) => {
      let subnetRef: string | undefined;
      if (f.subnet_id != null) {
        const subnet = subnetsOf(network).find((s) => s.metadata.uid === f.subnet_id);
        if (subnet === undefined) throw notFoundOf("Subnet", f.subnet_id);
        subnetRef = subnet.metadata.name;
      }
      if (subnetRef === undefined && f.ip_address == null) throw badRequest("A fixed IP needs subnet_id or ip_address.");
      return { ...(subnetRef === undefined ? {} : { subnetRef }), ...(f.ip_address == null ? {} : { ipAddress: f.ip_address }) };
    });

  const createPort = async (ctx: RouteContext): Promise<Reply> => {
    const caller = ctx.caller();
    const project = requireProject(caller);
    const { port: input } = await ctx.body(z.object({ port: portSchema }));
    const network = await networkOr404(caller, input.network_id);
    const networkRef = refFrom(project.namespace, network);
    const name = input.name ?? "";
    const created = await tenant.create<Port>(
      caller,
      portKind,
      name,
      (choice, p) => ({
        apiVersion: portKind.apiVersion,
        kind: portKind.kind,
        metadata: { name: choice.objectName, namespace: p.namespace },
        spec: {
          ...specNameOf(choice),
          networkRef,
          ...(input.fixed_ips == null ? {} : { fixedIPs: fixedIpsOf(network, input.fixed_ips) }),
          ...(input.mac_address == null ? {} : { macAddress: input.mac_address.toLowerCase() }),
          ...(input.security_groups == null ? {} : { securityGroupRefs: groupRefs(project, input.security_groups) }),
          ...(input.port_security_enabled == null ? {} : { portSecurityEnabled: input.port_security_enabled }),
          ...(input.allowed_address_pairs == null
            ? {}
            : { allowedAddressPairs: input.allowed_address_pairs.map((a) => ({ ipAddress: a.ip_address, ...(a.mac_address == null ? {} : { macAddress: a.mac_address.toLowerCase() }) })) }),
          ...(input.admin_state_up == null ? {} : { adminStateUp: input.admin_state_up }),
          ...(input.description == null ? {} : { description: input.description }),
          ...(input.tags == null ? {} : { tags: [...new Set(input.tags)] }),
        },
      }),
      failed("create_port", `port on network ${input.network_id}`),
      { fallback: "port", maxLength: 50 },
    );
    return reply(201, { port: showPort(created, caller) });
  };

  // ---- security groups ----

  const groupOr404 = async (caller: Caller, id: string): Promise<SecurityGroup> => {
    const group = await tenant.find<SecurityGroup>(caller, securityGroupKind, id, "get_security_group");
    if (group === undefined) throw notFoundOf("Security group", id);
    return group;
  };

  const createGroup = async (ctx: RouteContext): Promise<Reply> => {
    const caller = ctx.caller();
    const { security_group: input } = await ctx.body(z.object({ security_group: groupSchema }));
    const name = input.name ?? "";
    if (name === "default") throw new ApiError(409, "Default security group already exists.", { neutronType: "SecurityGroupDefaultAlreadyExists" });
    const created = await tenant.create<SecurityGroup>(
      caller,
      securityGroupKind,
      name,
      (choice, p) => ({
        apiVersion: securityGroupKind.apiVersion,
        kind: securityGroupKind.kind,
        metadata: { name: choice.objectName, namespace: p.namespace },
        spec: {
          ...specNameOf(choice),
          ...(input.description == null ? {} : { description: input.description }),
          ...(input.stateful == null ? {} : { stateful: input.stateful }),
          ...(input.tags == null ? {} : { tags: [...new Set(input.tags)] }),
          // Neutron gives every new group egress to anywhere, for both address families.
          rules: [
            { direction: "egress", ethertype: "IPv4" },
            { direction: "egress", ethertype: "IPv6" },
          ],
        },
      }),
      failed("create_security_group", `security group ${name}`),
      { fallback: "secgroup", maxLength: 50 },
    );
    return reply(201, { security_group: showGroup(created) });
  };

  const allRules = async (caller: Caller) => {
    const groups = await tenant.list<SecurityGroup>(caller, securityGroupKind, "get_security_group_rule");
    return groups.flatMap((group) => rulesOf(group).map((view, i) => ({ group, rule: (group.spec.rules ?? [])[i] as SecurityGroupRule, view })));
  };

  const createRule = async (ctx: RouteContext): Promise<Reply> => {
    const caller = ctx.caller();
    const project = requireProject(caller);
    const { security_group_rule: input } = await ctx.body(z.object({ security_group_rule: ruleSchema }));
    const group = await groupOr404(caller, input.security_group_id);
    if (input.remote_address_group_id != null) throw badRequest("Address groups are not supported; use remote_ip_prefix or remote_group_id.");
    let remoteGroupRef: string | undefined;
    if (input.remote_group_id != null) {
      const remote = store.inNamespace<SecurityGroup>(securityGroupKind, project.namespace).find((g) => g.metadata.uid === input.remote_group_id);
      if (remote === undefined) throw notFoundOf("Security group", input.remote_group_id);
      remoteGroupRef = remote.metadata.name;
    }
    const protocol = input.protocol == null ? undefined : input.protocol.toLowerCase();
    if (protocol !== undefined && !/^(tcp|udp|sctp|icmp|icmpv6|ipv6-icmp|any|[0-9]{1,3})$/.test(protocol)) {
      throw new ApiError(400, `Security group rule protocol ${protocol} not supported. Only protocol values [None, tcp, udp, icmp, icmpv6, sctp] and integer representations [0 to 255] are supported.`, {
        neutronType: "SecurityGroupRuleInvalidProtocol",
      });
    }
    const rule: SecurityGroupRule = {
      direction: input.direction,
      ethertype: input.ethertype ?? "IPv4",
      ...(protocol === undefined ? {} : { protocol: protocol === "ipv6-icmp" ? "icmpv6" : protocol }),
      ...(input.port_range_min == null ? {} : { portRangeMin: input.port_range_min }),
      ...(input.port_range_max == null ? {} : { portRangeMax: input.port_range_max }),
      ...(input.remote_ip_prefix == null ? {} : { remoteIPPrefix: input.remote_ip_prefix }),
      ...(remoteGroupRef === undefined ? {} : { remoteGroupRef }),
      ...(input.description == null ? {} : { description: input.description }),
    };
    const id = ruleId(group.metadata.uid ?? "", rule);
    const updated = await tenant.patchGuarded<SecurityGroup>(
      caller,
      securityGroupKind,
      group,
      (current) => {
        const existing = current.spec.rules ?? [];
        if (existing.some((r) => ruleId(current.metadata.uid ?? "", r) === id)) {
          throw new ApiError(409, `Security group rule already exists. Rule id is ${id}.`, { neutronType: "SecurityGroupRuleExists" });
        }
        return { rules: [...existing, rule] };
      },
      failed("create_security_group_rule", `security group ${group.metadata.uid ?? ""}`),
    );
    const view = rulesOf(updated).find((r) => r.id === id);
    return reply(201, { security_group_rule: view });
  };

  const deleteRule = async (ctx: RouteContext): Promise<Reply> => {
    const caller = ctx.caller();
    const found = (await allRules(caller)).find((r) => r.view.id === ctx.params.id);
    if (found === undefined) throw notFoundOf("Security group rule", ctx.params.id ?? "");
    await tenant.patchGuarded(
      caller,
      securityGroupKind,
      found.group,
      (current) => ({ rules: (current.spec.rules ?? []).filter((r) => ruleId(current.metadata.uid ?? "", r) !== ctx.params.id) }),
      failed("delete_security_group_rule", `security group rule ${ctx.params.id ?? ""}`),
    );
    return reply(204);
  };

  // ---- quotas ----

  const quotaOf = (project: Project) => {
    const q = project.status?.quotas ?? effectiveQuotas(project);
    return {
      network: q.networks ?? -1,
      subnet: -1,
      port: q.ports ?? -1,
      security_group: q.securityGroups ?? -1,
      security_group_rule: -1,
      router: 0,
      floatingip: 0,
      rbac_policy: -1,
      subnetpool: -1,
    };
  };
  const projectForQuota = async (ctx: RouteContext): Promise<Project> => {
    const caller = ctx.caller();
    const id = ctx.params.project ?? "";
    const project = identity.projectById(id);
    if (project === undefined || (caller.project?.id !== id && !caller.cloudAdmin)) {
      if (project !== undefined) throw forbidden("Policy doesn't allow get_quota to be performed.", { neutronType: "PolicyNotAuthorized" });
      throw notFoundOf("Project", id);
    }
    await requireAccess(caller, { verb: "get", resource: projectKind, name: project.metadata.name }, "get_quota");
    return project;
  };

  const ipAvailability = (network: Network) => {
    const subnets = subnetsOf(network).map((s) => ({
      subnet_id: s.metadata.uid ?? "",
      subnet_name: openstackName(s),
      cidr: s.spec.cidr,
      ip_version: s.spec.ipVersion,
      total_ips: s.status?.total ?? 0,
      used_ips: s.status?.allocated ?? 0,
    }));
    return {
      network_id: network.metadata.uid ?? "",
      network_name: openstackName(network),
      project_id: projectIdOf(network.metadata.namespace),
      tenant_id: projectIdOf(network.metadata.namespace),
      subnet_ip_availability: subnets,
      total_ips: subnets.reduce((n, s) => n + s.total_ips, 0),
      used_ips: subnets.reduce((n, s) => n + s.used_ips, 0),
    };
  };

  const update = async <T extends Network | Subnet | Port | SecurityGroup>(
    ctx: RouteContext,
    kind: typeof networkKind | typeof subnetKind | typeof portKind | typeof securityGroupKind,
    obj: T,
    name: string | null | undefined,
    spec: Record<string, unknown>,
    action: string,
  ): Promise<T> => {
    if (name != null) spec.name = name === obj.metadata.name ? null : name;
    if (Object.keys(spec).length === 0) return obj;
    return tenant.patch<T>(ctx.caller(), kind, obj, { spec }, failed(action, `${kind.singular} ${obj.metadata.uid ?? ""}`));
  };

  const routes: Route[] = [
    {
      method: "GET",
      path: "/",
      public: true,
      handler: (ctx) => Promise.resolve(reply(200, { versions: [{ id: "v2.0", status: "CURRENT", links: [{ rel: "self", href: `${ctx.serviceUrl}/v2.0/` }] }] })),
    },
    {
      method: "GET",
      path: "/v2.0",
      handler: (ctx) =>
        Promise.resolve(
          reply(200, {
            resources: ["network", "subnet", "port", "security_group", "security_group_rule", "quota"].map((name) => ({
              name,
              collection: name === "quota" ? "quotas" : `${name}s`,
              links: [{ rel: "self", href: `${ctx.serviceUrl}/v2.0/${name === "quota" ? "quotas" : `${name.replace(/_/g, "-")}s`}` }],
            })),
          }),
        ),
    },
    { method: "GET", path: "/v2.0/extensions", handler: () => Promise.resolve(reply(200, { extensions: EXTENSIONS.map((e) => ({ ...e, updated: "2013-01-20T00:00:00-00:00", links: [] })) })) },
    {
      method: "GET",
      path: "/v2.0/extensions/{alias}",
      handler: (ctx) => {
        const extension = EXTENSIONS.find((e) => e.alias === ctx.params.alias);
        if (extension === undefined) throw new ApiError(404, `Extension with alias ${ctx.params.alias ?? ""} does not exist`, { neutronType: "HTTPNotFound" });
        return Promise.resolve(reply(200, { extension: { ...extension, updated: "2013-01-20T00:00:00-00:00", links: [] } }));
      },
    },

    // networks
    {
      method: "GET",
      path: "/v2.0/networks",
      handler: async (ctx) => {
        const caller = ctx.caller();
        const views = (await visibleNetworks(caller)).map((n) => showNetwork(n, caller));
        return list(ctx, "networks", views, ["id", "name", "status", "created_at", "updated_at", "mtu", "shared"]);
      },
    },
    { method: "POST", path: "/v2.0/networks", handler: createNetwork },
    { method: "GET", path: "/v2.0/networks/{id}", handler: async (ctx) => one(ctx, "network", showNetwork(await networkOr404(ctx.caller(), ctx.params.id ?? ""), ctx.caller())) },
    {
      method: "PUT",
      path: "/v2.0/networks/{id}",
      handler: async (ctx) => {
        const caller = ctx.caller();
        const network = await networkOr404(caller, ctx.params.id ?? "", true);
        const { network: input } = await ctx.body(z.object({ network: networkSchema.partial() }));
        const spec = networkSpecOf(input, caller);
        refuseUnsharingInUse(network, input);
        const updated = await update(ctx, networkKind, network, input.name, spec, "update_network");
        return reply(200, { network: showNetwork(updated, caller) });
      },
    },
    { method: "DELETE", path: "/v2.0/networks/{id}", handler: deleteNetwork },

    // subnets
    {
      method: "GET",
      path: "/v2.0/subnets",
      handler: async (ctx) => {
        const caller = ctx.caller();
        const own = await tenant.list<Subnet>(caller, subnetKind, "get_subnet");
        const ownNamespace = requireProject(caller).namespace;
        const shared = (await visibleNetworks(caller)).filter((n) => n.metadata.namespace !== ownNamespace).flatMap(subnetsOf);
        return list(ctx, "subnets", [...own, ...shared].map(showSubnet), ["id", "name", "cidr", "ip_version", "network_id", "created_at"]);
      },
    },
    { method: "POST", path: "/v2.0/subnets", handler: createSubnet },
    { method: "GET", path: "/v2.0/subnets/{id}", handler: async (ctx) => one(ctx, "subnet", showSubnet(await subnetOr404(ctx.caller(), ctx.params.id ?? ""))) },
    {
      method: "PUT",
      path: "/v2.0/subnets/{id}",
      handler: async (ctx) => {
        const subnet = await tenant.find<Subnet>(ctx.caller(), subnetKind, ctx.params.id ?? "", "update_subnet");
        if (subnet === undefined) throw notFoundOf("Subnet", ctx.params.id ?? "");
        const { subnet: input } = await ctx.body(z.object({ subnet: subnetUpdateSchema }));
        const updated = await update(ctx, subnetKind, subnet, input.name, subnetSpecOf(input), "update_subnet");
        return reply(200, { subnet: showSubnet(updated) });
      },
    },
    {
      method: "DELETE",
      path: "/v2.0/subnets/{id}",
      handler: async (ctx) => {
        const caller = ctx.caller();
        const subnet = await tenant.find<Subnet>(caller, subnetKind, ctx.params.id ?? "", "delete_subnet");
        if (subnet === undefined) throw notFoundOf("Subnet", ctx.params.id ?? "");
        const used = store.all<Port>(portKind).some((p) => (p.status?.fixedIPs ?? []).some((f) => f.subnetId === subnet.metadata.uid));
        if (used) {
          throw new ApiError(409, `Unable to complete operation on subnet ${subnet.metadata.uid ?? ""}: One or more ports have an IP allocation from this subnet.`, { neutronType: "SubnetInUse" });
        }
        await tenant.delete(caller, subnetKind, subnet, failed("delete_subnet", `subnet ${subnet.metadata.uid ?? ""}`));
        return reply(204);
      },
    },

    // ports
    {
      method: "GET",
      path: "/v2.0/ports",
      handler: async (ctx) => {
        const caller = ctx.caller();
        const ports = await tenant.list<Port>(caller, portKind, "get_port");
        let views = ports.map((p) => showPort(p, caller));
        // fixed_ips=ip_address=…/subnet_id=… is Neutron's one structured filter.
        for (const filter of ctx.query.getAll("fixed_ips")) {
          const [key, value] = filter.split("=", 2);
          views = views.filter((v) => v.fixed_ips.some((f) => (f as Record<string, unknown>)[key ?? ""] === value));
        }
        const query = new URLSearchParams(ctx.query);
        query.delete("fixed_ips");
        return list({ ...ctx, query }, "ports", views, ["id", "name", "status", "mac_address", "network_id", "device_id", "created_at"]);
      },
    },
    { method: "POST", path: "/v2.0/ports", handler: createPort },
    { method: "GET", path: "/v2.0/ports/{id}", handler: async (ctx) => one(ctx, "port", showPort(await portOr404(ctx.caller(), ctx.params.id ?? ""), ctx.caller())) },
    {
      method: "PUT",
      path: "/v2.0/ports/{id}",
      handler: async (ctx) => {
        const caller = ctx.caller();
        const project = requireProject(caller);
        const port = await portOr404(caller, ctx.params.id ?? "");
        const { port: input } = await ctx.body(z.object({ port: portUpdateSchema }));
        const network = networkOfRef(port.metadata.namespace ?? "", port.spec.networkRef);
        const spec: Record<string, unknown> = {
          ...(input.description === undefined ? {} : { description: input.description }),
          ...(input.admin_state_up == null ? {} : { adminStateUp: input.admin_state_up }),
          ...(input.port_security_enabled == null ? {} : { portSecurityEnabled: input.port_security_enabled }),
          ...(input.security_groups == null ? {} : { securityGroupRefs: groupRefs(project, input.security_groups) }),
          ...(input.fixed_ips == null || network === undefined ? {} : { fixedIPs: fixedIpsOf(network, input.fixed_ips) }),
          ...(input.allowed_address_pairs == null
            ? {}
            : { allowedAddressPairs: input.allowed_address_pairs.map((a) => ({ ipAddress: a.ip_address, ...(a.mac_address == null ? {} : { macAddress: a.mac_address.toLowerCase() }) })) }),
          ...(input.tags == null ? {} : { tags: [...new Set(input.tags)] }),
        };
        const updated = await update(ctx, portKind, port, input.name, spec, "update_port");
        return reply(200, { port: showPort(updated, caller) });
      },
    },
    {
      method: "DELETE",
      path: "/v2.0/ports/{id}",
      handler: async (ctx) => {
        const caller = ctx.caller();
        const port = await portOr404(caller, ctx.params.id ?? "");
        await tenant.delete(caller, portKind, port, failed("delete_port", `port ${port.metadata.uid ?? ""}`));
        return reply(204);
      },
    },

    // security groups and rules
    {
      method: "GET",
      path: "/v2.0/security-groups",
      handler: async (ctx) => {
        const groups = await tenant.list<SecurityGroup>(ctx.caller(), securityGroupKind, "get_security_group");
        return list(ctx, "security_groups", groups.map(showGroup), ["id", "name", "created_at"]);
      },
    },
    { method: "POST", path: "/v2.0/security-groups", handler: createGroup },
    { method: "GET", path: "/v2.0/security-groups/{id}", handler: async (ctx) => one(ctx, "security_group", showGroup(await groupOr404(ctx.caller(), ctx.params.id ?? ""))) },
    {
      method: "PUT",
      path: "/v2.0/security-groups/{id}",
      handler: async (ctx) => {
        const group = await groupOr404(ctx.caller(), ctx.params.id ?? "");
        const { security_group: input } = await ctx.body(z.object({ security_group: groupSchema.partial() }));
        if (group.metadata.name === "default" && input.name != null && input.name !== "default") {
          throw new ApiError(409, "Updating default security group not allowed.", { neutronType: "SecurityGroupCannotUpdateDefault" });
        }
        const spec: Record<string, unknown> = {
          ...(input.description === undefined ? {} : { description: input.description }),
          ...(input.stateful == null ? {} : { stateful: input.stateful }),
          ...(input.tags == null ? {} : { tags: [...new Set(input.tags)] }),
        };
        const updated = await update(ctx, securityGroupKind, group, input.name, spec, "update_security_group");
        return reply(200, { security_group: showGroup(updated) });
      },
    },
    {
      method: "DELETE",
      path: "/v2.0/security-groups/{id}",
      handler: async (ctx) => {
        const caller = ctx.caller();
        const group = await groupOr404(caller, ctx.params.id ?? "");
        if (group.metadata.name === "default" && !caller.cloudAdmin) {
          throw new ApiError(409, "Removing default security group not allowed.", { neutronType: "SecurityGroupCannotRemoveDefault" });
        }
        await tenant.delete(caller, securityGroupKind, group, failed("delete_security_group", `security group ${group.metadata.uid ?? ""}`));
        return reply(204);
      },
    },
    {
      method: "GET",
      path: "/v2.0/security-group-rules",
      handler: async (ctx) => list(ctx, "security_group_rules", (await allRules(ctx.caller())).map((r) => r.view), ["id", "direction", "protocol", "ethertype"]),
    },
    { method: "POST", path: "/v2.0/security-group-rules", handler: createRule },
    {
      method: "GET",
      path: "/v2.0/security-group-rules/{id}",
      handler: async (ctx) => {
        const found = (await allRules(ctx.caller())).find((r) => r.view.id === ctx.params.id);
        if (found === undefined) throw notFoundOf("Security group rule", ctx.params.id ?? "");
        return one(ctx, "security_group_rule", found.view);
      },
    },
    { method: "DELETE", path: "/v2.0/security-group-rules/{id}", handler: deleteRule },

    // quotas
    {
      method: "GET",
      path: "/v2.0/quotas",
      handler: async (ctx) => {
        const caller = ctx.caller();
        await requireAccess(caller, { verb: "list", resource: projectKind }, "get_quota");
        return reply(200, { quotas: store.all<Project>(projectKind).map((p) => ({ ...quotaOf(p), project_id: p.metadata.uid ?? "", tenant_id: p.metadata.uid ?? "" })) });
      },
    },
    { method: "GET", path: "/v2.0/quotas/{project}", handler: async (ctx) => reply(200, { quota: quotaOf(await projectForQuota(ctx)) }) },
    {
      method: "GET",
      path: "/v2.0/quotas/{project}/default",
      handler: async (ctx) => {
        const project = await projectForQuota(ctx);
        return reply(200, { quota: quotaOf({ ...project, spec: {}, status: undefined }) });
      },
    },
    {
      method: "GET",
      path: "/v2.0/quotas/{project}/details",
      handler: async (ctx) => {
        const project = await projectForQuota(ctx);
        const ns = project.status?.namespace ?? `project-${project.metadata.name ?? ""}`;
        const used: Record<string, number> = {
          network: store.inNamespace(networkKind, ns).length,
          subnet: store.inNamespace(subnetKind, ns).length,
          port: store.inNamespace(portKind, ns).length,
          security_group: store.inNamespace(securityGroupKind, ns).length,
          security_group_rule: store.inNamespace<SecurityGroup>(securityGroupKind, ns).reduce((n, g) => n + (g.spec.rules?.length ?? 0), 0),
        };
        const detail = Object.fromEntries(Object.entries(quotaOf(project)).map(([k, limit]) => [k, { used: used[k] ?? 0, limit, reserved: 0 }]));
        return reply(200, { quota: detail });
      },
    },
    {
      method: "PUT",
      path: "/v2.0/quotas/{project}",
      handler: async (ctx) => {
        const caller = ctx.caller();
        const project = identity.projectById(ctx.params.project ?? "");
        if (project === undefined) throw notFoundOf("Project", ctx.params.project ?? "");
        const { quota: input } = await ctx.body(quotaUpdateSchema);
        const quotas = namedQuotas({ networks: input.network, ports: input.port, securityGroups: input.security_group });
        let updated: Project;
        try {
          updated = await writeProjectQuotas(caller, store, project, quotas);
        } catch (e) {
          throw fromKubeError(e, "neutron", failed("update_quota", `quotas of project ${openstackName(project)}`));
        }
        return reply(200, { quota: quotaOf({ ...updated, status: undefined }) });
      },
    },

    // network IP availability (admin, as Neutron's policy)
    {
      method: "GET",
      path: "/v2.0/network-ip-availabilities",
      handler: async (ctx) => {
        const caller = ctx.caller();
        if (!caller.cloudAdmin) throw forbidden("Policy doesn't allow get_network_ip_availability to be performed.", { neutronType: "PolicyNotAuthorized" });
        const networks = await tenant.listAll<Network>(caller, networkKind, "get_network_ip_availability");
        return list(ctx, "network_ip_availabilities", networks.map(ipAvailability).map((a) => ({ ...a, id: a.network_id })), ["id", "network_name"]);
      },
    },
    {
      method: "GET",
      path: "/v2.0/network-ip-availabilities/{id}",
      handler: async (ctx) => {
        const caller = ctx.caller();
        if (!caller.cloudAdmin) throw forbidden("Policy doesn't allow get_network_ip_availability to be performed.", { neutronType: "PolicyNotAuthorized" });
        return reply(200, { network_ip_availability: ipAvailability(await networkOr404(caller, ctx.params.id ?? "")) });
      },
    },
  ];

  return { type: "network", prefix: SERVICE_PREFIXES.network, faultStyle: "neutron", routes };
}
