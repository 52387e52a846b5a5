// Nova JSON for flavors, keypairs, servers, limits and quota sets: one mapper per object, microversion-aware,
// used by every route that shows the object. Pure: the routes gather the inputs from the caches.
import { createHash } from "node:crypto";
import {
  openstackName,
  type Flavor,
  type FlavorSnapshot,
  type Keypair,
  type Server,
} from "../../api/index.js";
import { atLeast, type Microversion } from "../common/microversion.js";
import { isoSeconds } from "../keystone/tokens.js";

/** The highest compute microversion whose behaviour we implement faithfully (≥ 2.47 flavor embedding etc.). */
export const NOVA_MAX_VERSION = { major: 2, minor: 79 } as const;
export const NOVA_MIN_VERSION = { major: 2, minor: 1 } as const;

export const links = (computeUrl: string, path: string) => [
  { rel: "self", href: `${computeUrl}/v2.1/${path}` },
  { rel: "bookmark", href: `${computeUrl}/${path}` },
];

// ---- flavors ----

export function flavorSummary(flavor: Flavor, v: Microversion, computeUrl: string) {
  const id = flavor.metadata.uid ?? "";
  return {
    id,
    name: openstackName(flavor),
    ...(atLeast(v, "2.55") ? { description: flavor.spec.description ?? null } : {}),
    links: links(computeUrl, `flavors/${id}`),
  };
}

export function flavorView(flavor: Flavor, v: Microversion, computeUrl: string) {
  const swap = flavor.spec.swap ?? 0;
  return {
    ...flavorSummary(flavor, v, computeUrl),
    ram: flavor.spec.ram,
    disk: flavor.spec.disk,
    vcpus: flavor.spec.vcpus,
    // Before 2.75 Nova shows no swap as "".
    swap: atLeast(v, "2.75") ? swap : swap === 0 ? "" : swap,
    "OS-FLV-EXT-DATA:ephemeral": flavor.spec.ephemeral ?? 0,
    "OS-FLV-DISABLED:disabled": false,
    "os-flavor-access:is_public": flavor.spec.isPublic !== false,
    rxtx_factor: flavor.spec.rxtxFactor ?? 1.0,
    ...(atLeast(v, "2.61") ? { extra_specs: { ...flavor.spec.extraSpecs } } : {}),
  };
}

// ---- keypairs ----

export interface KeypairViewInput {
  keypair: Keypair;
  fingerprint: string;
  keyType: string;
  userId: string;
}

export function keypairView({ keypair, fingerprint, keyType }: KeypairViewInput, v: Microversion) {
  return {
    name: openstackName(keypair),
    public_key: keypair.spec.publicKey,
    fingerprint,
    ...(atLeast(v, "2.2") ? { type: keypair.spec.type ?? keyType } : {}),
  };
}

export function keypairDetailView(input: KeypairViewInput, v: Microversion) {
  return {
    ...keypairView(input, v),
    user_id: input.userId,
    deleted: false,
    created_at: isoSeconds(new Date(input.keypair.metadata.creationTimestamp ?? 0)).replace(/Z$/, ".000000"),
    updated_at: null,
    deleted_at: null,
    id: 0,
  };
}

// ---- servers ----

/** Nova's (vm_state, task_state, power_state) for a server status, when the server reports none of its own. */
const VM_STATES: Readonly<Record<string, { vm: string; power: number }>> = {
  BUILD: { vm: "building", power: 0 },
  ACTIVE: { vm: "active", power: 1 },
  SHUTOFF: { vm: "stopped", power: 4 },
  PAUSED: { vm: "paused", power: 3 },
  SUSPENDED: { vm: "suspended", power: 7 },
  REBOOT: { vm: "active", power: 1 },
  HARD_REBOOT: { vm: "active", power: 1 },
  RESIZE: { vm: "active", power: 1 },
  VERIFY_RESIZE: { vm: "resized", power: 1 },
  REVERT_RESIZE: { vm: "resized", power: 1 },
  REBUILD: { vm: "active", power: 0 },
  MIGRATING: { vm: "active", power: 1 },
  SHELVED: { vm: "shelved", power: 4 },
  SHELVED_OFFLOADED: { vm: "shelved_offloaded", power: 4 },
  DELETED: { vm: "deleted", power: 0 },
  ERROR: { vm: "error", power: 0 },
  UNKNOWN: { vm: "error", power: 0 },
};

/** Statuses for which Nova shows a `progress` value. */
const PROGRESS_STATUSES = new Set(["ACTIVE", "BUILD", "REBUILD", "RESIZE", "VERIFY_RESIZE", "MIGRATING"]);

export interface ServerViewInput {
  server: Server;
  computeUrl: string;
  /** Keystone id of the server's project. */
  projectId: string;
  /** The Flavor object the server names (for ids before 2.47, and the embedded flavor when the server has no snapshot). */
  flavor: Flavor | undefined;
  /** The image id (uid) the server boots from; undefined for boot-from-volume. */
  imageId: string | undefined;
  /** Names of the server's security groups. */
  securityGroups: string[];
  keyName: string | undefined;
  /** Attached volumes (ids) and whether each goes with the server. */
  volumes: { id: string; deleteOnTermination: boolean }[];
  /** Show admin-only attributes (OS-EXT-SRV-ATTR:*, host_status). */
  admin: boolean;
  /** Its host's zone once placed, else the zone it asked for (`serverZone`). */
  availabilityZone: string;
}

function flavorSnapshotOf(input: ServerViewInput): FlavorSnapshot | undefined {
  const snapshot = input.server.status?.flavor;
  if (snapshot !== undefined) return snapshot;
  const f = input.flavor;
  if (f === undefined) return undefined;
  return {
    name: openstackName(f),
    vcpus: f.spec.vcpus,
    ram: f.spec.ram,
    disk: f.spec.disk,
    ephemeral: f.spec.ephemeral ?? 0,
    swap: f.spec.swap ?? 0,
    ...(f.spec.extraSpecs === undefined ? {} : { extraSpecs: f.spec.extraSpecs }),
  };
}

function embeddedFlavor(input: ServerViewInput, v: Microversion) {
  if (atLeast(v, "2.47")) {
    const snapshot = flavorSnapshotOf(input);
    return {
      vcpus: snapshot?.vcpus ?? 0,
      ram: snapshot?.ram ?? 0,
      disk: snapshot?.disk ?? 0,
      ephemeral: snapshot?.ephemeral ?? 0,
      swap: snapshot?.swap ?? 0,
      original_name: snapshot?.name ?? input.server.spec.flavorRef,
      extra_specs: { ...snapshot?.extraSpecs },
    };
  }
  const id = input.flavor?.metadata.uid ?? "";
  return { id, links: [{ rel: "bookmark", href: `${input.computeUrl}/flavors/${id}` }] };
}

function lastChange(server: Server): string {
  const times = (server.status?.conditions ?? []).map((c) => c.lastTransitionTime);
  const created = server.metadata.creationTimestamp ?? new Date(0).toISOString();
  const latest = times.reduce((a, b) => (Date.parse(b) > Date.parse(a) ? b : a), created);
  return isoSeconds(new Date(latest));
}

/** Nova's hostId: an opaque hash of project and host, so tenants see co-location without host names. */
export function hostId(projectId: string, host: string | undefined): string {
  if (host === undefined || host === "") return "";
  return createHash("sha224").update(projectId + host).digest("hex");
}

/** Who created a server through the facade (Nova's user_id); objects made with kubectl have none. */
export const USER_ID_ANNOTATION = "altostack.io/user-id";

export function serverStatusOf(server: Server): string {
  if (server.metadata.deletionTimestamp !== undefined && server.status?.status === undefined) return "ACTIVE";
  return server.status?.status ?? "BUILD";
}

export function serverSummary(server: Server, computeUrl: string) {
  const id = server.metadata.uid ?? "";
  return { id, name: openstackName(server), links: links(computeUrl, `servers/${id}`) };
}

/** GET /servers/{id} and each item of /servers/detail. `show` adds what only the single-server view has. */
export function serverView(input: ServerViewInput, v: Microversion, opts: { show: boolean }) {
  const { server } = input;
  const status = serverStatusOf(server);
  const derived = VM_STATES[status] ?? { vm: "error", power: 0 };
  const deleting = server.metadata.deletionTimestamp !== undefined;
  const projectId = input.projectId;
  const addresses: Record<string, unknown[]> = {};
  for (const [network, list] of Object.entries(server.status?.addresses ?? {})) {
    addresses[network] = list.map((a) => ({
      addr: a.addr,
      version: a.version,
      "OS-EXT-IPS:type": a.type,
      "OS-EXT-IPS-MAC:mac_addr": a.macAddr ?? null,
    }));
  }
  const host = server.status?.host;
  const fault = server.status?.fault;
  const view: Record<string, unknown> = {
    ...serverSummary(server, input.computeUrl),
    status,
    tenant_id: projectId,
    user_id: server.metadata.annotations?.[USER_ID_ANNOTATION] ?? "",
    metadata: { ...server.spec.metadata },
    hostId: hostId(projectId, host),
    image: input.imageId === undefined ? "" : { id: input.imageId, links: [{ rel: "bookmark", href: `${input.computeUrl}/images/${input.imageId}` }] },
    flavor: embeddedFlavor(input, v),
    created: isoSeconds(new Date(server.metadata.creationTimestamp ?? 0)),
    updated: lastChange(server),
    addresses,
    accessIPv4: "",
    accessIPv6: "",
    "OS-DCF:diskConfig": "MANUAL",
    "OS-EXT-AZ:availability_zone": input.availabilityZone,
    config_drive: "True",
    key_name: input.keyName ?? null,
    "OS-SRV-USG:launched_at": server.status?.launchedAt === undefined ? null : isoSeconds(new Date(server.status.launchedAt)).replace(/Z$/, ".000000"),
    "OS-SRV-USG:terminated_at": null,
    "OS-EXT-STS:vm_state": server.status?.vmState ?? derived.vm,
    "OS-EXT-STS:task_state": deleting ? "deleting" : (server.status?.taskState ?? (status === "BUILD" ? "scheduling" : null)),
    "OS-EXT-STS:power_state": server.status?.powerState ?? derived.power,
    "os-extended-volumes:volumes_attached": input.volumes.map((vol) =>
      atLeast(v, "2.3") ? { id: vol.id, delete_on_termination: vol.deleteOnTermination } : { id: vol.id },
    ),
  };
  if (input.securityGroups.length > 0) view.security_groups = input.securityGroups.map((name) => ({ name }));
  if (PROGRESS_STATUSES.has(status)) view.progress = status === "ACTIVE" ? 100 : 0;
  if (fault !== undefined && (status === "ERROR" || status === "DELETED")) {
    view.fault = { code: fault.code, message: fault.message, created: fault.created ?? lastChange(server), ...(input.admin && fault.details !== undefined ? { details: fault.details } : {}) };
  }
  if (input.admin) {
    view["OS-EXT-SRV-ATTR:host"] = host ?? null;
    view["OS-EXT-SRV-ATTR:hypervisor_hostname"] = host ?? null;
    view["OS-EXT-SRV-ATTR:instance_name"] = server.status?.virtualMachine ?? server.metadata.name ?? "";
    if (atLeast(v, "2.3")) {
      view["OS-EXT-SRV-ATTR:reservation_id"] = "";
      view["OS-EXT-SRV-ATTR:launch_index"] = 0;
      view["OS-EXT-SRV-ATTR:hostname"] = server.spec.hostname ?? server.metadata.name ?? "";
      view["OS-EXT-SRV-ATTR:kernel_id"] = "";
      view["OS-EXT-SRV-ATTR:ramdisk_id"] = "";
      view["OS-EXT-SRV-ATTR:root_device_name"] = "/dev/vda";
      view["OS-EXT-SRV-ATTR:user_data"] = server.spec.userDataBase64 ?? (server.spec.userData === undefined ? null : Buffer.from(server.spec.userData).toString("base64"));
    }
    if (atLeast(v, "2.16")) view.host_status = host === undefined ? "" : "UP";
  }
  if (atLeast(v, "2.9")) view.locked = server.spec.locked === true;
  if (atLeast(v, "2.19")) view.description = server.spec.description ?? null;
  if (atLeast(v, "2.26")) view.tags = [...(server.spec.tags ?? [])];
  if (atLeast(v, "2.63")) view.trusted_image_certificates = null;
  if (atLeast(v, "2.71") && opts.show) view.server_groups = [];
  if (atLeast(v, "2.73")) view.locked_reason = server.spec.lockedReason ?? null;
  return view;
}

// ---- limits and quotas ----

export interface ComputeUsage {
  instances: number;
  cores: number;
  ram: number;
  keypairs: number;
}

export interface ComputeQuotas {
  instances: number;
  cores: number;
  ram: number;
}

/** Nova's fixed limits that Altostack does not make configurable. */
export const FIXED_COMPUTE_LIMITS = {
  metadata_items: 128,
  key_pairs: 100,
  server_groups: 10,
  server_group_members: 10,
  injected_files: 5,
  injected_file_content_bytes: 10240,
  injected_file_path_bytes: 255,
} as const;

export function limitsView(quotas: ComputeQuotas, usage: ComputeUsage, v: Microversion) {
  return {
    limits: {
      rate: [],
      absolute: {
        maxServerMeta: FIXED_COMPUTE_LIMITS.metadata_items,
        maxTotalCores: quotas.cores,
        maxTotalInstances: quotas.instances,
        maxTotalKeypairs: FIXED_COMPUTE_LIMITS.key_pairs,
        maxTotalRAMSize: quotas.ram,
        maxServerGroups: FIXED_COMPUTE_LIMITS.server_groups,
        maxServerGroupMembers: FIXED_COMPUTE_LIMITS.server_group_members,
        totalCoresUsed: usage.cores,
        totalInstancesUsed: usage.instances,
        totalRAMUsed: usage.ram,
        totalServerGroupsUsed: 0,
        ...(atLeast(v, "2.57")
          ? {}
          : {
              maxImageMeta: FIXED_COMPUTE_LIMITS.metadata_items,
              maxPersonality: FIXED_COMPUTE_LIMITS.injected_files,
              maxPersonalitySize: FIXED_COMPUTE_LIMITS.injected_file_content_bytes,
            }),
        ...(atLeast(v, "2.36")
          ? {}
          : {
              maxSecurityGroups: -1,
              maxSecurityGroupRules: -1,
              maxTotalFloatingIps: -1,
              totalSecurityGroupsUsed: 0,
              totalFloatingIpsUsed: 0,
            }),
      },
    },
  };
}

/** The quota set of a project: limits only, or `{in_use, limit, reserved}` per key with `detail`. */
export function quotaSetView(projectId: string, quotas: ComputeQuotas, usage: ComputeUsage | undefined, v: Microversion) {
  const limits: Record<string, number> = {
    instances: quotas.instances,
    cores: quotas.cores,
    ram: quotas.ram,
    key_pairs: FIXED_COMPUTE_LIMITS.key_pairs,
    metadata_items: FIXED_COMPUTE_LIMITS.metadata_items,
    server_groups: FIXED_COMPUTE_LIMITS.server_groups,
    server_group_members: FIXED_COMPUTE_LIMITS.server_group_members,
  };
  if (!atLeast(v, "2.57")) {
    limits.injected_files = FIXED_COMPUTE_LIMITS.injected_files;
    limits.injected_file_content_bytes = FIXED_COMPUTE_LIMITS.injected_file_content_bytes;
    limits.injected_file_path_bytes = FIXED_COMPUTE_LIMITS.injected_file_path_bytes;
  }
  if (!atLeast(v, "2.36")) {
    limits.fixed_ips = -1;
    limits.floating_ips = -1;
    limits.security_groups = -1;
    limits.security_group_rules = -1;
  }
  const inUse: Record<string, number> = {
    instances: usage?.instances ?? 0,
    cores: usage?.cores ?? 0,
    ram: usage?.ram ?? 0,
    key_pairs: usage?.keypairs ?? 0,
  };
  const set: Record<string, unknown> = { id: projectId };
  for (const [key, limit] of Object.entries(limits)) {
    set[key] = usage === undefined ? limit : { in_use: inUse[key] ?? 0, limit, reserved: 0 };
  }
  return { quota_set: set };
}
