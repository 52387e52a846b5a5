// The simulator's settings: validated with zod, with defaults that keep tests quick. The process
// takes them from CLI flags and SIM_* environment variables (flags win); the in-process API takes a
// partial object.
import { parseArgs } from "node:util";
import { z } from "zod";

const delayMs = (fallback: number) => z.int().min(0).max(600_000).default(fallback);

/** How long each simulated step takes, in milliseconds (0: as fast as the watches go). */
export const delaysSchema = z.object({
  /** Each VMI phase step: Pending → Scheduling → Scheduled → Running. */
  vmiPhase: delayMs(200),
  /** Guest shutdown: a VMI being stopped or deleted reaches Succeeded after this. */
  vmStop: delayMs(200),
  /** Each VirtualMachineInstanceMigration phase step. */
  migrationPhase: delayMs(200),
  /** DataVolume ImportScheduled/CloneScheduled/UploadScheduled → the next phase. */
  dataVolumeSchedule: delayMs(200),
  /** ImportInProgress from 0% to 100%. */
  importDuration: delayMs(500),
  /** CloneInProgress from 0% to 100%. */
  cloneDuration: delayMs(400),
  /** A Pending PVC gets its PV and both are Bound. */
  volumeBind: delayMs(100),
  /** A larger PVC request is reflected in the PV and the PVC's status capacity. */
  volumeResize: delayMs(100),
  /** A VolumeSnapshot becomes readyToUse. */
  snapshotReady: delayMs(200),
  /** A bound Pod is reported Running. */
  podStart: delayMs(200),
  /** A Pod being deleted is removed by its kubelet. */
  podStop: delayMs(100),
});
export type Delays = z.infer<typeof delaysSchema>;
export type DelayName = keyof Delays;
export const DELAY_NAMES = Object.keys(delaysSchema.shape) as DelayName[];

const dnsLabelPrefix = /^[a-z0-9]([-a-z0-9]*[a-z0-9-])?$/;
const quantity = z.string().regex(/^\d+(\.\d+)?([KMGTPE]i|[kMGTPE]|m)?$/, "must be a Kubernetes quantity such as 64Gi");

export const simulatorConfigSchema = z.object({
  nodes: z
    .object({
      count: z.int().min(0).max(250).default(2),
      /** Node names are the prefix plus 1, 2, … */
      namePrefix: z.string().regex(dnsLabelPrefix).max(50).default("sim-node-"),
      /** Zones handed out round-robin; OpenStack's default availability zone is "nova". */
      zones: z.array(z.string().min(1).max(63)).min(1).default(["nova"]),
      cpu: quantity.default("32"),
      memory: quantity.default("128Gi"),
      pods: quantity.default("110"),
    })
    .prefault({}),
  /** Cluster pod network; node i gets the i-th /24 of it, like kube-controller-manager's node IPAM. */
  podCidr: z
    .string()
    .regex(/^(\d{1,3}\.){3}\d{1,3}\/(8|9|1\d|2[0-3])$/, "must be an IPv4 CIDR with a prefix of /8 to /23")
    .default("10.244.0.0/16"),
  delays: delaysSchema.prefault({}),
  /** How many times ImportInProgress/CloneInProgress report progress before 100%. */
  progressUpdates: z.int().min(1).max(100).default(4),
  failures: z
    .object({
      /** An http/registry source whose host ends in `.invalid` fails like a DNS error does. */
      invalidHostImports: z.boolean().default(true),
      /** A DataVolume annotated `sim.altostack.io/fail: "true"` fails. */
      annotation: z.boolean().default(true),
    })
    .prefault({}),
  storage: z
    .object({
      driver: z.string().min(1).default("sim.csi.altostack.io"),
      storageClassName: z.string().min(1).default("sim-standard"),
      snapshotClassName: z.string().min(1).default("sim-snapclass"),
      /** Create the StorageClass and VolumeSnapshotClass at start when they are absent. */
      createClasses: z.boolean().default(true),
    })
    .prefault({}),
  /** Workers per simulated controller. */
  workers: z.int().min(1).max(16).default(2),
}).superRefine((config, ctx) => {
  const prefix = Number(config.podCidr.split("/")[1]);
  const ranges = 2 ** (24 - prefix);
  if (config.nodes.count > ranges) {
    ctx.addIssue({
      code: "custom",
      path: ["nodes", "count"],
      message: `podCidr ${config.podCidr} has room for ${ranges} node /24 ranges, not ${config.nodes.count}`,
    });
  }
});

export type SimulatorConfig = z.infer<typeof simulatorConfigSchema>;
/** What callers may pass: any subset, defaults fill the rest. */
export type SimulatorConfigInput = z.input<typeof simulatorConfigSchema>;

export class SimulatorConfigError extends Error {
  override readonly name = "SimulatorConfigError";
}

export function parseSimulatorConfig(input: unknown = {}): SimulatorConfig {
  const parsed = simulatorConfigSchema.safeParse(input);
  if (!parsed.success) throw new SimulatorConfigError(`invalid simulator config:\n${z.prettifyError(parsed.error)}`);
  return parsed.data;
}

/** Every delay set to `ms`: 0 makes the simulator as fast as it can be (tests). */
export function uniformDelays(ms: number): Delays {
  return Object.fromEntries(DELAY_NAMES.map((name) => [name, ms])) as Delays;
}

export const USAGE = `Usage: simulator --kubeconfig <path> [options]

Plays KubeVirt, CDI, a CSI driver, the snapshot controller, the scheduler, kubelets and Multus
against a bare kube-apiserver.

Options (environment variable in brackets; flags win):
  --kubeconfig <path>         cluster to talk to [KUBECONFIG]
  --nodes <n>                 number of fake nodes, default 2 [SIM_NODES]
  --zones <a,b,...>           zones handed out round-robin, default nova [SIM_ZONES]
  --pod-cidr <cidr>           pod network, default 10.244.0.0/16 [SIM_POD_CIDR]
  --delay-ms <ms>             set every simulated delay [SIM_DELAY_MS]
  --delay <name>=<ms>         set one delay, repeatable [SIM_DELAYS=name=ms,name=ms]
                              names: ${DELAY_NAMES.join(", ")}
  --no-fail-invalid-hosts     do not fail imports from *.invalid hosts
  --no-fail-annotation        ignore the sim.altostack.io/fail annotation
  --help                      show this text
Logging: LOG_LEVEL=debug|info|warn|error`;

export interface CliOptions {
  kubeconfig: string | undefined;
  config: SimulatorConfig;
  help: boolean;
}

/** Reads flags and SIM_* variables; throws SimulatorConfigError with a readable message. */
export function parseCli(argv: readonly string[], env: Readonly<Record<string, string | undefined>>): CliOptions {
  let values;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      strict: true,
      allowPositionals: false,
      options: {
        kubeconfig: { type: "string" },
        nodes: { type: "string" },
        zones: { type: "string" },
        "pod-cidr": { type: "string" },
        "delay-ms": { type: "string" },
        delay: { type: "string", multiple: true },
        "no-fail-invalid-hosts": { type: "boolean" },
        "no-fail-annotation": { type: "boolean" },
        help: { type: "boolean" },
      },
    }));
  } catch (e) {
    throw new SimulatorConfigError(e instanceof Error ? e.message : String(e));
  }

  const raw: Record<string, unknown> = {};
  const nodes: Record<string, unknown> = {};
  const count = values.nodes ?? env.SIM_NODES;
  if (count !== undefined) nodes.count = toInt(count, "--nodes");
  const zones = values.zones ?? env.SIM_ZONES;
  if (zones !== undefined) nodes.zones = zones.split(",").map((z) => z.trim()).filter((z) => z !== "");
  if (Object.keys(nodes).length > 0) raw.nodes = nodes;
  const podCidr = values["pod-cidr"] ?? env.SIM_POD_CIDR;
  if (podCidr !== undefined) raw.podCidr = podCidr;

  const delays: Record<string, number> = {};
  const all = values["delay-ms"] ?? env.SIM_DELAY_MS;
  if (all !== undefined) Object.assign(delays, uniformDelays(toInt(all, "--delay-ms")));
  const single = values.delay ?? (env.SIM_DELAYS === undefined ? [] : env.SIM_DELAYS.split(","));
  for (const entry of single) {
    const [name, ms] = entry.split("=");
    if (name === undefined || ms === undefined || !(DELAY_NAMES as string[]).includes(name.trim())) {
      throw new SimulatorConfigError(`--delay expects <name>=<ms> with name one of ${DELAY_NAMES.join(", ")}; got "${entry}"`);
    }
    delays[name.trim()] = toInt(ms, `--delay ${name}`);
  }
  if (Object.keys(delays).length > 0) raw.delays = delays;

  const failures: Record<string, boolean> = {};
  if (values["no-fail-invalid-hosts"] === true) failures.invalidHostImports = false;
  if (values["no-fail-annotation"] === true) failures.annotation = false;
  if (Object.keys(failures).length > 0) raw.failures = failures;

  return {
    kubeconfig: values.kubeconfig ?? (env.KUBECONFIG === "" ? undefined : env.KUBECONFIG),
    config: parseSimulatorConfig(raw),
    help: values.help === true,
  };
}

function toInt(text: string, what: string): number {
  const n = Number(text.trim());
  if (!Number.isInteger(n)) throw new SimulatorConfigError(`${what} expects an integer; got "${text}"`);
  return n;
}
