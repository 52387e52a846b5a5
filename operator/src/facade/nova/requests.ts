// Nova request bodies → Server specs and server actions. Pure: OpenStack ids are turned into object references
// through a resolver the route provides (backed by the caches, restricted to what the caller may use).
import { z } from "zod";
import { type Server, type ServerActionSpec, type ServerStatusValue } from "../../api/index.js";
import { ApiError, badRequest, conflict } from "../common/errors.js";

type ServerSpec = Server["spec"];

const intLike = z.union([z.int(), z.string().regex(/^\s*\d+\s*$/).transform((s) => Number(s.trim()))]);
const boolLike = z.union([z.boolean(), z.string().transform((s) => ["true", "1", "yes", "on"].includes(s.toLowerCase()))]);

const networkEntry = z.object({
  uuid: z.string().min(1).max(255).nullish(),
  port: z.string().min(1).max(255).nullish(),
  fixed_ip: z.string().max(64).nullish(),
  tag: z.string().max(60).nullish(),
});

const blockDevice = z.object({
  boot_index: z.union([z.int(), z.string(), z.null()]).optional(),
  uuid: z.string().max(255).nullish(),
  source_type: z.enum(["image", "volume", "snapshot", "blank"]),
  destination_type: z.enum(["local", "volume"]).nullish(),
  volume_size: intLike.nullish(),
  delete_on_termination: boolLike.nullish(),
  device_name: z.string().max(255).nullish(),
  volume_type: z.string().max(255).nullish(),
  tag: z.string().max(60).nullish(),
  disk_bus: z.string().max(64).nullish(),
  device_type: z.string().max(64).nullish(),
  guest_format: z.string().max(64).nullish(),
  no_device: z.unknown().optional(),
});

export const serverCreateSchema = z.object({
  server: z.object({
    name: z.string().trim().min(1).max(255),
    imageRef: z.string().max(2048).nullish(),
    flavorRef: z.union([z.string().min(1).max(2048), z.int().transform(String)]),
    key_name: z.string().min(1).max(255).nullish(),
    user_data: z.string().max(87384).nullish(),
    availability_zone: z.string().max(255).nullish(),
    networks: z.union([z.literal("auto"), z.literal("none"), z.array(networkEntry).max(16)]).nullish(),
    block_device_mapping_v2: z.array(blockDevice).max(64).nullish(),
    block_device_mapping: z.array(z.unknown()).nullish(),
    security_groups: z.array(z.object({ name: z.string().min(1).max(255) })).max(32).nullish(),
    metadata: z.record(z.string().min(1).max(255), z.string().max(255)).nullish(),
    min_count: intLike.pipe(z.int().min(1).max(100)).nullish(),
    max_count: intLike.pipe(z.int().min(1).max(100)).nullish(),
    description: z.string().max(255).nullish(),
    tags: z.array(z.string().min(1).max(60)).max(50).nullish(),
    hostname: z.string().max(63).nullish(),
    config_drive: z.union([z.boolean(), z.string()]).nullish(),
    adminPass: z.string().nullish(),
    accessIPv4: z.string().nullish(),
    accessIPv6: z.string().nullish(),
    "OS-DCF:diskConfig": z.enum(["AUTO", "MANUAL"]).nullish(),
    return_reservation_id: boolLike.nullish(),
    personality: z.array(z.unknown()).nullish(),
  }),
  "OS-SCH-HNT:scheduler_hints": z.looseObject({}).nullish(),
  "os:scheduler_hints": z.looseObject({}).nullish(),
});
export type ServerCreateRequest = z.infer<typeof serverCreateSchema>;

/** Resolves OpenStack ids into references the Server spec uses; undefined when unknown or not usable. */
export interface CreateResolver {
  /** Flavor id → Flavor metadata.name. */
  flavor(id: string): string | undefined;
  /** Image id → imageRef (`name` or `project/name`). */
  image(id: string): string | undefined;
  /** Keypair name → Keypair metadata.name. */
  keypair(name: string): string | undefined;
  /** Network id → networkRef (`name` or `project/name` for a shared network). */
  network(id: string): string | undefined;
  /** Port id → Port metadata.name. */
  port(id: string): string | undefined;
  /** Security group name or id → SecurityGroup metadata.name. */
  securityGroup(nameOrId: string): string | undefined;
  /** Volume id → Volume metadata.name. */
  volume(id: string): string | undefined;
  /** Networks for `networks: auto` (or none given): the networkRefs a server would get. */
  autoNetworks(): string[];
  availabilityZones(): string[];
}

export interface ServerCreatePlan {
  /** The spec of each server, without name (set per instance). */
  spec: Omit<ServerSpec, "name">;
  baseName: string;
  min: number;
  max: number;
  returnReservationId: boolean;
}

/** Trailing id of a flavorRef/imageRef that may be a URL (`…/flavors/<id>`). */
const lastSegment = (ref: string): string => ref.replace(/\/+$/, "").split("/").pop() ?? ref;

export function planServerCreate(body: ServerCreateRequest, r: CreateResolver): ServerCreatePlan {
  const s = body.server;
  if (s.block_device_mapping != null && s.block_device_mapping.length > 0) {
    throw badRequest("The legacy block_device_mapping is not supported; use block_device_mapping_v2.");
  }
  if (s.personality != null && s.personality.length > 0) throw badRequest("Personality files are not supported; use user_data.");
  const flavorRef = r.flavor(lastSegment(s.flavorRef));
  if (flavorRef === undefined) throw badRequest(`Flavor ${s.flavorRef} could not be found.`);

  const spec: Omit<ServerSpec, "name"> = { flavorRef };
  const devices = s.block_device_mapping_v2 ?? [];
  const bootIndex = (d: z.infer<typeof blockDevice>): number | undefined =>
    d.boot_index === undefined || d.boot_index === null || d.boot_index === "" ? undefined : Number(d.boot_index);
  const boot = devices.find((d) => bootIndex(d) === 0);
  const volumes: NonNullable<ServerSpec["volumes"]> = [];

  if (boot !== undefined && !(boot.source_type === "image" && (boot.destination_type ?? "local") === "local")) {
    const deleteOnTermination = boot.delete_on_termination ?? false;
    if (boot.source_type === "volume") {
      const volumeRef = r.volume(boot.uuid ?? "");
      if (volumeRef === undefined) throw badRequest(`Volume ${boot.uuid ?? ""} could not be found.`);
      spec.bootVolume = { volumeRef, deleteOnTermination };
    } else if (boot.source_type === "image") {
      const imageRef = r.image(boot.uuid ?? "");
      if (imageRef === undefined) throw badRequest(`Image ${boot.uuid ?? ""} could not be found.`);
      if (boot.volume_size == null) throw badRequest("Booting from a new volume needs volume_size in block_device_mapping_v2.");
      spec.bootVolume = {
        imageRef,
        size: boot.volume_size,
        deleteOnTermination,
        ...(boot.volume_type == null ? {} : { volumeType: boot.volume_type }),
      };
    } else {
      throw badRequest(`Booting from a ${boot.source_type} block device is not supported; boot from an image or a volume.`);
    }
  } else {
    const imageId = boot?.uuid ?? s.imageRef ?? "";
    if (imageId === "") throw badRequest("Missing imageRef attribute: a server boots from an image or a volume.");
    const imageRef = r.image(lastSegment(imageId));
    if (imageRef === undefined) throw badRequest(`Image ${imageId} could not be found.`);
    spec.imageRef = imageRef;
  }
  for (const d of devices) {
    if (d === boot || (d.source_type === "image" && bootIndex(d) === 0)) continue;
    if (d.source_type !== "volume" || (d.destination_type ?? "volume") !== "volume") {
      throw badRequest(`A ${d.source_type} block device that is not the boot disk is not supported; attach existing volumes.`);
    }
    const volumeRef = r.volume(d.uuid ?? "");
    if (volumeRef === undefined) throw badRequest(`Volume ${d.uuid ?? ""} could not be found.`);
    volumes.push({
      volumeRef,
      deleteOnTermination: d.delete_on_termination ?? false,
      ...(d.device_name == null ? {} : { device: d.device_name }),
    });
  }
  if (volumes.length > 0) spec.volumes = volumes;

  if (s.key_name != null) {
    const keypairRef = r.keypair(s.key_name);
    if (keypairRef === undefined) throw badRequest("Invalid key_name provided.");
    spec.keypairRef = keypairRef;
  }
  if (s.user_data != null) {
    if (!/^[A-Za-z0-9+/\s]*={0,2}\s*$/.test(s.user_data)) throw badRequest("User data needs to be valid base 64.");
    spec.userDataBase64 = s.user_data.replace(/\s/g, "");
  }
  if (s.availability_zone != null && s.availability_zone !== "") {
    const zone = s.availability_zone.split(":")[0] ?? "";
    if (!r.availabilityZones().includes(zone)) throw badRequest(`The requested availability zone is not available`);
    spec.availabilityZone = zone;
  }
  spec.networks = planNetworks(s.networks, r);
  if (s.security_groups != null) {
    const refs = s.security_groups.map(({ name }) => {
      const ref = r.securityGroup(name);
      if (ref === undefined) throw badRequest(`Security group ${name} not found for project.`);
      return ref;
    });
    if (refs.length > 0) spec.securityGroupRefs = [...new Set(refs)];
  }
  if (s.metadata != null && Object.keys(s.metadata).length > 0) {
    if (Object.keys(s.metadata).length > 128) throw new ApiError(403, "Quota exceeded for metadata_items: at most 128 items.");
    spec.metadata = s.metadata;
  }
  if (s.description != null) spec.description = s.description;
  if (s.tags != null && s.tags.length > 0) spec.tags = [...new Set(s.tags)];
  if (s.hostname != null && s.hostname !== "") spec.hostname = s.hostname;

  const min = s.min_count ?? 1;
  const max = s.max_count ?? min;
  if (max < min) throw badRequest("min_count must be <= max_count");
  return { spec, baseName: s.name, min, max, returnReservationId: s.return_reservation_id === true };
}

function planNetworks(networks: ServerCreateRequest["server"]["networks"], r: CreateResolver): NonNullable<ServerSpec["networks"]> {
  if (networks === "none") return [];
  if (networks == null || networks === "auto") {
    const auto = r.autoNetworks();
    if (auto.length === 0 && networks === "auto") {
      throw badRequest("Unable to automatically allocate a network for project: it has no network; create one or pass networks.");
    }
    // Nova attaches every network the project owns when none is named (and there is no ambiguity about which).
    return auto.map((networkRef) => ({ networkRef }));
  }
  return networks.map((n) => {
    if (n.port != null) {
      const portRef = r.port(n.port);
      if (portRef === undefined) throw badRequest(`Port ${n.port} could not be found.`);
      return { portRef };
    }
    if (n.uuid == null) throw badRequest("A network entry needs uuid or port.");
    const networkRef = r.network(n.uuid);
    if (networkRef === undefined) throw badRequest(`Network ${n.uuid} could not be found.`);
    return { networkRef, ...(n.fixed_ip == null ? {} : { fixedIP: n.fixed_ip }) };
  });
}

/** Nova's name for the n-th of several servers created at once (multi_instance_display_name_template). */
export function instanceName(base: string, index: number, count: number): string {
  return count > 1 ? `${base}-${index + 1}` : base;
}

// ---- actions ----

export type ActionEffect =
  | { kind: "spec"; patch: Record<string, unknown> }
  | { kind: "action"; spec: Omit<ServerActionSpec, "serverRef"> }
  | { kind: "addSecurityGroup" | "removeSecurityGroup"; group: string }
  | { kind: "delete" };

const actionSchemas = {
  "os-start": z.null().or(z.looseObject({})),
  "os-stop": z.null().or(z.looseObject({})),
  pause: z.null().or(z.looseObject({})),
  unpause: z.null().or(z.looseObject({})),
  suspend: z.null().or(z.looseObject({})),
  resume: z.null().or(z.looseObject({})),
  shelve: z.null().or(z.looseObject({})),
  shelveOffload: z.null().or(z.looseObject({})),
  unshelve: z.null().or(z.looseObject({ availability_zone: z.string().nullish() })),
  lock: z.null().or(z.object({ locked_reason: z.string().max(255).nullish() })),
  unlock: z.null().or(z.looseObject({})),
  reboot: z.object({ type: z.string().transform((t) => t.toUpperCase()).pipe(z.enum(["SOFT", "HARD"])) }),
  resize: z.object({ flavorRef: z.union([z.string().min(1), z.int().transform(String)]), "OS-DCF:diskConfig": z.string().nullish() }),
  confirmResize: z.null().or(z.looseObject({})),
  revertResize: z.null().or(z.looseObject({})),
  rebuild: z.object({ imageRef: z.string().min(1), name: z.string().max(255).nullish(), metadata: z.record(z.string(), z.string()).nullish() }).loose(),
  migrate: z.null().or(z.object({ host: z.string().min(1).nullish() }).loose()),
  "os-migrateLive": z.object({ host: z.string().min(1).nullish(), block_migration: z.unknown().optional() }).loose(),
  createImage: z.object({ name: z.string().min(1).max(255), metadata: z.record(z.string(), z.string()).nullish() }),
  addSecurityGroup: z.object({ name: z.string().min(1).max(255) }),
  removeSecurityGroup: z.object({ name: z.string().min(1).max(255) }),
  forceDelete: z.null().or(z.looseObject({})),
} as const;
export type ServerActionName = keyof typeof actionSchemas;

/** Statuses a server may be in for each action (Nova's check_instance_state); absent: any. */
const ALLOWED_STATES: Partial<Record<ServerActionName, readonly ServerStatusValue[]>> = {
  "os-start": ["SHUTOFF"],
  "os-stop": ["ACTIVE", "ERROR"],
  pause: ["ACTIVE"],
  unpause: ["PAUSED"],
  suspend: ["ACTIVE"],
  resume: ["SUSPENDED"],
  shelve: ["ACTIVE", "SHUTOFF", "PAUSED", "SUSPENDED"],
  shelveOffload: ["SHELVED"],
  unshelve: ["SHELVED", "SHELVED_OFFLOADED"],
  resize: ["ACTIVE", "SHUTOFF"],
  confirmResize: ["VERIFY_RESIZE"],
  revertResize: ["VERIFY_RESIZE"],
  rebuild: ["ACTIVE", "SHUTOFF", "ERROR"],
  migrate: ["ACTIVE", "SHUTOFF"],
  "os-migrateLive": ["ACTIVE", "PAUSED"],
  createImage: ["ACTIVE", "SHUTOFF", "PAUSED", "SUSPENDED", "SHELVED", "SHELVED_OFFLOADED"],
};
const SOFT_REBOOT_STATES: readonly ServerStatusValue[] = ["ACTIVE"];
const HARD_REBOOT_STATES: readonly ServerStatusValue[] = ["ACTIVE", "SHUTOFF", "PAUSED", "SUSPENDED", "ERROR", "REBOOT", "HARD_REBOOT"];
/** Actions a locked server still accepts. */
const ALLOWED_WHEN_LOCKED: readonly ServerActionName[] = ["lock", "unlock"];

export interface ActionContext {
  serverId: string;
  status: string;
  vmState: string;
  locked: boolean;
  /** Flavor id → Flavor metadata.name. */
  flavor(id: string): string | undefined;
  /** Image id → imageRef. */
  image(id: string): string | undefined;
}

/** The one action in a POST /servers/{id}/action body, what it does, or the 4xx Nova answers. */
export function planServerAction(body: unknown, ctx: ActionContext): { name: ServerActionName; effect: ActionEffect } {
  if (typeof body !== "object" || body === null || Array.isArray(body)) throw badRequest("The action body must be a JSON object.");
  const keys = Object.keys(body);
  if (keys.length !== 1) throw badRequest(`Exactly one action is expected, got ${keys.length === 0 ? "none" : keys.join(", ")}.`);
  const name = keys[0] as string;
  if (!(name in actionSchemas)) {
    throw badRequest(`There is no such action: ${name}`);
  }
  const action = name as ServerActionName;
  const parsed = actionSchemas[action].safeParse((body as Record<string, unknown>)[name]);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw badRequest(`Invalid input for field/attribute ${[name, ...(issue?.path ?? []).map(String)].join(".")}. ${issue?.message ?? ""}`);
  }
  if (ctx.locked && !ALLOWED_WHEN_LOCKED.includes(action)) {
    throw conflict(`Instance ${ctx.serverId} is locked`);
  }
  const args = (parsed.data ?? {}) as Record<string, unknown>;
  let allowed = ALLOWED_STATES[action];
  if (action === "reboot") allowed = args.type === "HARD" ? HARD_REBOOT_STATES : SOFT_REBOOT_STATES;
  if (allowed !== undefined && !(allowed as readonly string[]).includes(ctx.status)) {
    throw conflict(`Cannot '${action}' instance ${ctx.serverId} while it is in vm_state ${ctx.vmState} (status ${ctx.status})`);
  }
  return { name: action, effect: effectOf(action, args, ctx) };
}

function effectOf(action: ServerActionName, args: Record<string, unknown>, ctx: ActionContext): ActionEffect {
  const power = (powerState: string): ActionEffect => ({ kind: "spec", patch: { powerState } });
  switch (action) {
    case "os-start":
    case "unpause":
    case "resume":
    case "unshelve":
      return power("Active");
    case "os-stop":
      return power("Shutoff");
    case "pause":
      return power("Paused");
    case "suspend":
      return power("Suspended");
    case "shelve":
    case "shelveOffload":
      return power("Shelved");
    case "lock":
      return { kind: "spec", patch: { locked: true, lockedReason: typeof args.locked_reason === "string" ? args.locked_reason : null } };
    case "unlock":
      return { kind: "spec", patch: { locked: false, lockedReason: null } };
    case "reboot":
      return { kind: "action", spec: { action: "reboot", type: args.type as "SOFT" | "HARD" } };
    case "resize": {
      const flavorRef = ctx.flavor(lastSegment(String(args.flavorRef)));
      if (flavorRef === undefined) throw badRequest(`Flavor ${String(args.flavorRef)} could not be found.`);
      return { kind: "action", spec: { action: "resize", flavorRef } };
    }
    case "confirmResize":
      return { kind: "action", spec: { action: "confirmResize" } };
    case "revertResize":
      return { kind: "action", spec: { action: "revertResize" } };
    case "rebuild": {
      const imageRef = ctx.image(lastSegment(String(args.imageRef)));
      if (imageRef === undefined) throw badRequest(`Image ${String(args.imageRef)} could not be found.`);
      return { kind: "action", spec: { action: "rebuild", imageRef } };
    }
    case "migrate":
      return { kind: "action", spec: { action: "migrate", ...(typeof args.host === "string" ? { host: args.host } : {}) } };
    case "os-migrateLive":
      return { kind: "action", spec: { action: "liveMigrate", ...(typeof args.host === "string" ? { host: args.host } : {}) } };
    case "createImage":
      return {
        kind: "action",
        spec: {
          action: "createImage",
          imageName: String(args.name),
          ...(args.metadata == null ? {} : { imageMetadata: args.metadata as Record<string, string> }),
        },
      };
    case "addSecurityGroup":
    case "removeSecurityGroup":
      return { kind: action, group: String(args.name) };
    case "forceDelete":
      return { kind: "delete" };
  }
}

// ---- remote consoles ----

/** Every protocol and type Nova's schema knows (2.6, 2.8 mks/webmks, 2.99 spice-direct). */
export const remoteConsoleSchema = z.object({
  remote_console: z.object({
    protocol: z.enum(["vnc", "spice", "rdp", "serial", "mks"]),
    type: z.enum(["novnc", "xvpvnc", "rdp-html5", "spice-html5", "spice-direct", "serial", "webmks"]),
  }),
});

/** The legacy actions (os-getVNCConsole, os-getSerialConsole) as a protocol and type, or undefined for other actions. */
export function legacyConsoleRequest(body: unknown): { protocol: string; type: string } | undefined {
  if (typeof body !== "object" || body === null || Array.isArray(body)) return undefined;
  const protocols: Record<string, string> = { "os-getVNCConsole": "vnc", "os-getSerialConsole": "serial", "os-getSPICEConsole": "spice", "os-getRDPConsole": "rdp" };
  const keys = Object.keys(body);
  const protocol = keys.length === 1 ? protocols[keys[0] as string] : undefined;
  if (protocol === undefined) return undefined;
  const parsed = z.object({ type: z.string().min(1).max(255) }).safeParse((body as Record<string, unknown>)[keys[0] as string]);
  if (!parsed.success) throw badRequest(`Invalid input for field/attribute ${keys[0] as string}.type. ${parsed.error.issues[0]?.message ?? ""}`);
  return { protocol, type: parsed.data.type };
}

/**
 * Which console a request asks for, or Nova's 400: KubeVirt offers VNC (shown by noVNC) and the serial console;
 * SPICE, RDP and MKS are unavailable, as on a libvirt host with them disabled.
 */
export function consoleProtocolFor(protocol: string, type: string): "vnc" | "serial" {
  const valid: Record<string, readonly string[]> = {
    vnc: ["novnc", "xvpvnc"],
    serial: ["serial"],
    spice: ["spice-html5", "spice-direct"],
    rdp: ["rdp-html5"],
    mks: ["webmks"],
  };
  if (!(valid[protocol] ?? []).includes(type)) throw badRequest(`Invalid console type ${type}`);
  if (protocol === "vnc" && type === "novnc") return "vnc";
  if (protocol === "serial") return "serial";
  throw badRequest(`Unavailable console type ${type}.`);
}
