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

/** What a lock freezes (Nova refuses actions on a locked instance). */
const LOCKED_FIELDS = ["powerState", "flavorRef", "imageRef", "networks", "volumes"] as const;

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
    powerState: z.enum(POWER_STATES).optional().meta({
      description:
        "Desired power state. Default Active. Shutoff stops the VM (runStrategy Halted); Paused pauses the guest " +
        "(KubeVirt pause). Suspended: KubeVirt has no suspend-to-disk, so the guest is paused the same way (its " +
        "memory stays allocated) and the server reports SUSPENDED. Shelved stops the VM and frees its node " +
        "(SHELVED_OFFLOADED); the disks stay.",
    }),
    locked: z
      .boolean()
      .optional()
      .meta({ description: "While true, powerState, flavorRef, imageRef, networks and volumes cannot change and ServerActions fail." }),
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
      // Nova keeps a server's root block device for its life.
      rule: "has(self.bootVolume) == has(oldSelf.bootVolume) && (!has(self.bootVolume) || self.bootVolume == oldSelf.bootVolume)",
      message: "bootVolume cannot change: a server keeps the volume it boots from (create a new server instead)",
    },
    {
      rule: "!(has(self.userData) && has(self.userDataBase64))",
      message: "set userData or userDataBase64, not both",
    },
    {
      // Nova's lock: a locked server's state cannot be changed until it is unlocked.
      rule:
        "!(has(oldSelf.locked) && oldSelf.locked && has(self.locked) && self.locked) || (" +
        LOCKED_FIELDS.map((f) => `(has(self.${f}) == has(oldSelf.${f}) && (!has(self.${f}) || self.${f} == oldSelf.${f}))`).join(
          " && ",
        ) +
        ")",
      message: `the server is locked: set locked to false before changing ${LOCKED_FIELDS.join(", ")}`,
    },
  ],
);

/** A flavor as a server keeps it (Nova's embedded flavor, microversion 2.47+). */
export const flavorSnapshot = z.object({
  name: z.string(),
  vcpus: z.int(),
  ram: z.int().meta({ description: "MiB." }),
  disk: z.int().meta({ description: "GiB." }),
  ephemeral: z.int().optional(),
  swap: z.int().optional().meta({ description: "MiB." }),
  extraSpecs: z.record(z.string(), z.string()).optional(),
});
export type FlavorSnapshot = z.output<typeof flavorSnapshot>;

/** What a server keeps of the image its root disk came from. */
export const imageSnapshot = z.object({
  ref: z.string().meta({ description: "The imageRef it was resolved from." }),
  id: z.string().meta({ description: "The Image's uid (Nova's image id)." }),
  name: z.string().meta({ description: "The Image's OpenStack name." }),
  namespace: z.string(),
  dataSource: z.string().meta({ description: "The CDI DataSource (in namespace) the root disk is cloned from." }),
  diskFormat: z.string().optional(),
  minDisk: z.int().optional(),
  sizeGiB: z.int().optional().meta({ description: "Size of the image's volume, the smallest root disk it fits." }),
  properties: z
    .record(z.string(), z.string())
    .optional()
    .meta({ description: "The image properties that shape the VM (hw_*, os_*)." }),
});
export type ImageSnapshot = z.output<typeof imageSnapshot>;

export const RESIZE_STAGES = ["Resizing", "VerifyResize", "Reverting"] as const;
export type ResizeStage = (typeof RESIZE_STAGES)[number];

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
  flavor: flavorSnapshot
    .optional()
    .meta({ description: "The flavor the server runs on, as Nova embeds it: it outlives the Flavor object." }),
  image: imageSnapshot.optional().meta({ description: "The image the root disk was built from." }),
  rootDisk: z.string().optional().meta({ description: "The DataVolume (and PVC) of the root disk; for a volume-backed server, the boot volume's PVC." }),
  bootVolume: z.string().optional().meta({ description: "The Volume a volume-backed server boots from (Nova shows no image for it)." }),
  resize: z
    .object({
      oldFlavor: flavorSnapshot,
      stage: z.enum(RESIZE_STAGES),
      confirmRequired: z.boolean().meta({ description: "true for a resize ServerAction (VERIFY_RESIZE), false for a spec change." }),
    })
    .optional()
    .meta({ description: "A resize in progress or waiting for confirmResize/revertResize." }),
  rebuild: z
    .object({ fromDisk: z.string(), fromImage: imageSnapshot })
    .optional()
    .meta({ description: "A rebuild in progress: the root disk being replaced." }),
  rebuildFailure: z
    .object({ imageRef: z.string(), message: z.string() })
    .optional()
    .meta({ description: "The last spec-driven rebuild that failed; it is retried when imageRef changes or by a rebuild ServerAction." }),
  currentAction: z
    .object({
      name: z.string(),
      action: z.string(),
      result: z.enum(["Succeeded", "Failed"]).optional(),
      message: z.string().max(4096).optional(),
      code: z.int().optional(),
    })
    .optional()
    .meta({ description: "The ServerAction the server is working on; its result once this controller finished its part." }),
  console: z
    .object({ vnc: z.string(), serial: z.string() })
    .optional()
    .meta({ description: "API paths (subresources.kubevirt.io) of the running guest's VNC and serial consoles." }),
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
export type ServerSpec = z.output<typeof serverSpec>;
export type ServerStatus = z.output<typeof serverStatus>;
