import { describe, expect, it } from "vitest";
import { API_VERSION, type Snapshot, type Volume } from "../../api/index.js";
import { parseMicroversion, type Microversion } from "../common/microversion.js";
import { snapshotView, volumeTypeId, volumeTypeView, volumeView } from "./views.js";

const v = (text: string): Microversion => parseMicroversion(text) ?? { major: 0, minor: 0 };
const volume: Volume = { apiVersion: API_VERSION, kind: "Volume", metadata: { name: "data", uid: "v-1", namespace: "project-demo" }, spec: { size: 5 } };
const input = { volume, volumeUrl: "http://cloud/volume", projectId: "p", userId: "u", typeName: "__DEFAULT__", snapshotId: null, sourceVolumeId: null, admin: false };

describe("Cinder views", () => {
  it("a new volume: creating, bootable as a string, no attachments", () => {
    expect(volumeView(input, v("3.0"))).toMatchObject({ status: "creating", size: 5, bootable: "false", attachments: [], volume_type: "__DEFAULT__", "os-vol-tenant-attr:tenant_id": "p", multiattach: false, encrypted: false });
  });

  it("adds fields as their microversions arrive; admin-only ones for admins", () => {
    expect(volumeView(input, v("3.0"))).not.toHaveProperty("group_id");
    expect(volumeView(input, v("3.13"))).toHaveProperty("group_id", null);
    expect(volumeView(input, v("3.48"))).toMatchObject({ shared_targets: false, service_uuid: null });
    expect(volumeView(input, v("3.63"))).toHaveProperty("volume_type_id", volumeTypeId("__DEFAULT__"));
    expect(volumeView(input, v("3.65"))).toHaveProperty("consumes_quota", true);
    expect(volumeView(input, v("3.67"))).not.toHaveProperty("os-vol-host-attr:host");
    expect(volumeView({ ...input, admin: true }, v("3.67"))).toHaveProperty("os-vol-host-attr:host");
  });

  it("attachments as Cinder lists them, status from the volume controller", () => {
    const attached: Volume = { ...volume, status: { status: "in-use", attachments: [{ serverId: "s-1", attachmentId: "a-1", device: "/dev/vdb" }] } };
    expect(volumeView({ ...input, volume: attached }, v("3.0"))).toMatchObject({
      status: "in-use",
      attachments: [{ id: "v-1", attachment_id: "a-1", volume_id: "v-1", server_id: "s-1", device: "/dev/vdb", host_name: null, attached_at: null }],
    });
  });

  it("snapshots and types", () => {
    const snapshot: Snapshot = { apiVersion: API_VERSION, kind: "Snapshot", metadata: { name: "s", uid: "sn-1" }, spec: { volumeRef: "data" }, status: { status: "available", size: 5 } };
    expect(snapshotView({ snapshot, projectId: "p", userId: "u", volumeId: "v-1" }, v("3.65"))).toMatchObject({ status: "available", size: 5, volume_id: "v-1", "os-extended-snapshot-attributes:progress": "100%", consumes_quota: true, user_id: "u" });
    expect(volumeTypeView({ name: "fast", storageClass: "ssd" })).toMatchObject({ name: "fast", is_public: true, extra_specs: { storage_class: "ssd" } });
    expect(volumeTypeId("fast")).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
  });
});
