// Image: a Glance image, realised as a CDI DataVolume (+ DataSource) that servers clone their disks from.
import { z } from "zod";
import {
  ageColumn,
  cel,
  defineKind,
  displayName,
  idColumn,
  immutable,
  nonNegativeInt,
  objectRef,
  readyColumn,
  statusBase,
  stringMap,
  tags,
  type KindObject,
} from "./meta.js";

export const DISK_FORMATS = ["ami", "ari", "aki", "vhd", "vhdx", "vmdk", "raw", "qcow2", "vdi", "ploop", "iso"] as const;
export const CONTAINER_FORMATS = ["ami", "ari", "aki", "bare", "ovf", "ova", "docker", "compressed"] as const;
export const IMAGE_VISIBILITIES = ["public", "private", "shared", "community"] as const;
/** Glance's image states. */
export const IMAGE_STATUSES = [
  "queued",
  "saving",
  "uploading",
  "importing",
  "active",
  "deactivated",
  "killed",
  "deleted",
  "pending_delete",
] as const;
export type ImageStatus = (typeof IMAGE_STATUSES)[number];

/**
 * What the image API measured while it streamed an upload (written on the Image as the uploading user, before
 * the last byte reaches CDI); the image controller copies them into status once the data is in place.
 */
export const ImageUploadAnnotation = {
  size: "altostack.io/upload-size",
  md5: "altostack.io/upload-md5",
  sha512: "altostack.io/upload-sha512",
  /** When the image API last saw bytes of an upload in flight (RFC 3339): Glance's `saving` while fresh. */
  streaming: "altostack.io/upload-streaming",
} as const;

const checksumSchema = z.object({
  algorithm: z.enum(["md5", "sha256", "sha512"]),
  value: z.string().regex(/^[a-f0-9]{32,128}$/),
});

export const imageSource = cel(
  z.object({
    http: z
      .object({
        url: z.string().min(1).max(2048).regex(/^https?:\/\//).meta({ description: "Imported with CDI's HTTP importer." }),
        checksum: checksumSchema.optional(),
      })
      .optional(),
    upload: z
      .object({})
      .optional()
      .meta({ description: "Bytes arrive later through the image API (queued until then)." }),
    volumeRef: objectRef().optional().meta({ description: "Created from a volume (volume upload-to-image)." }),
    serverRef: objectRef().optional().meta({ description: "Created from a server's root disk (createImage)." }),
  }),
  [
    {
      rule: "[has(self.http), has(self.upload), has(self.volumeRef), has(self.serverRef)].filter(x, x).size() == 1",
      message: "source must set exactly one of http, upload, volumeRef, serverRef",
    },
  ],
);

export const imageMember = z.object({
  project: objectRef(),
  status: z.enum(["pending", "accepted", "rejected"]).optional().meta({ description: "Default accepted." }),
});

export const imageSpec = cel(
  z.object({
    name: displayName(),
    source: immutable(imageSource, "source"),
    diskFormat: z.enum(DISK_FORMATS).optional().meta({ description: "Default qcow2." }),
    containerFormat: z.enum(CONTAINER_FORMATS).optional().meta({ description: "Default bare." }),
    minDisk: nonNegativeInt().optional().meta({ description: "GiB a server's root disk needs at least." }),
    minRam: nonNegativeInt().optional().meta({ description: "MiB a server needs at least." }),
    visibility: z.enum(IMAGE_VISIBILITIES).optional().meta({ description: "Default shared (as Glance)." }),
    members: z
      .array(imageMember)
      .max(1024)
      .optional()
      .meta({ "x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["project"] }),
    protected: z.boolean().optional(),
    tags: tags().optional(),
    properties: stringMap()
      .optional()
      .meta({ description: "Glance properties, e.g. hw_firmware_type=uefi, hw_disk_bus, os_type." }),
  }),
  [
    {
      rule: "!has(self.members) || size(self.members) == 0 || !has(self.visibility) || self.visibility == 'shared'",
      message: "members can only be set on an image with visibility shared",
      fieldPath: ".members",
    },
  ],
);

export const imageStatus = z.object({
  ...statusBase,
  status: z.enum(IMAGE_STATUSES).optional(),
  size: z.int().min(0).optional().meta({ description: "Bytes." }),
  virtualSize: z.int().min(0).optional(),
  checksum: z.string().optional().meta({ description: "MD5 of the image data." }),
  osHashAlgo: z.string().optional(),
  osHashValue: z.string().optional(),
  progress: z.string().optional(),
  dataSource: z.object({ name: z.string(), namespace: z.string() }).optional(),
  dataVolume: z.string().optional().meta({ description: "The CDI DataVolume holding the image's data." }),
  uploadClaim: z
    .string()
    .optional()
    .meta({ description: "The PVC CDI accepts the image's data upload into; set only while it is ready for it." }),
  owner: z.string().optional().meta({ description: "The owning project (Glance's owner)." }),
});

export const imageKind = defineKind({
  kind: "Image",
  plural: "images",
  singular: "image",
  shortNames: ["img", "osimage"],
  scope: "Namespaced",
  description: "A Glance image, realised as a CDI DataVolume and DataSource that servers clone from.",
  spec: imageSpec,
  status: imageStatus,
  printerColumns: [
    { name: "Status", type: "string", jsonPath: ".status.status" },
    { name: "Disk Format", type: "string", jsonPath: ".spec.diskFormat" },
    { name: "Visibility", type: "string", jsonPath: ".spec.visibility" },
    { name: "Size", type: "integer", jsonPath: ".status.size" },
    idColumn,
    ageColumn,
    { ...readyColumn, priority: 1 },
  ],
});

export type Image = KindObject<typeof imageKind>;
