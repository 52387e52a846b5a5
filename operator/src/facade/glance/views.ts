// Glance v2 JSON for images and members, and the image schemas clients fetch. One mapper per object.
import { DISK_FORMATS, CONTAINER_FORMATS, openstackName, type Image } from "../../api/index.js";
import { visibilityOf } from "../../reconcilers/image/visibility.js";
import { isoSeconds } from "../keystone/tokens.js";

/** Image attributes Glance owns; everything else a client sends is an extra property (a string). */
export const CORE_IMAGE_ATTRIBUTES = new Set([
  "id",
  "name",
  "status",
  "visibility",
  "protected",
  "os_hidden",
  "checksum",
  "os_hash_algo",
  "os_hash_value",
  "owner",
  "size",
  "virtual_size",
  "min_ram",
  "min_disk",
  "disk_format",
  "container_format",
  "created_at",
  "updated_at",
  "tags",
  "self",
  "file",
  "schema",
  "direct_url",
  "locations",
]);

/** The image's status: what the image controller reports, else where a new image starts. */
export function imageStatusOf(image: Image): string {
  if (image.status?.status !== undefined) return image.status.status;
  return image.spec.source.upload !== undefined ? "queued" : "importing";
}

export function imageView(image: Image, ownerId: string) {
  const id = image.metadata.uid ?? "";
  const created = isoSeconds(new Date(image.metadata.creationTimestamp ?? 0));
  const changes = (image.status?.conditions ?? []).map((c) => Date.parse(c.lastTransitionTime)).filter((t) => !Number.isNaN(t));
  const properties = image.spec.properties ?? {};
  return {
    ...properties,
    id,
    name: openstackName(image),
    status: imageStatusOf(image),
    visibility: visibilityOf(image),
    protected: image.spec.protected === true,
    os_hidden: properties.os_hidden === "true",
    checksum: image.status?.checksum ?? null,
    os_hash_algo: image.status?.osHashAlgo ?? null,
    os_hash_value: image.status?.osHashValue ?? null,
    owner: ownerId,
    size: image.status?.size ?? null,
    virtual_size: image.status?.virtualSize ?? null,
    min_ram: image.spec.minRam ?? 0,
    min_disk: image.spec.minDisk ?? 0,
    disk_format: image.spec.diskFormat ?? null,
    container_format: image.spec.containerFormat ?? null,
    created_at: created,
    updated_at: changes.length === 0 ? created : isoSeconds(new Date(Math.max(...changes))),
    tags: [...(image.spec.tags ?? [])],
    self: `/v2/images/${id}`,
    file: `/v2/images/${id}/file`,
    schema: "/v2/schemas/image",
  };
}

export function memberView(image: Image, memberId: string, status: string) {
  const created = isoSeconds(new Date(image.metadata.creationTimestamp ?? 0));
  return { image_id: image.metadata.uid ?? "", member_id: memberId, status, created_at: created, updated_at: created, schema: "/v2/schemas/member" };
}

const nullable = (type: string) => ({ type: [type, "null"] });

/** The `image` schema (what glanceclient validates against; extra properties are strings). */
export function imageSchema() {
  return {
    name: "image",
    additionalProperties: { type: "string" },
    properties: {
      id: { type: "string", pattern: "^([0-9a-fA-F]){8}-([0-9a-fA-F]){4}-([0-9a-fA-F]){4}-([0-9a-fA-F]){4}-([0-9a-fA-F]){12}$", readOnly: true },
      name: { ...nullable("string"), maxLength: 255 },
      status: { type: "string", readOnly: true, enum: ["queued", "saving", "active", "killed", "deleted", "uploading", "importing", "pending_delete", "deactivated"] },
      visibility: { type: "string", enum: ["community", "public", "private", "shared"] },
      protected: { type: "boolean" },
      os_hidden: { type: "boolean" },
      checksum: { ...nullable("string"), readOnly: true, maxLength: 32 },
      os_hash_algo: { ...nullable("string"), readOnly: true, maxLength: 64 },
      os_hash_value: { ...nullable("string"), readOnly: true, maxLength: 128 },
      owner: { ...nullable("string"), maxLength: 255 },
      size: { ...nullable("integer"), readOnly: true },
      virtual_size: { ...nullable("integer"), readOnly: true },
      container_format: { ...nullable("string"), enum: [null, ...CONTAINER_FORMATS] },
      disk_format: { ...nullable("string"), enum: [null, ...DISK_FORMATS] },
      created_at: { type: "string", readOnly: true },
      updated_at: { type: "string", readOnly: true },
      tags: { type: "array", items: { type: "string", maxLength: 255 } },
      min_ram: { type: "integer" },
      min_disk: { type: "integer" },
      self: { type: "string", readOnly: true },
      file: { type: "string", readOnly: true },
      schema: { type: "string", readOnly: true },
      locations: { type: "array", items: { type: "object" } },
      direct_url: { type: "string", readOnly: true },
    },
    links: [
      { rel: "self", href: "{self}" },
      { rel: "enclosure", href: "{file}" },
      { rel: "describedby", href: "{schema}" },
    ],
  };
}

export function memberSchema() {
  return {
    name: "member",
    properties: {
      created_at: { type: "string" },
      image_id: { type: "string" },
      member_id: { type: "string" },
      schema: { type: "string", readOnly: true },
      status: { type: "string", enum: ["pending", "accepted", "rejected"] },
      updated_at: { type: "string" },
    },
  };
}
