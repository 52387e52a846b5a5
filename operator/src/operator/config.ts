// Operator configuration, from flags and environment, validated at the edge.
import { hostname } from "node:os";
import { randomBytes } from "node:crypto";
import { parseArgs } from "node:util";
import { z } from "zod";
import { computeSettingsSchema } from "../reconcilers/server/settings.js";
import { parseVolumeTypes, storageSettingsSchema } from "../reconcilers/volume/settings.js";

/** A physical network: the OVS bridge that reaches it and the VLAN ids tenant networks may get on it. */
export const physnetSchema = z.object({
  name: z.string().regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, "a physnet name is a DNS label").max(63),
  bridge: z.string().regex(/^[A-Za-z0-9][-A-Za-z0-9_.]*$/, "an OVS bridge name").max(15),
  vlanRanges: z.array(
    z
      .object({ min: z.int().min(1).max(4094), max: z.int().min(1).max(4094) })
      .refine((r) => r.min <= r.max, "a VLAN range's start must not exceed its end"),
  ),
});
export type Physnet = z.infer<typeof physnetSchema>;

export const networkingConfigSchema = z.object({
  /** Physical networks, like Neutron's bridge_mappings + network_vlan_ranges; tenant networks use the first with ranges. */
  physnets: z
    .array(physnetSchema)
    .min(1)
    .refine((list) => new Set(list.map((p) => p.name)).size === list.length, "physnet names must be unique"),
  /** MTU of networks that do not set one. */
  defaultMtu: z.int().min(68).max(9216),
  /**
   * Projects whose networks may set provider attributes (Neutron allows them to admins only; RBAC cannot
   * restrict fields, so the operator honours them only here). Elsewhere such a network is refused.
   */
  providerProjects: z.array(z.string().min(1)),
});
export type NetworkingConfig = z.infer<typeof networkingConfigSchema>;

/** What `make run` and the tests get: one physnet on bridge br1 with a thousand tenant VLANs. */
export const DEFAULT_PHYSNETS = "physnet1:br1:1000-1999";

/**
 * `name:bridge[:min-max]` entries, comma-separated; an entry repeated with the same bridge adds a range
 * (Neutron's `physnet1:100:199,physnet1:300:399` style). Shape errors are left to the zod schema.
 */
export function parsePhysnets(text: string): unknown[] {
  const byName = new Map<string, { name: string; bridge: string; vlanRanges: { min: number; max: number }[] }>();
  for (const entry of text.split(",").map((e) => e.trim()).filter((e) => e !== "")) {
    const [name = "", bridge = "", range, ...rest] = entry.split(":");
    if (rest.length > 0 || name === "" || bridge === "") throw new Error(`physnet "${entry}" is not name:bridge[:min-max]`);
    const physnet = byName.get(name) ?? { name, bridge, vlanRanges: [] };
    if (physnet.bridge !== bridge) throw new Error(`physnet ${name} is mapped to two bridges (${physnet.bridge}, ${bridge})`);
    if (range !== undefined) {
      const match = /^(\d+)-(\d+)$/.exec(range);
      if (match === null) throw new Error(`VLAN range "${range}" of physnet ${name} is not min-max`);
      physnet.vlanRanges.push({ min: Number(match[1]), max: Number(match[2]) });
    }
    byName.set(name, physnet);
  }
  return [...byName.values()];
}

export const operatorConfigSchema = z.object({
  kubeconfig: z.string().optional(),
  leaderElection: z.boolean(),
  leaseNamespace: z.string().min(1),
  leaseName: z.string().min(1),
  identity: z.string().min(1),
  opsPort: z.int().min(0).max(65535),
  opsHost: z.string(),
  workers: z.int().min(1).max(64),
  networking: networkingConfigSchema,
  compute: computeSettingsSchema,
  storage: storageSettingsSchema,
});
export type OperatorConfig = z.infer<typeof operatorConfigSchema>;

const bool = (value: string | undefined, fallback: boolean): boolean =>
  value === undefined ? fallback : !["false", "0", "no"].includes(value.toLowerCase());

export function loadOperatorConfig(argv: string[], env: Readonly<Record<string, string | undefined>>): OperatorConfig {
  const { values } = parseArgs({
    args: argv,
    options: {
      kubeconfig: { type: "string" },
      "leader-elect": { type: "string" },
      "lease-namespace": { type: "string" },
      "lease-name": { type: "string" },
      identity: { type: "string" },
      "ops-port": { type: "string" },
      "ops-host": { type: "string" },
      workers: { type: "string" },
      physnets: { type: "string" },
      "network-mtu": { type: "string" },
      "provider-network-projects": { type: "string" },
      "vm-disk-access-modes": { type: "string" },
      "vm-storage-class": { type: "string" },
      "image-size-gib": { type: "string" },
      "volume-types": { type: "string" },
    },
    strict: true,
  });
  let physnets: unknown[];
  try {
    physnets = parsePhysnets(values.physnets ?? env.ALTOSTACK_PHYSNETS ?? DEFAULT_PHYSNETS);
  } catch (e) {
    throw new Error(`invalid operator configuration: --physnets/ALTOSTACK_PHYSNETS: ${(e as Error).message}`);
  }
  const result = operatorConfigSchema.safeParse({
    kubeconfig: values.kubeconfig ?? env.ALTOSTACK_KUBECONFIG,
    leaderElection: bool(values["leader-elect"] ?? env.ALTOSTACK_LEADER_ELECT, true),
    leaseNamespace: values["lease-namespace"] ?? env.POD_NAMESPACE ?? "altostack-system",
    leaseName: values["lease-name"] ?? "altostack-operator",
    identity: values.identity ?? env.POD_NAME ?? `${hostname()}-${randomBytes(3).toString("hex")}`,
    opsPort: Number(values["ops-port"] ?? env.ALTOSTACK_OPS_PORT ?? 8080),
    opsHost: values["ops-host"] ?? "0.0.0.0",
    workers: Number(values.workers ?? 2),
    networking: {
      physnets,
      defaultMtu: Number(values["network-mtu"] ?? env.ALTOSTACK_NETWORK_MTU ?? 1500),
      providerProjects: (values["provider-network-projects"] ?? env.ALTOSTACK_PROVIDER_NETWORK_PROJECTS ?? "admin")
        .split(",")
        .map((p) => p.trim())
        .filter((p) => p !== ""),
    },
    compute: {
      diskAccessModes: (values["vm-disk-access-modes"] ?? env.ALTOSTACK_VM_DISK_ACCESS_MODES ?? "")
        .split(",")
        .map((m) => m.trim())
        .filter((m) => m !== ""),
      storageClassName: values["vm-storage-class"] ?? env.ALTOSTACK_VM_STORAGE_CLASS,
      imageSizeGiB: Number(values["image-size-gib"] ?? env.ALTOSTACK_IMAGE_SIZE_GIB ?? 1),
    },
    // `name[=storageClass],...`, the same variable the facade reads (it lists the types to clients).
    storage: { volumeTypes: parseVolumeTypes(values["volume-types"] ?? env.ALTOSTACK_VOLUME_TYPES) },
  });
  if (!result.success) throw new Error(`invalid operator configuration: ${z.prettifyError(result.error)}`);
  return result.data;
}
