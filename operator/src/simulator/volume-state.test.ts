import { describe, expect, it } from "vitest";
import { pvc, vmi } from "./fixtures.js";
import type { PersistentVolume, Pod, StorageClass } from "./types.js";
import {
  boundClaimStatus,
  claimInUse,
  defaultClasses,
  defaultClassName,
  desiredVolume,
  expansionTarget,
  provisionedByUs,
  volumeAction,
} from "./volume-state.js";

const DRIVER = "sim.csi.altostack.io";
const { storageClass } = defaultClasses({ driver: DRIVER, storageClassName: "sim-standard", snapshotClassName: "sim-snapclass", createClasses: true });
const other: StorageClass = { metadata: { name: "other" }, provisioner: "ebs.csi.aws.com" };
const classes = new Map([
  ["sim-standard", storageClass],
  ["other", other],
]);

describe("provisioning", () => {
  it("provisions claims of our driver's classes only", () => {
    expect(provisionedByUs(pvc("a", "Pending"), classes, DRIVER)).toBe(true);
    expect(provisionedByUs(pvc("a", "Pending", { storageClassName: "other" }), classes, DRIVER)).toBe(false);
    expect(provisionedByUs(pvc("a", "Pending", { storageClassName: "" }), classes, DRIVER)).toBe(false);
  });

  it("knows our default class", () => {
    expect(defaultClassName([other, storageClass], DRIVER)).toBe("sim-standard");
    expect(defaultClassName([other], DRIVER)).toBeUndefined();
  });

  it("makes a CSI PV reserved for the claim, sized and moded like it", () => {
    const claim = pvc("data", "Pending", { size: "5Gi", accessModes: ["ReadWriteMany"] });
    const pv = desiredVolume(claim, storageClass, DRIVER);
    expect(pv.metadata).toMatchObject({ name: "pvc-data-uid", annotations: { "pv.kubernetes.io/provisioned-by": DRIVER } });
    expect(pv.spec).toMatchObject({
      capacity: { storage: "5Gi" },
      accessModes: ["ReadWriteMany"],
      persistentVolumeReclaimPolicy: "Delete",
      storageClassName: "sim-standard",
      volumeMode: "Filesystem",
      csi: { driver: DRIVER, fsType: "ext4" },
      claimRef: { kind: "PersistentVolumeClaim", name: "data", namespace: "tenant", uid: "data-uid" },
    });
    expect(pv.spec?.csi?.volumeHandle).toMatch(/^sim-[0-9a-f]{24}$/);
    expect(boundClaimStatus(claim, pv)).toEqual({ phase: "Bound", accessModes: ["ReadWriteMany"], capacity: { storage: "5Gi" } });
  });
});

describe("expansionTarget", () => {
  it.each<[string, ReturnType<typeof pvc>, StorageClass | undefined, string | undefined]>([
    ["larger request", pvc("a", "Bound", { size: "3Gi", capacity: "1Gi" }), storageClass, "3Gi"],
    ["same size", pvc("a", "Bound", { size: "1Gi", capacity: "1Gi" }), storageClass, undefined],
    ["equal in other units", pvc("a", "Bound", { size: "1024Mi", capacity: "1Gi" }), storageClass, undefined],
    ["class forbids it", pvc("a", "Bound", { size: "3Gi", capacity: "1Gi" }), { ...storageClass, allowVolumeExpansion: false }, undefined],
    ["not bound", pvc("a", "Pending", { size: "3Gi" }), storageClass, undefined],
  ])("%s", (_name, claim, sc, expected) => {
    expect(expansionTarget(claim, sc)).toBe(expected);
  });
});

describe("claimInUse (pvc-protection)", () => {
  const pod = (phase: string): Pod => ({
    metadata: { name: "p", namespace: "tenant" },
    spec: { containers: [], volumes: [{ name: "v", persistentVolumeClaim: { claimName: "data" } }] },
    status: { phase },
  });

  it("holds a claim while a live pod or VMI uses it", () => {
    expect(claimInUse("data", [pod("Running")], [])).toBe(true);
    expect(claimInUse("data", [pod("Succeeded")], [])).toBe(false);
    expect(claimInUse("web-root", [], [vmi("Running")])).toBe(true);
    expect(claimInUse("web-root", [], [vmi("Succeeded")])).toBe(false);
    expect(claimInUse("other", [pod("Running")], [vmi("Running")])).toBe(false);
  });
});

describe("volumeAction", () => {
  const claim = pvc("data", "Bound");
  const pv = (overrides: { phase?: string; deleting?: boolean; policy?: string; driver?: string } = {}): PersistentVolume => ({
    metadata: {
      name: "pvc-data-uid",
      finalizers: ["kubernetes.io/pv-protection"],
      ...(overrides.deleting === true ? { deletionTimestamp: "2026-01-01T00:00:00Z" } : {}),
    },
    spec: {
      csi: { driver: overrides.driver ?? DRIVER, volumeHandle: "h" },
      persistentVolumeReclaimPolicy: overrides.policy ?? "Delete",
      claimRef: { name: "data", namespace: "tenant", uid: "data-uid" },
    },
    status: { phase: overrides.phase ?? "Bound" },
  });

  it.each<[string, PersistentVolume, ReturnType<typeof pvc> | undefined, string]>([
    ["bound to its claim", pv(), claim, "none"],
    ["claim gone", pv(), undefined, "release"],
    ["claim replaced by a namesake", pv(), { ...claim, metadata: { ...claim.metadata, uid: "new" } }, "release"],
    ["released, policy Delete", pv({ phase: "Released" }), undefined, "delete"],
    ["released, policy Retain", pv({ phase: "Released", policy: "Retain" }), undefined, "none"],
    ["deleting after release", pv({ phase: "Released", deleting: true }), undefined, "removeProtection"],
    ["deleting while bound", pv({ deleting: true }), claim, "none"],
    ["another driver's", pv({ driver: "other" }), undefined, "none"],
  ])("%s → %s", (_name, volume, c, expected) => {
    expect(volumeAction(volume, c, DRIVER).kind).toBe(expected);
  });
});
