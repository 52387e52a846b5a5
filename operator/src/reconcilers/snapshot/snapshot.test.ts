import { describe, expect, it } from "vitest";
import { API_VERSION, type Snapshot, type Volume } from "../../api/index.js";
import { checkSnapshotSource, desiredVolumeSnapshot, snapshotVerdict, volumeSnapshotName, type SnapshotSourceCheck } from "./desired.js";

const NS = "project-alpha";

function snapshot(spec: Partial<Snapshot["spec"]> = {}): Snapshot {
  return { apiVersion: API_VERSION, kind: "Snapshot", metadata: { name: "s1", namespace: NS }, spec: { volumeRef: "data", ...spec } };
}
function volume(status: Volume["status"], deleting = false): Volume {
  return {
    apiVersion: API_VERSION,
    kind: "Volume",
    metadata: { name: "data", namespace: NS, ...(deleting ? { deletionTimestamp: "2026-01-01T00:00:00Z" } : {}) },
    spec: { size: 1 },
    status,
  };
}

describe("desiredVolumeSnapshot", () => {
  it("snapshots the volume's claim, with the default class and owner labels", () => {
    expect(desiredVolumeSnapshot(snapshot(), "data.volume")).toEqual({
      apiVersion: "snapshot.storage.k8s.io/v1",
      kind: "VolumeSnapshot",
      metadata: {
        name: "s1.snapshot",
        namespace: NS,
        labels: { "app.kubernetes.io/managed-by": "altostack", "altostack.io/snapshot": "s1", "altostack.io/project": "alpha" },
      },
      spec: { source: { persistentVolumeClaimName: "data.volume" } },
    });
  });
  it.each<[string, string | undefined, Record<string, unknown>]>([
    ["no class configured for the volume type: the driver's default", undefined, { source: { persistentVolumeClaimName: "data.volume" } }],
    ["the volume type's VolumeSnapshotClass", "csi-snapclass", { source: { persistentVolumeClaimName: "data.volume" }, volumeSnapshotClassName: "csi-snapclass" }],
  ])("class: %s", (_name, snapshotClass, spec) => {
    expect(desiredVolumeSnapshot(snapshot(), "data.volume", snapshotClass).spec).toEqual(spec);
  });
  it("keeps long names within 253 characters", () => {
    expect(volumeSnapshotName("s".repeat(250)).length).toBeLessThanOrEqual(253);
  });
});

describe("checkSnapshotSource", () => {
  const cases: { name: string; snap?: Partial<Snapshot["spec"]>; volume: Volume | undefined; expected: Partial<SnapshotSourceCheck> }[] = [
    { name: "available volume", volume: volume({ status: "available", claimName: "data.volume" }), expected: { kind: "ok", claimName: "data.volume" } },
    { name: "missing volume", volume: undefined, expected: { kind: "fault", message: "Volume data could not be found." } },
    { name: "volume being deleted", volume: volume({ status: "available", claimName: "c" }, true), expected: { kind: "fault", reason: "DependencyNotFound" } },
    { name: "in-use without force", volume: volume({ status: "in-use", claimName: "c" }), expected: { kind: "fault", reason: "InvalidSpec" } },
    { name: "in-use with force", snap: { force: true }, volume: volume({ status: "in-use", claimName: "c" }), expected: { kind: "ok" } },
    { name: "volume in error", volume: volume({ status: "error" }), expected: { kind: "fault", reason: "DependencyNotReady" } },
    { name: "volume still creating", volume: volume({ status: "creating" }), expected: { kind: "waiting" } },
    // Cinder's API refuses these (facade/cinder/policy.ts); a declared Snapshot waits for the volume to settle.
    { name: "volume reserved", volume: volume({ status: "reserved", claimName: "c" }), expected: { kind: "waiting", message: "waiting for volume data to become available (reserved)" } },
    { name: "volume attaching", snap: { force: true }, volume: volume({ status: "attaching", claimName: "c" }), expected: { kind: "waiting", message: "waiting for volume data to become available (attaching)" } },
    { name: "volume detaching", snap: { force: true }, volume: volume({ status: "detaching", claimName: "c" }), expected: { kind: "waiting", message: "waiting for volume data to become available (detaching)" } },
  ];
  for (const c of cases) {
    it(c.name, () => {
      expect(checkSnapshotSource(snapshot(c.snap), c.volume)).toMatchObject(c.expected);
    });
  }
});

describe("snapshotVerdict", () => {
  const ok: SnapshotSourceCheck = { kind: "ok", claimName: "c" };
  it.each([
    ["just taken", ok, undefined, "creating", "Progressing"],
    ["being cut", undefined, { readyToUse: false, error: undefined }, "creating", "Progressing"],
    ["ready", undefined, { readyToUse: true, error: undefined }, "available", "Reconciled"],
    ["storage error", undefined, { readyToUse: false, error: "driver said no" }, "error", "ProvisioningFailed"],
    ["bad source", { kind: "fault", reason: "DependencyNotFound", message: "gone" } as const, undefined, "error", "DependencyNotFound"],
    ["source not ready", { kind: "waiting", message: "waiting for volume data" } as const, undefined, "creating", "Progressing"],
  ] as const)("%s", (_name, check, vs, status, reason) => {
    const verdict = snapshotVerdict(check, vs);
    expect(verdict.status).toBe(status);
    expect(verdict.ready.reason).toBe(reason);
  });
  it("says what it waits for", () => {
    expect(snapshotVerdict({ kind: "waiting", message: "waiting for volume data" }, undefined).ready.message).toBe("waiting for volume data");
  });
});
