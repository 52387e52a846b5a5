// Pure: what a flavor's vCPUs and Nova extra specs mean for a KubeVirt domain. The Flavor reconciler uses
// it to tell users which extra specs are invalid or have no KubeVirt equivalent; the VM builder uses it to
// shape the domain. One interpretation, two readers.

export interface CpuTopology {
  sockets: number;
  cores: number;
  threads: number;
}

export interface FlavorDomain {
  topology: CpuTopology;
  /** hw:cpu_policy=dedicated: every vCPU pinned to a host CPU (KubeVirt dedicatedCpuPlacement). */
  dedicatedCpus: boolean;
  /** hw:emulator_threads_policy=isolate (with dedicated CPUs). */
  isolateEmulatorThread: boolean;
  /** hw:mem_page_size large/2MB/1GB: guest memory on hugepages of this size. */
  hugepagesPageSize: "2Mi" | "1Gi" | undefined;
  /** hw_rng:allowed=True: a virtio RNG device. */
  rng: boolean;
}

export type ExtraSpecsVerdict =
  | { ok: true; domain: FlavorDomain; ignored: string[] }
  | { ok: false; errors: string[] };

/** Extra specs this mapping reads; every other key is accepted and ignored (Nova ignores unknown keys too). */
export const MAPPED_EXTRA_SPECS = [
  "hw:cpu_policy",
  "hw:cpu_sockets",
  "hw:cpu_cores",
  "hw:cpu_threads",
  "hw:mem_page_size",
  "hw:emulator_threads_policy",
  "hw_rng:allowed",
] as const;

/** Keys that only steer Nova's own scheduler or quotas: meaningless here, so not worth a warning. */
const SILENT_PREFIXES = ["quota:", "aggregate_instance_extra_specs:", "capabilities:", "resources:", "trait:"];

function positiveInt(value: string | undefined): number | undefined | "invalid" {
  if (value === undefined) return undefined;
  return /^[1-9][0-9]{0,3}$/.test(value) ? Number(value) : "invalid";
}

/** Nova's rule: unset dimensions are derived so that sockets × cores × threads = vCPUs. */
export function cpuTopology(
  vcpus: number,
  requested: { sockets?: number | undefined; cores?: number | undefined; threads?: number | undefined },
): CpuTopology | string {
  const threads = requested.threads ?? 1;
  let sockets: number;
  let cores: number;
  if (requested.sockets === undefined) {
    cores = requested.cores ?? 1;
    sockets = vcpus / (cores * threads);
  } else {
    sockets = requested.sockets;
    cores = requested.cores ?? vcpus / (sockets * threads);
  }
  if (!Number.isInteger(sockets) || !Number.isInteger(cores) || sockets < 1 || cores < 1 || sockets * cores * threads !== vcpus) {
    const given = Object.entries(requested)
      .filter(([, v]) => v !== undefined)
      .map(([k, v]) => `${k}=${String(v)}`)
      .join(", ");
    return `hw:cpu_sockets/cores/threads (${given}) cannot make ${vcpus} vCPUs: sockets × cores × threads must equal vcpus`;
  }
  return { sockets, cores, threads };
}

/** hw:mem_page_size in KiB unless it has a unit (KB, MB, GB); small/any mean no hugepages. */
export function hugepagesFor(value: string | undefined): { size: FlavorDomain["hugepagesPageSize"] } | { error: string } {
  if (value === undefined) return { size: undefined };
  const v = value.trim().toLowerCase();
  if (v === "small" || v === "any") return { size: undefined };
  if (v === "large") return { size: "2Mi" };
  const match = /^(\d+)\s*(kb|k|kib|mb|m|mib|gb|g|gib)?$/.exec(v);
  const unit = match?.[2]?.[0] ?? "k";
  const factor = unit === "g" ? 1024 * 1024 : unit === "m" ? 1024 : 1;
  const kib = match === null ? Number.NaN : Number(match[1]) * factor;
  if (kib === 4) return { size: undefined };
  if (kib === 2048) return { size: "2Mi" };
  if (kib === 1024 * 1024) return { size: "1Gi" };
  return {
    error: `hw:mem_page_size ${value} is not a page size KubeVirt supports (small, large, any, 4KB, 2MB, 1GB)`,
  };
}

export function interpretExtraSpecs(vcpus: number, extraSpecs: Readonly<Record<string, string>> = {}): ExtraSpecsVerdict {
  const errors: string[] = [];
  const ignored: string[] = [];

  const dims = {
    sockets: positiveInt(extraSpecs["hw:cpu_sockets"]),
    cores: positiveInt(extraSpecs["hw:cpu_cores"]),
    threads: positiveInt(extraSpecs["hw:cpu_threads"]),
  };
  for (const [dim, value] of Object.entries(dims)) {
    if (value === "invalid") errors.push(`hw:cpu_${dim} must be a positive integer`);
  }
  const numeric = (v: number | undefined | "invalid"): number | undefined => (v === "invalid" ? undefined : v);
  const topology = cpuTopology(vcpus, { sockets: numeric(dims.sockets), cores: numeric(dims.cores), threads: numeric(dims.threads) });
  if (typeof topology === "string") errors.push(topology);

  const policy = extraSpecs["hw:cpu_policy"];
  if (policy !== undefined && !["shared", "dedicated", "mixed"].includes(policy)) {
    errors.push(`hw:cpu_policy ${policy} is not one of shared, dedicated, mixed`);
  }
  if (policy === "mixed") ignored.push("hw:cpu_policy=mixed (KubeVirt pins all vCPUs or none; servers get shared vCPUs)");
  const dedicatedCpus = policy === "dedicated";

  const emulator = extraSpecs["hw:emulator_threads_policy"];
  const isolateEmulatorThread = emulator === "isolate" && dedicatedCpus;
  if (emulator !== undefined && !isolateEmulatorThread) {
    ignored.push(`hw:emulator_threads_policy=${emulator} (only isolate with hw:cpu_policy=dedicated has a KubeVirt equivalent)`);
  }

  const pages = hugepagesFor(extraSpecs["hw:mem_page_size"]);
  if ("error" in pages) errors.push(pages.error);

  const rngValue = extraSpecs["hw_rng:allowed"];
  const rng = rngValue?.toLowerCase() === "true";

  for (const key of Object.keys(extraSpecs).sort()) {
    if ((MAPPED_EXTRA_SPECS as readonly string[]).includes(key)) continue;
    if (SILENT_PREFIXES.some((p) => key.startsWith(p))) continue;
    ignored.push(key);
  }

  if (errors.length > 0 || typeof topology === "string" || "error" in pages) return { ok: false, errors };
  return {
    ok: true,
    domain: { topology, dedicatedCpus, isolateEmulatorThread, hugepagesPageSize: pages.size, rng },
    ignored,
  };
}
