// Operator-wide settings of the block storage reconcilers: the volume types (Cinder's) and the
// StorageClass each maps to. Same format and environment variable as the facade's, so both processes
// read one configuration: `name[=storageClass[:snapshotClass]]`, the first type is the default.
import { z } from "zod";
import { DEFAULT_VOLUME_TYPE, parseVolumeType, volumeTypeSchema, type VolumeTypeConfig } from "../../facade/config.js";

export const storageSettingsSchema = z.object({
  volumeTypes: z
    .array(volumeTypeSchema)
    .min(1)
    .refine((types) => new Set(types.map((t) => t.name)).size === types.length, "volume type names must be unique"),
});
export type StorageSettings = z.infer<typeof storageSettingsSchema>;

export const DEFAULT_STORAGE_SETTINGS: StorageSettings = { volumeTypes: [{ name: DEFAULT_VOLUME_TYPE }] };

/** `name[=storageClass[:snapshotClass]]` entries, comma-separated; shape errors are left to the zod schema. */
export function parseVolumeTypes(text: string | undefined): VolumeTypeConfig[] {
  const entries = (text ?? "").split(",").map((e) => e.trim()).filter((e) => e !== "");
  if (entries.length === 0) return DEFAULT_STORAGE_SETTINGS.volumeTypes;
  return entries.map(parseVolumeType);
}

/** The volume type a volume asks for (unset: the first, as Cinder's default type); undefined when unknown. */
export function volumeTypeOf(settings: StorageSettings, requested: string | undefined): VolumeTypeConfig | undefined {
  if (requested === undefined) return settings.volumeTypes[0];
  return settings.volumeTypes.find((t) => t.name === requested);
}
