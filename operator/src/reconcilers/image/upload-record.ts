// Pure: the size and checksums the image API measured while streaming an upload, as recorded in the Image's
// annotations (ImageUploadAnnotation), and what the image's status shows of them.
import { z } from "zod";
import { ImageUploadAnnotation, type Image } from "../../api/index.js";

export interface UploadRecord {
  size: number;
  md5: string;
  sha512: string;
}

const recordSchema = z.object({
  size: z.string().regex(/^\d{1,16}$/).transform(Number),
  md5: z.string().regex(/^[a-f0-9]{32}$/),
  sha512: z.string().regex(/^[a-f0-9]{128}$/),
});

/** The recorded upload, or undefined when absent or malformed (a hand-edited annotation is not trusted). */
export function uploadRecordOf(annotations: Readonly<Record<string, string>> | undefined): UploadRecord | undefined {
  const parsed = recordSchema.safeParse({
    size: annotations?.[ImageUploadAnnotation.size],
    md5: annotations?.[ImageUploadAnnotation.md5],
    sha512: annotations?.[ImageUploadAnnotation.sha512],
  });
  return parsed.success ? parsed.data : undefined;
}

/** The annotations that record an upload. */
export function uploadRecordAnnotations(record: UploadRecord): Record<string, string> {
  return {
    [ImageUploadAnnotation.size]: String(record.size),
    [ImageUploadAnnotation.md5]: record.md5,
    [ImageUploadAnnotation.sha512]: record.sha512,
  };
}

type DataFields = Pick<NonNullable<Image["status"]>, "size" | "checksum" | "osHashAlgo" | "osHashValue">;

/**
 * Glance's size/checksum/os_hash_* for an uploaded image: shown once the data is in place (active), from the
 * record of the upload that put it there; before that, whatever the status showed.
 */
export function uploadedDataFields(record: UploadRecord | undefined, dataInPlace: boolean, previous: DataFields): DataFields {
  if (!dataInPlace || record === undefined) {
    return { size: previous.size, checksum: previous.checksum, osHashAlgo: previous.osHashAlgo, osHashValue: previous.osHashValue };
  }
  return { size: record.size, checksum: record.md5, osHashAlgo: "sha512", osHashValue: record.sha512 };
}

/**
 * An upload whose client sends nothing for this long is dropped by the image API. The image API renews its
 * streaming mark well within it while bytes flow, so a mark older than this is left by an image API that died
 * mid-upload and is ignored.
 */
export const UPLOAD_IDLE_MS = 60_000;

/** How long the mark written at `streamingSince` still says "an upload is in flight", from `now`; 0 when stale or absent. */
export function uploadStreamingFor(annotations: Readonly<Record<string, string>> | undefined, now: Date): number {
  const since = annotations?.[ImageUploadAnnotation.streaming];
  if (since === undefined) return 0;
  const at = Date.parse(since);
  if (Number.isNaN(at)) return 0;
  const age = now.getTime() - at;
  // A mark from the future (clock skew between the image API and the controller) counts as fresh, once.
  if (age < 0) return UPLOAD_IDLE_MS;
  return Math.max(0, UPLOAD_IDLE_MS - age);
}
