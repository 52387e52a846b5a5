// Server: a Nova server, realised as a KubeVirt VirtualMachine.
import { z } from "zod";
import { instanceAddresses, instanceNetworks } from "./network.js";
import {
  ageColumn,
  cel,
  defineKind,
  description,
  displayName,
  idColumn,
  objectRef,
  readyColumn,
  statusBase,
  stringMap,
  tags,
  type KindObject,
} from "./meta.js";

export const POWER_STATES = ["Active", "Shutoff", "Paused", "Suspended", "Shelved"] as const;
export type DesiredPowerState = (typeof POWER_STATES)[number];

/** Nova's server statuses. */
export const SERVER_STATUSES = [
  "BUILD",
  "ACTIVE",
  "SHUTOFF",
  "PAUSED",
  "SUSPENDED",
  "REBOOT",
  "HARD_REBOOT",
  "RESIZE",
  "VERIFY_RESIZE",
  "REVERT_RESIZE",
  "REBUILD",
  "MIGRATING",
  "SHELVED",
  "SHELVED_OFFLOADED",
  "DELETED",
  "ERROR",
  "UNKNOWN",
] as const;
export type ServerStatusValue = (typeof SERVER_STATUSES)[number];

export const SERVER_GROUP_POLICIES = ["affinity", "anti-affinity", "soft-affinity", "soft-anti-affinity"] as const;

/**
 * An image reference: `name` for an image of the same project, `project/name` for a public, community or
 * shared image of another project.
 */
export const imageRef = () =>
  z
    .string()
    .min(1)
    .max(507)
    .regex(/^([a-z0-9]([-a-z0-9]*[a-z0-9])?\/)?[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/)
    .meta({ description: "Image name in this project, or project/name for another project's image." });

export const serverVolume = z.object({
  volumeRef: objectRef(),
  deleteOnTermination: z.boolean().optional(),
  device: z.string().max(64).optional().meta({ description: "Requested device name, e.g. /dev/vdb (a hint)." }),
});

export const bootVolume = cel(
  z.object({
    volumeRef: objectRef().optional().meta({ description: "Boot from this existing bootable volume." }),
    imageRef: imageRef().optional().meta({ description: "Copy this image into a new volume and boot from it." }),
    size: z.int().min(1).max(65536).optional().meta({ description: "GiB of the new volume (with imageRef)." }),
    volumeType: z.string().max(255).optional(),
    deleteOnTermination: z.boolean().optional(),
  }),
  [{ rule: "has(self.volumeRef) != has(self.imageRef)", message: "bootVolume sets exactly one of volumeRef or imageRef" }],
);

export const serverSpec = cel(
  z.object({
    name: displayName(),
    description: description(),
    flavorRef: objectRef().meta({ description: "Name of a Flavor." }),
    imageRef: imageRef().optional(),
    bootVolume: bootVolume.optional(),
    keypairRef: objectRef().optional(),
    userData: z.string().max(65535).optional().meta({ description: "cloud-init user data (plain text)." }),
    userDataBase64: z.string().max(87384).optional().meta({ description: "cloud-init user data, base64-encoded." }),
    metadata: stringMap().optional().meta({ description: "Nova server metadata." }),
    availabilityZone: z.string().max(255).optional(),
    networks: instanceNetworks().optional(),
    securityGroupRefs: z.array(objectRef()).max(32).optional().meta({ "x-kubernetes-list-type": "set" }),
    volumes: z
      .array(serverVolume)
      .max(64)
      .optional()
      .meta({ "x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["volumeRef"] }),
    powerState: z.enum(POWER_STATES).optional().meta({ description: "Desired power state. Default Active." }),
    locked: z.boolean().optional(),
    lockedReason: z.string().max(255).optional(),
    serverGroup: z
      .object({ name: z.string().min(1).max(255), policy: z.enum(SERVER_GROUP_POLICIES) })
      .optional()
      .meta({ description: "Servers sharing a group name are scheduled by its (anti-)affinity policy." }),
    hostname: z.string().max(63).optional(),
    tags: tags().optional(),
  }),
  [
    {
      rule: "has(self.imageRef) != has(self.bootVolume)",
      message: "a server boots from exactly one of imageRef or bootVolume",
    },
    {
      rule: "!(has(self.userData) && has(self.userDataBase64))",
      message: "set userData or userDataBase64, not both",
    },
  ],
);

export const serverFault = z.object({
  code: z.int(),
  message: z.string(),
  details: z.string().optional(),
  created: z.string().optional(),
});

export const serverStatus = z.object({
  ...statusBase,
  status: z.enum(SERVER_STATUSES).optional(),
  taskState: z.string().optional().meta({ description: "Nova OS-EXT-STS:task_state, e.g. spawning, rebooting." }),
  vmState: z.string().optional().meta({ description: "Nova OS-EXT-STS:vm_state." }),
  powerState: z.int().optional().meta({ description: "Nova OS-EXT-STS:power_state (1 running, 4 shutdown, …)." }),
  host: z.string().optional(),
  launchedAt: z.string().optional(),
  addresses: instanceAddresses().optional(),
  networksSummary: z.string().optional().meta({ description: "Addresses as `openstack server list` prints them." }),
  fault: serverFault.optional(),
  virtualMachine: z.string().optional().meta({ description: "Name of the KubeVirt VirtualMachine." }),
});

export const serverKind = defineKind({
  kind: "Server",
  plural: "servers",
  singular: "server",
  shortNames: ["srv", "osserver"],
  scope: "Namespaced",
  description: "A Nova server (virtual machine), realised as a KubeVirt VirtualMachine.",
  spec: serverSpec,
  status: serverStatus,
  printerColumns: [
    { name: "Status", type: "string", jsonPath: ".status.status" },
    { name: "Networks", type: "string", jsonPath: ".status.networksSummary" },
    { name: "Image", type: "string", jsonPath: ".spec.imageRef" },
    { name: "Flavor", type: "string", jsonPath: ".spec.flavorRef" },
    idColumn,
    { name: "Task", type: "string", jsonPath: ".status.taskState", priority: 1 },
    { name: "Host", type: "string", jsonPath: ".status.host", priority: 1 },
    ageColumn,
    { ...readyColumn, priority: 1 },
  ],
});

export type Server = KindObject<typeof serverKind>;
