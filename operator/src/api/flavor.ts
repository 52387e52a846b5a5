// Flavor: a Nova flavor (cluster-wide), realised on servers as KubeVirt cpu/memory.
import { z } from "zod";
import {
  ageColumn,
  cel,
  defineKind,
  description,
  displayName,
  idColumn,
  nonNegativeInt,
  objectRef,
  readyColumn,
  statusBase,
  type KindObject,
} from "./meta.js";

const CPU_POLICIES = ["shared", "dedicated", "mixed"];

export const flavorSpec = cel(
  z.object({
    name: displayName(),
    description: description(),
    vcpus: z.int().min(1).max(1024),
    ram: z.int().min(1).max(16_777_216).meta({ description: "RAM in MiB." }),
    disk: nonNegativeInt().meta({ description: "Root disk in GiB (0: the image's size decides)." }),
    ephemeral: nonNegativeInt().optional().meta({ description: "Ephemeral disk in GiB." }),
    swap: nonNegativeInt().optional().meta({ description: "Swap in MiB." }),
    rxtxFactor: z.number().min(0).optional(),
    isPublic: z.boolean().optional().meta({ description: "Usable by every project. Default true." }),
    projects: z
      .array(objectRef())
      .max(1024)
      .optional()
      .meta({ "x-kubernetes-list-type": "set", description: "Projects granted access to a private flavor." }),
    extraSpecs: z
      .record(z.string().min(1).max(255), z.string().max(255))
      .optional()
      .meta({ maxProperties: 128, description: "Nova extra specs, e.g. hw:cpu_policy, hw:mem_page_size." }),
  }),
  [
    {
      rule: "!has(self.projects) || size(self.projects) == 0 || (has(self.isPublic) && !self.isPublic)",
      message: "flavor access (projects) can only be granted on a private flavor: set isPublic to false",
      fieldPath: ".projects",
    },
    {
      rule: `!has(self.extraSpecs) || !('hw:cpu_policy' in self.extraSpecs) || self.extraSpecs['hw:cpu_policy'] in ${JSON.stringify(CPU_POLICIES)}`,
      message: "extraSpecs hw:cpu_policy must be one of shared, dedicated, mixed",
      fieldPath: ".extraSpecs",
    },
    {
      rule: "!has(self.extraSpecs) || ['hw:cpu_sockets', 'hw:cpu_cores', 'hw:cpu_threads'].all(k, !(k in self.extraSpecs) || self.extraSpecs[k].matches('^[1-9][0-9]{0,3}$'))",
      message: "extraSpecs hw:cpu_sockets, hw:cpu_cores and hw:cpu_threads must be positive integers",
      fieldPath: ".extraSpecs",
    },
  ],
);

export const flavorStatus = z.object({ ...statusBase });

export const flavorKind = defineKind({
  kind: "Flavor",
  plural: "flavors",
  singular: "flavor",
  shortNames: ["flv"],
  scope: "Cluster",
  description: "A Nova flavor: vCPUs, RAM and disk sizes for servers.",
  spec: flavorSpec,
  status: flavorStatus,
  printerColumns: [
    { name: "RAM", type: "integer", jsonPath: ".spec.ram", description: "MiB" },
    { name: "Disk", type: "integer", jsonPath: ".spec.disk", description: "GiB" },
    { name: "Ephemeral", type: "integer", jsonPath: ".spec.ephemeral" },
    { name: "VCPUs", type: "integer", jsonPath: ".spec.vcpus" },
    { name: "Public", type: "boolean", jsonPath: ".spec.isPublic" },
    idColumn,
    ageColumn,
    { ...readyColumn, priority: 1 },
  ],
});

export type Flavor = KindObject<typeof flavorKind>;
export type FlavorSpec = z.output<typeof flavorSpec>;

/** OpenStack's classic m1.* flavors, seeded by `make run` and the Helm chart. */
export const STANDARD_FLAVORS: ReadonlyArray<{ name: string; vcpus: number; ram: number; disk: number }> = [
  { name: "m1.tiny", vcpus: 1, ram: 512, disk: 1 },
  { name: "m1.small", vcpus: 1, ram: 2048, disk: 20 },
  { name: "m1.medium", vcpus: 2, ram: 4096, disk: 40 },
  { name: "m1.large", vcpus: 4, ram: 8192, disk: 80 },
  { name: "m1.xlarge", vcpus: 8, ram: 16384, disk: 160 },
];
