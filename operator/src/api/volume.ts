// Volume: a Cinder volume, realised as a PVC (blank) or a CDI DataVolume (from an image, snapshot or volume).
import { z } from "zod";
import { imageRef } from "./server.js";
import {
  ageColumn,
  cel,
  defineKind,
  description,
  displayName,
  idColumn,
  immutable,
  objectRef,
  readyColumn,
  statusBase,
  stringMap,
  type KindObject,
} from "./meta.js";

export const VOLUME_STATUSES = [
  "creating",
  "available",
  "reserved",
  "attaching",
  "in-use",
  "detaching",
  "extending",
  "maintenance",
  "error",
  "error_extending",
  "deleting",
  "error_deleting",
  "downloading",
  "uploading",
] as const;
export type VolumeStatusValue = (typeof VOLUME_STATUSES)[number];

export const volumeSource = cel(
  z.object({
    imageRef: imageRef().optional(),
    snapshotRef: objectRef().optional(),
    volumeRef: objectRef().optional().meta({ description: "Clone of another volume." }),
  }),
  [
    {
      rule: "[has(self.imageRef), has(self.snapshotRef), has(self.volumeRef)].filter(x, x).size() <= 1",
      message: "source sets at most one of imageRef, snapshotRef, volumeRef (none: a blank volume)",
    },
  ],
);

export const volumeSpec = z.object({
  name: displayName(),
  description: description(),
  size: cel(z.int().min(1).max(65536).meta({ description: "GiB." }), [
    { rule: "self >= oldSelf", message: "size can only grow (volumes cannot be shrunk)" },
  ]),
  volumeType: z.string().max(255).optional().meta({ description: "Maps to a StorageClass by operator configuration." }),
  source: immutable(volumeSource, "source").optional(),
  bootable: z.boolean().optional(),
  multiattach: z.boolean().optional().meta({ description: "Attachable to several servers (RWX block)." }),
  availabilityZone: z.string().max(255).optional(),
  metadata: stringMap().optional(),
});

export const volumeAttachment = z.object({
  serverId: z.string(),
  serverName: z.string().optional(),
  attachmentId: z.string(),
  device: z.string().optional(),
  attachedAt: z.string().optional(),
});

export const volumeStatus = z.object({
  ...statusBase,
  status: z.enum(VOLUME_STATUSES).optional(),
  size: z.int().optional().meta({ description: "Provisioned GiB." }),
  bootable: z.enum(["true", "false"]).optional().meta({ description: "As Cinder shows it (a string)." }),
  attachments: z.array(volumeAttachment).optional(),
  claimName: z.string().optional().meta({ description: "The PersistentVolumeClaim holding the data." }),
});

export const volumeKind = defineKind({
  kind: "Volume",
  plural: "volumes",
  singular: "volume",
  shortNames: ["vol", "osvolume"],
  scope: "Namespaced",
  description: "A Cinder volume, realised as a PersistentVolumeClaim or CDI DataVolume.",
  spec: volumeSpec,
  status: volumeStatus,
  printerColumns: [
    { name: "Status", type: "string", jsonPath: ".status.status" },
    { name: "Size", type: "integer", jsonPath: ".spec.size", description: "GiB" },
    { name: "Type", type: "string", jsonPath: ".spec.volumeType" },
    { name: "Attached To", type: "string", jsonPath: ".status.attachments[*].serverName" },
    { name: "Bootable", type: "string", jsonPath: ".status.bootable", priority: 1 },
    idColumn,
    ageColumn,
    { ...readyColumn, priority: 1 },
  ],
});

export type Volume = KindObject<typeof volumeKind>;
