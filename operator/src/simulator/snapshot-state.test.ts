import { describe, expect, it } from "vitest";
import { pvc, T0 } from "./fixtures.js";
import { classFor, contentStatus, desiredContent, snapshotErrorStatus, snapshotStatus, sourceProblem } from "./snapshot-state.js";
import type { PersistentVolume, Snapshot, SnapshotClass } from "./types.js";

const snapshot: Snapshot = {
  metadata: { name: "snap", namespace: "tenant", uid: "snap-uid" },
  spec: { source: { persistentVolumeClaimName: "data" } },
};
const pv: PersistentVolume = {
  metadata: { name: "pvc-data-uid" },
  spec: { capacity: { storage: "3Gi" }, volumeMode: "Filesystem", csi: { driver: "sim.csi.altostack.io", volumeHandle: "sim-abc" } },
};
const defaultClass: SnapshotClass = {
  metadata: { name: "sim-snapclass", annotations: { "snapshotclass.kubernetes.io/is-default-class": "true" } },
  driver: "sim.csi.altostack.io",
  deletionPolicy: "Delete",
};
const retain: SnapshotClass = { metadata: { name: "keep" }, driver: "sim.csi.altostack.io", deletionPolicy: "Retain" };

describe("snapshots", () => {
  it("uses the named class, else the default", () => {
    expect(classFor(snapshot, [retain, defaultClass])?.metadata.name).toBe("sim-snapclass");
    expect(classFor({ ...snapshot, spec: { ...snapshot.spec, volumeSnapshotClassName: "keep" } }, [retain, defaultClass])?.metadata.name).toBe("keep");
    expect(classFor(snapshot, [retain])).toBeUndefined();
  });

  it("waits for a bound source claim", () => {
    expect(sourceProblem(snapshot, undefined, undefined)).toContain("cannot get claim");
    expect(sourceProblem(snapshot, pvc("data", "Pending"), undefined)).toContain("not yet bound");
    expect(sourceProblem(snapshot, pvc("data", "Bound"), pv)).toBeUndefined();
  });

  it("binds a content named after the snapshot, taken from the volume's handle", () => {
    const content = desiredContent(snapshot, pv, retain);
    expect(content.metadata.name).toBe("snapcontent-snap-uid");
    expect(content.spec).toEqual({
      deletionPolicy: "Retain",
      driver: "sim.csi.altostack.io",
      source: { volumeHandle: "sim-abc" },
      sourceVolumeMode: "Filesystem",
      volumeSnapshotClassName: "keep",
      volumeSnapshotRef: { apiVersion: "snapshot.storage.k8s.io/v1", kind: "VolumeSnapshot", name: "snap", namespace: "tenant", uid: "snap-uid" },
    });
  });

  it("reports sizes in bytes on the content and as a quantity on the snapshot", () => {
    const content = desiredContent(snapshot, pv, defaultClass);
    content.status = contentStatus(content, pv, T0);
    expect(content.status).toMatchObject({ readyToUse: true, restoreSize: 3 * 2 ** 30, creationTime: T0 * 1_000_000 });
    expect(snapshotStatus(content)).toEqual({
      boundVolumeSnapshotContentName: "snapcontent-snap-uid",
      readyToUse: true,
      creationTime: "2026-01-01T00:00:00Z",
      restoreSize: "3Gi",
    });
  });

  it("keeps the first time an error was seen", () => {
    const first = snapshotErrorStatus(snapshot, "boom", T0);
    const again = snapshotErrorStatus({ ...snapshot, status: first }, "boom", T0 + 60_000);
    expect(again).toEqual(first);
    expect(snapshotErrorStatus({ ...snapshot, status: first }, "other", T0 + 60_000).error?.time).toBe("2026-01-01T00:01:00Z");
  });
});
