import { describe, expect, it } from "vitest";
import type { Server, Volume } from "../../api/index.js";
import { serverRootDisk, volumeDisk } from "./source-disk.js";

function volume(status: Partial<NonNullable<Volume["status"]>> | undefined, deleting = false): Volume {
  return {
    apiVersion: "altostack.io/v1alpha1",
    kind: "Volume",
    metadata: { name: "data", namespace: "project-a", ...(deleting ? { deletionTimestamp: "2026-01-01T00:00:00Z" } : {}) },
    spec: { size: 3 },
    ...(status === undefined ? {} : { status }),
  };
}

describe("the disk an image copies", () => {
  it.each<[string, Volume | undefined, unknown]>([
    ["available volume", volume({ status: "available", claimName: "data-pvc", size: 4 }), { disk: { claimName: "data-pvc", sizeGiB: 4 } }],
    ["in-use volume (force)", volume({ status: "in-use", claimName: "data-pvc" }), { disk: { claimName: "data-pvc", sizeGiB: 3 } }],
    ["creating volume", volume({ status: "creating", claimName: "data-pvc" }), { problem: "volume data is creating: its data is copied once it is available", gone: false }],
    ["volume without a PVC yet", volume({ status: "available" }), { problem: "volume data is available: its data is copied once it is available", gone: false }],
    ["volume in error", volume({ status: "error", claimName: "x" }), { problem: "volume data is error: its data is copied once it is available", gone: false }],
    ["volume being deleted", volume({ status: "deleting", claimName: "x" }, true), { problem: "volume data does not exist", gone: true }],
    ["no volume", undefined, { problem: "volume data does not exist", gone: true }],
  ])("%s", (_name, v, expected) => {
    expect(volumeDisk("data", v)).toEqual(expected);
  });

  it("a server's root disk, once it has one", () => {
    expect(serverRootDisk("web", undefined)).toEqual({ problem: "server web does not exist", gone: true });
    const noDisk = { metadata: { name: "web" }, spec: {}, status: {} } as unknown as Server;
    expect(serverRootDisk("web", noDisk)).toEqual({ problem: "server web has no root disk yet", gone: false });
  });
});
