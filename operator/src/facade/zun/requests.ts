// Pure: Zun's request bodies (container create and update), checked with zod and turned into Container specs,
// and Zun's state checks before an action (VALID_STATES in zun/common/utils.py). What a Kubernetes Pod cannot
// do is refused with a 400 that says so, never silently dropped.
import { z } from "zod";
import { RESTART_POLICIES, type Container } from "../../api/index.js";
import { badRequest, conflict, type ApiError } from "../common/errors.js";
import type { ZunStatus } from "../../reconcilers/container/status.js";

type ContainerSpec = Container["spec"];

/** Zun's container name pattern (zun/api/controllers/v1/schemas/parameter_types.py). */
const CONTAINER_NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]+$/;

const stringMap = z.record(z.string().min(1).max(255), z.string().max(4096));
/** Zun accepts numbers as JSON numbers or numeric strings. */
const cpuValue = z.union([z.number(), z.string().regex(/^\s*\d+(\.\d+)?\s*$/).transform(Number)]).pipe(z.number().min(0.001).max(1024));
/** MiB, as a number or a string with an optional m/g unit (Zun's memory parameter). */
const memoryValue = z
  .union([z.int(), z.string().regex(/^\s*\d+\s*[mMgG]?\s*$/, "memory must be a number of MiB, optionally with an M or G unit")])
  .transform((v) => {
    if (typeof v === "number") return v;
    const text = v.trim();
    const unit = text.slice(-1).toLowerCase();
    return unit === "g" ? Number(text.slice(0, -1)) * 1024 : unit === "m" ? Number(text.slice(0, -1)) : Number(text);
  })
  .pipe(z.int().min(4, "memory must be at least 4 MiB").max(16_777_216));
const retryCount = z.union([z.int().min(0), z.string().regex(/^\s*\d+\s*$/).transform(Number)]);
const emptyToNull = (v: unknown) => (v === "" ? null : v);

const netSchema = z.object({
  network: z.preprocess(emptyToNull, z.string().max(255).nullish()),
  port: z.preprocess(emptyToNull, z.string().max(255).nullish()),
  "v4-fixed-ip": z.preprocess(emptyToNull, z.ipv4().nullish()),
  "v6-fixed-ip": z.preprocess(emptyToNull, z.ipv6().nullish()),
});

const mountSchema = z.object({
  source: z.string().max(255).nullish(),
  destination: z.string().min(1).max(4096).regex(/^\//, "destination must be an absolute path"),
  size: z.union([z.int(), z.string()]).nullish(),
  type: z.string().nullish(),
});

export const containerCreateSchema = z.object({
  image: z.string().min(1).max(1024),
  name: z.string().max(255).regex(CONTAINER_NAME, "name must start with a letter or digit and hold only letters, digits, _ . and -").nullish(),
  // A list from 1.20; before, one string the client quoted word by word.
  command: z.union([z.array(z.string().max(4096)).max(256), z.string().max(65536)]).nullish(),
  entrypoint: z.union([z.array(z.string().max(4096)).max(256), z.string().max(65536)]).nullish(),
  environment: stringMap.nullish(),
  labels: stringMap.nullish(),
  workdir: z.string().max(4096).nullish(),
  cpu: cpuValue.nullish(),
  memory: memoryValue.nullish(),
  restart_policy: z.object({ Name: z.enum(RESTART_POLICIES), MaximumRetryCount: retryCount.nullish() }).nullish(),
  nets: z.array(netSchema).max(16).nullish(),
  security_groups: z.array(z.string().min(1).max(255)).max(32).nullish(),
  mounts: z.array(mountSchema).max(32).nullish(),
  availability_zone: z.string().max(255).nullish(),
  image_driver: z.string().nullish(),
  runtime: z.string().nullish(),
  cpu_policy: z.string().nullish(),
  hints: z.record(z.string(), z.unknown()).nullish(),
  exposed_ports: z.record(z.string(), z.unknown()).nullish(),
  // What a Pod here cannot be given; refused below when asked for.
  image_pull_policy: z.string().nullish(),
  interactive: z.boolean().nullish(),
  tty: z.boolean().nullish(),
  auto_remove: z.boolean().nullish(),
  auto_heal: z.boolean().nullish(),
  privileged: z.boolean().nullish(),
  hostname: z.string().nullish(),
  disk: z.union([z.int(), z.string()]).nullish(),
  healthcheck: z.record(z.string(), z.unknown()).nullish(),
  registry: z.string().nullish(),
  host: z.string().nullish(),
});
export type ContainerCreateRequest = z.output<typeof containerCreateSchema>;

export const containerUpdateSchema = z.object({
  name: z.string().max(255).regex(CONTAINER_NAME, "name must start with a letter or digit and hold only letters, digits, _ . and -").nullish(),
  cpu: cpuValue.nullish(),
  memory: memoryValue.nullish(),
});
export type ContainerUpdateRequest = z.output<typeof containerUpdateSchema>;

/** Resolves OpenStack ids and names into the references a Container spec uses; undefined when unknown. */
export interface ContainerResolver {
  /** Network id or name → networkRef (`name`, or `project/name` for a shared network). */
  network(idOrName: string): string | undefined;
  /** Port id or name → Port metadata.name. */
  port(idOrName: string): string | undefined;
  /** Security group name or id → SecurityGroup metadata.name. */
  securityGroup(nameOrId: string): string | undefined;
  /** Volume name or id → Volume metadata.name. */
  volume(nameOrId: string): string | undefined;
  /** The networks a container gets when none is named (Zun picks the project's network). */
  autoNetworks(): string[];
  availabilityZones(): string[];
}

export interface ContainerCreatePlan {
  name: string;
  spec: Omit<ContainerSpec, "name">;
}

/** Shell-like words of a pre-1.20 command string (`"a" "b c"` → a, b c). */
export function commandWords(command: string): string[] {
  const words: string[] = [];
  const pattern = /"((?:[^"\\]|\\.)*)"|'([^']*)'|(\S+)/g;
  for (const match of command.matchAll(pattern)) {
    const word = match[1] !== undefined ? match[1].replace(/\\(.)/g, "$1") : (match[2] ?? match[3] ?? "");
    words.push(word);
  }
  return words;
}

const asWords = (value: string | string[]): string[] => (typeof value === "string" ? commandWords(value) : value);

/** Attributes Zun has that a container here cannot honour: refused when given a non-default value. */
function refuseUnsupported(body: ContainerCreateRequest): void {
  const refuse = (field: string, why: string): never => {
    throw badRequest(`${field} is not supported: ${why}`);
  };
  if (body.image_driver != null && body.image_driver !== "docker") refuse("image_driver", "images come from an OCI registry (docker).");
  if (body.runtime != null && body.runtime !== "runc") refuse("runtime", "containers run on the cluster's default runtime (runc).");
  if (body.cpu_policy != null && body.cpu_policy !== "shared") refuse("cpu_policy", "CPUs are always shared.");
  if (body.image_pull_policy != null) refuse("image_pull_policy", "the cluster's kubelet decides when to pull.");
  if (body.interactive === true || body.tty === true) refuse("interactive/tty", "containers cannot be attached to.");
  if (body.auto_remove === true) refuse("auto_remove", "delete the container when it has exited.");
  if (body.auto_heal === true) refuse("auto_heal", "use restart_policy instead.");
  if (body.privileged === true) refuse("privileged", "containers never run privileged.");
  if (body.hostname != null && body.hostname !== "") refuse("hostname", "the hostname is the container's pod name.");
  if (body.disk != null && Number(body.disk) !== 0) refuse("disk", "mount a volume instead (--mount source=<volume>,destination=<path>).");
  if (body.healthcheck != null && Object.keys(body.healthcheck).length > 0) refuse("healthcheck", "health checks are not available yet.");
  if (body.registry != null) refuse("registry", "images are pulled anonymously; use a public registry.");
  if (body.host != null) refuse("host", "the cluster's scheduler places containers.");
  if (body.hints != null && Object.keys(body.hints).length > 0) refuse("hints", "scheduler hints are not available.");
  if (body.exposed_ports != null && Object.keys(body.exposed_ports).length > 0) {
    refuse("exposed_ports", "open ports with a security group rule on the container's security group instead.");
  }
  const policy = body.restart_policy;
  if (policy != null && (policy.MaximumRetryCount ?? 0) !== 0) {
    if (policy.Name !== "on-failure") throw badRequest(`MaximumRetryCount is only valid with the on-failure restart policy, not ${policy.Name}.`);
    refuse("restart_policy MaximumRetryCount", "a failed container is restarted without a limit; give on-failure without a count.");
  }
}

function planNetworks(nets: ContainerCreateRequest["nets"], r: ContainerResolver): NonNullable<ContainerSpec["networks"]> {
  if (nets == null || nets.length === 0) {
    const auto = r.autoNetworks();
    if (auto.length > 1) throw badRequest("Multiple possible networks found, use a Network ID to be more specific.");
    return auto.map((networkRef) => ({ networkRef }));
  }
  return nets.map((n) => {
    if ((n.network == null) === (n.port == null)) throw badRequest("Each nets entry needs exactly one of network and port.");
    if (n.port != null) {
      if (n["v4-fixed-ip"] != null || n["v6-fixed-ip"] != null) throw badRequest("A fixed IP goes with network, not with port.");
      const portRef = r.port(n.port);
      if (portRef === undefined) throw badRequest(`Port ${n.port} could not be found.`);
      return { portRef };
    }
    const network = n.network ?? "";
    const networkRef = r.network(network);
    if (networkRef === undefined) throw badRequest(`Network ${network} could not be found.`);
    if (n["v4-fixed-ip"] != null && n["v6-fixed-ip"] != null) throw badRequest("Give at most one fixed IP (v4-fixed-ip or v6-fixed-ip) per network.");
    const fixedIP = n["v4-fixed-ip"] ?? n["v6-fixed-ip"];
    return { networkRef, ...(fixedIP == null ? {} : { fixedIP }) };
  });
}

function planMounts(mounts: ContainerCreateRequest["mounts"], r: ContainerResolver): NonNullable<ContainerSpec["volumes"]> {
  return (mounts ?? []).map((m) => {
    if (m.type != null && m.type !== "volume") throw badRequest(`Mounts of type ${m.type} are not supported; mount a volume (--mount source=<volume>,destination=<path>).`);
    if (m.size != null && m.source == null) throw badRequest("Mounts that create a volume (size) are not supported; create the volume first and mount it by name.");
    if (m.source == null || m.source === "") throw badRequest("A mount needs source (a volume name or id) and destination.");
    const volumeRef = r.volume(m.source);
    if (volumeRef === undefined) throw badRequest(`Volume ${m.source} could not be found.`);
    return { volumeRef, mountPath: m.destination };
  });
}

/** The Container spec a create request asks for; `run` (the `?run=true` query) starts it right away. */
export function planContainerCreate(body: ContainerCreateRequest, run: boolean, r: ContainerResolver): ContainerCreatePlan {
  refuseUnsupported(body);
  if (body.availability_zone != null && !r.availabilityZones().includes(body.availability_zone)) {
    throw badRequest(`Availability zone '${body.availability_zone}' is invalid.`);
  }
  // Before 1.20 the command was one string (split like a shell would); from 1.20 a list.
  const command = body.command == null ? undefined : asWords(body.command);
  const entrypoint = body.entrypoint == null ? undefined : asWords(body.entrypoint);
  const networks = planNetworks(body.nets, r);
  const volumes = planMounts(body.mounts, r);
  const groups = (body.security_groups ?? []).map((g) => {
    const ref = r.securityGroup(g);
    if (ref === undefined) throw badRequest(`Security group ${g} could not be found.`);
    return ref;
  });
  const spec: Omit<ContainerSpec, "name"> = {
    image: body.image,
    ...(entrypoint === undefined || entrypoint.length === 0 ? {} : { command: entrypoint }),
    ...(command === undefined || command.length === 0 ? {} : { args: command }),
    ...(body.environment == null || Object.keys(body.environment).length === 0 ? {} : { env: body.environment }),
    ...(body.labels == null || Object.keys(body.labels).length === 0 ? {} : { labels: body.labels }),
    ...(body.workdir == null || body.workdir === "" ? {} : { workdir: body.workdir }),
    ...(body.cpu == null ? {} : { cpu: body.cpu }),
    ...(body.memory == null ? {} : { memory: body.memory }),
    ...(body.restart_policy == null || body.restart_policy.Name === "no" ? {} : { restartPolicy: body.restart_policy.Name }),
    ...(networks.length === 0 ? {} : { networks }),
    ...(volumes.length === 0 ? {} : { volumes }),
    ...(groups.length === 0 ? {} : { securityGroupRefs: [...new Set(groups)] }),
    // Zun's create without run leaves the container unstarted until `start`.
    state: run ? "Running" : "Stopped",
  };
  return { name: body.name ?? "", spec };
}

/** The spec changes of a PATCH (Zun's container update: name, cpu, memory); undefined fields stay. */
export function planContainerUpdate(body: ContainerUpdateRequest): { name?: string; spec: Record<string, unknown> } {
  const spec: Record<string, unknown> = {};
  if (body.cpu != null) spec.cpu = body.cpu;
  if (body.memory != null) spec.memory = body.memory;
  return { ...(body.name == null ? {} : { name: body.name }), spec };
}

// ---- actions and their state checks ----

export const CONTAINER_ACTIONS = ["start", "stop", "reboot", "kill", "delete", "delete_force", "delete_after_stop", "update"] as const;
export type ContainerAction = (typeof CONTAINER_ACTIONS)[number];

/** The statuses each action is allowed from (Zun's VALID_STATES, restricted to the statuses we report). */
const VALID_STATES: Readonly<Record<ContainerAction, readonly ZunStatus[]>> = {
  start: ["Created", "Stopped", "Error"],
  stop: ["Running"],
  reboot: ["Created", "Running", "Stopped", "Error"],
  kill: ["Running"],
  delete: ["Created", "Error", "Stopped"],
  delete_force: ["Created", "Creating", "Error", "Running", "Stopped", "Restarting", "Paused", "Deleting"],
  delete_after_stop: ["Running", "Created", "Error", "Stopped"],
  update: ["Created", "Running", "Stopped", "Paused"],
};

/** Zun's 409 when `action` is not allowed in `status`, or undefined when it is. */
export function stateRefusal(action: ContainerAction, uuid: string, status: ZunStatus): ApiError | undefined {
  if (VALID_STATES[action].includes(status)) return undefined;
  const verb = action.startsWith("delete") ? "delete" : action;
  const hint = action === "delete" && status === "Running" ? " Stop it first, or delete with --stop or --force." : "";
  return conflict(`Cannot ${verb} container ${uuid} in ${status} state.${hint}`);
}

/** Signals a kill may send: the ones that end the container (it is stopped, as spec.state: Stopped does). */
const ENDING_SIGNALS: ReadonlySet<string> = new Set(["KILL", "SIGKILL", "9", "TERM", "SIGTERM", "15", "INT", "SIGINT", "2"]);

export function killRefusal(signal: string | null): ApiError | undefined {
  if (signal === null || signal === "" || ENDING_SIGNALS.has(signal.toUpperCase())) return undefined;
  return badRequest(`Signal ${signal} is not supported: kill stops the container (SIGTERM, then SIGKILL); other signals cannot be delivered.`);
}
