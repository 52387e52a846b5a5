// Cinder v3 JSON for volumes, snapshots and volume types: one mapper per object, microversion-aware.
import { openstackName, type Snapshot, type Volume } from "../../api/index.js";
import type { VolumeTypeConfig } from "../config.js";
import { stableId } from "../keystone/catalog.js";
import { atLeast, type Microversion } from "../common/microversion.js";
import { isoSeconds } from "../keystone/tokens.js";

export const CINDER_MIN_VERSION = { major: 3, minor: 0 } as const;
/** 3.67: project-less URLs; every field the versions up to it add is shown. */
export const CINDER_MAX_VERSION = { major: 3, minor: 67 } as const;

const micro = (iso: string | undefined): string => isoSeconds(new Date(iso ?? 0)).replace(/Z$/, ".000000");

const lastChange = (obj: { metadata: { creationTimestamp?: string | undefined }; status?: { conditions?: { lastTransitionTime: string }[] | undefined } | undefined }) => {
  const times = (obj.status?.conditions ?? []).map((c) => Date.parse(c.lastTransitionTime)).filter((t) => !Number.isNaN(t));
  return times.length === 0 ? micro(obj.metadata.creationTimestamp) : micro(new Date(Math.max(...times)).toISOString());
};

export const volumeTypeId = (name: string): string => {
  const hex = stableId("volume-type", name);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
};

export function volumeTypeView(type: VolumeTypeConfig) {
  return {
    id: volumeTypeId(type.name),
    name: type.name,
    description: type.description ?? null,
    is_public: true,
    "os-volume-type-access:is_public": true,
    qos_specs_id: null,
    extra_specs: type.storageClass === undefined ? {} : { storage_class: type.storageClass },
  };
}

export interface VolumeViewInput {
  volume: Volume;
  volumeUrl: string;
  projectId: string;
  userId: string;
  /** The volume type's name (the default type when the volume names none). */
  typeName: string;
  /** Ids of the source snapshot / volume, when the volume was created from one. */
  snapshotId: string | null;
  sourceVolumeId: string | null;
  admin: boolean;
}

export function volumeStatusOf(volume: Volume): string {
  if (volume.metadata.deletionTimestamp !== undefined) return "deleting";
  return volume.status?.status ?? "creating";
}

export function volumeSummary(volume: Volume, volumeUrl: string, projectId: string) {
  const id = volume.metadata.uid ?? "";
  return {
    id,
    name: openstackName(volume),
    links: [
      { rel: "self", href: `${volumeUrl}/v3/${projectId}/volumes/${id}` },
      { rel: "bookmark", href: `${volumeUrl}/${projectId}/volumes/${id}` },
    ],
  };
}

export function volumeView(input: VolumeViewInput, v: Microversion) {
  const { volume } = input;
  const attachments = (volume.status?.attachments ?? []).map((a) => ({
    id: volume.metadata.uid ?? "",
    attachment_id: a.attachmentId,
    volume_id: volume.metadata.uid ?? "",
    server_id: a.serverId,
    host_name: null,
    device: a.device ?? null,
    attached_at: a.attachedAt === undefined ? null : micro(a.attachedAt),
  }));
  const view: Record<string, unknown> = {
    ...volumeSummary(volume, input.volumeUrl, input.projectId),
    status: volumeStatusOf(volume),
    size: volume.status?.size ?? volume.spec.size,
    availability_zone: volume.spec.availabilityZone ?? "nova",
    created_at: micro(volume.metadata.creationTimestamp),
    updated_at: lastChange(volume),
    description: volume.spec.description ?? null,
    volume_type: input.typeName,
    snapshot_id: input.snapshotId,
    source_volid: input.sourceVolumeId,
    metadata: { ...volume.spec.metadata },
    attachments,
    bootable: volume.status?.bootable ?? (volume.spec.bootable === true || volume.spec.source?.imageRef !== undefined ? "true" : "false"),
    encrypted: false,
    multiattach: volume.spec.multiattach === true,
    replication_status: "disabled",
    consistencygroup_id: null,
    migration_status: null,
    user_id: input.userId,
    "os-vol-tenant-attr:tenant_id": input.projectId,
  };
  if (input.admin) {
    view["os-vol-host-attr:host"] = volume.status?.claimName === undefined ? null : `kubernetes@csi#${volume.status.claimName}`;
    view["os-vol-mig-status-attr:migstat"] = null;
    view["os-vol-mig-status-attr:name_id"] = null;
    if (atLeast(v, "3.21")) view.provider_id = null;
    if (atLeast(v, "3.61")) view.cluster_name = null;
  }
  if (atLeast(v, "3.13")) view.group_id = null;
  if (atLeast(v, "3.48")) {
    view.service_uuid = null;
    view.shared_targets = false;
  }
  if (atLeast(v, "3.63")) view.volume_type_id = volumeTypeId(input.typeName);
  if (atLeast(v, "3.65")) view.consumes_quota = true;
  return view;
}

export interface SnapshotViewInput {
  snapshot: Snapshot;
  projectId: string;
  userId: string;
  volumeId: string;
}

export function snapshotStatusOf(snapshot: Snapshot): string {
  if (snapshot.metadata.deletionTimestamp !== undefined) return "deleting";
  return snapshot.status?.status ?? "creating";
}

export function snapshotView(input: SnapshotViewInput, v: Microversion) {
  const { snapshot } = input;
  const status = snapshotStatusOf(snapshot);
  return {
    id: snapshot.metadata.uid ?? "",
    name: openstackName(snapshot),
    description: snapshot.spec.description ?? null,
    status,
    size: snapshot.status?.size ?? 0,
    volume_id: input.volumeId,
    metadata: { ...snapshot.spec.metadata },
    created_at: micro(snapshot.metadata.creationTimestamp),
    updated_at: lastChange(snapshot),
    "os-extended-snapshot-attributes:progress": status === "available" ? "100%" : "0%",
    "os-extended-snapshot-attributes:project_id": input.projectId,
    ...(atLeast(v, "3.14") ? { group_snapshot_id: null } : {}),
    ...(atLeast(v, "3.41") ? { user_id: input.userId } : {}),
    ...(atLeast(v, "3.65") ? { consumes_quota: true } : {}),
  };
}
