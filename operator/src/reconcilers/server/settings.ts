// Operator-wide settings of the compute reconcilers: where VM disks and image volumes go and how big an
// image volume is when the image does not say. Validated with zod where they enter (flags, environment).
import { z } from "zod";

export const ACCESS_MODES = ["ReadWriteOnce", "ReadWriteMany", "ReadOnlyMany", "ReadWriteOncePod"] as const;

export const computeSettingsSchema = z.object({
  /**
   * Access modes of root disks and image volumes. Empty: CDI's StorageProfile decides. Live migration
   * needs ReadWriteMany (KubeVirt migrates only VMs whose disks are shared).
   */
  diskAccessModes: z.array(z.enum(ACCESS_MODES)).default([]),
  /** StorageClass of root disks and image volumes; unset: the cluster's default class. */
  storageClassName: z.string().min(1).max(253).optional(),
  /** Size of an image's volume when the image sets no minDisk (CDI needs a size before it downloads). */
  imageSizeGiB: z.int().min(1).max(65536).default(1),
});
export type ComputeSettings = z.infer<typeof computeSettingsSchema>;

export const DEFAULT_COMPUTE_SETTINGS: ComputeSettings = computeSettingsSchema.parse({});
