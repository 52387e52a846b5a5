import { describe, expect, it } from "vitest";
import { delays, node, pvc, T0, vmi } from "./fixtures.js";
import type { ScheduleResult } from "./scheduling.js";
import type { Migration, PersistentVolumeClaim } from "./types.js";
import {
  claimReadiness,
  currentMigration,
  diskTargets,
  liveMigratable,
  migrationProjection,
  nextVmiPhase,
  vmiConditionVerdicts,
  vmiInterfaces,
  vmiVolumeStatus,
  withPhaseTimestamp,
  type VmiStepInput,
} from "./vmi-state.js";

describe("nextVmiPhase", () => {
  const onNode1: ScheduleResult = { node: node("sim-node-1") };
  const base: VmiStepInput = {
    phase: "Pending",
    deleting: false,
    enteredAt: T0,
    now: T0 + 100,
    delays: delays({ vmiPhase: 100, vmStop: 50 }),
    missingClaims: [],
    unboundClaims: [],
    schedule: () => onNode1,
  };

  it.each<[string, Partial<VmiStepInput>, object]>([
    ["a new VMI is Pending at once", { phase: undefined, now: T0 }, { kind: "advance", to: "Pending" }],
    ["Pending waits out its delay", { now: T0 + 40 }, { kind: "wait", waitMs: 60 }],
    ["Pending → Scheduling", {}, { kind: "advance", to: "Scheduling" }],
    ["Pending stays while a PVC is missing", { missingClaims: ["data"] }, { kind: "stay" }],
    ["Scheduling → Scheduled on a node", { phase: "Scheduling" }, { kind: "advance", to: "Scheduled", nodeName: "sim-node-1" }],
    ["Scheduling stays while a PVC is unbound", { phase: "Scheduling", unboundClaims: ["data"] }, { kind: "stay" }],
    [
      "Scheduling stays when no node fits",
      { phase: "Scheduling", schedule: () => ({ node: undefined, message: "0/2 nodes are available" }) },
      { kind: "stay", unschedulable: "0/2 nodes are available" },
    ],
    ["Scheduled → Running", { phase: "Scheduled" }, { kind: "advance", to: "Running" }],
    ["Running stays", { phase: "Running" }, { kind: "stay" }],
    ["a deleted VMI stops after vmStop", { phase: "Running", deleting: true, now: T0 + 50 }, { kind: "advance", to: "Succeeded" }],
    ["a deleted VMI waits for the guest", { phase: "Running", deleting: true, now: T0 + 10 }, { kind: "wait", waitMs: 40 }],
    ["final phases stay", { phase: "Succeeded", deleting: true }, { kind: "stay" }],
  ])("%s", (_name, overrides, expected) => {
    expect(nextVmiPhase({ ...base, ...overrides })).toEqual(expected);
  });

  it("with zero delays moves without waiting", () => {
    expect(nextVmiPhase({ ...base, delays: delays({ vmiPhase: 0 }), now: T0 })).toEqual({ kind: "advance", to: "Scheduling" });
  });
});

describe("claimReadiness", () => {
  it("splits missing and unbound claims, ignoring hotplugged volumes", () => {
    const claims = new Map<string, PersistentVolumeClaim>([
      ["root", pvc("root", "Bound")],
      ["slow", pvc("slow", "Pending")],
    ]);
    const result = claimReadiness(
      [
        { name: "a", dataVolume: { name: "root" } },
        { name: "b", persistentVolumeClaim: { claimName: "slow" } },
        { name: "c", persistentVolumeClaim: { claimName: "gone" } },
        { name: "d", persistentVolumeClaim: { claimName: "later", hotpluggable: true } },
        { name: "e", cloudInitConfigDrive: { userData: "" } },
      ],
      claims,
    );
    expect(result).toEqual({ missing: ["gone"], unbound: ["slow"] });
  });
});

describe("vmiInterfaces", () => {
  const spec = {
    domain: {
      devices: {
        interfaces: [
          { name: "default", masquerade: {} },
          { name: "tenant", bridge: {}, macAddress: "FA:16:3E:00:00:01" },
          { name: "spare", bridge: {} },
          { name: "gone", bridge: {}, state: "absent" },
        ],
      },
    },
    networks: [
      { name: "default", pod: {} },
      { name: "tenant", multus: { networkName: "tenant/net" } },
      { name: "spare", multus: { networkName: "tenant/net2" } },
      { name: "gone", multus: { networkName: "tenant/net3" } },
    ],
  };

  it("reports the pod IP, guest addresses by MAC, and generated MACs; absent interfaces are left out", () => {
    const result = vmiInterfaces({
      vmi: vmi("Running", { spec }),
      podIp: "10.244.0.7",
      guestAddresses: new Map([["fa:16:3e:00:00:01", ["192.168.10.5", "fd00::5"]]]),
    });
    expect(result.map((i) => i.name)).toEqual(["default", "tenant", "spare"]);
    expect(result[0]).toMatchObject({ interfaceName: "eth0", ipAddress: "10.244.0.7", ipAddresses: ["10.244.0.7"], podInterfaceName: "eth0" });
    expect(result[1]).toMatchObject({ interfaceName: "eth1", mac: "fa:16:3e:00:00:01", ipAddress: "192.168.10.5", ipAddresses: ["192.168.10.5", "fd00::5"] });
    expect(result[2]?.mac).toMatch(/^02(:[0-9a-f]{2}){5}$/);
    expect(result[2]?.ipAddress).toBeUndefined();
  });

  it("keeps a generated MAC stable across reports", () => {
    const first = vmiInterfaces({ vmi: vmi("Running", { spec }), podIp: undefined, guestAddresses: new Map() });
    const again = vmiInterfaces({ vmi: vmi("Running", { spec, status: { interfaces: first } }), podIp: undefined, guestAddresses: new Map() });
    expect(again[2]?.mac).toBe(first[2]?.mac);
  });
});

describe("volume status", () => {
  it("names guest devices per bus", () => {
    const targets = diskTargets([
      { name: "root", disk: { bus: "virtio" } },
      { name: "cidata", cdrom: { bus: "sata" } },
      { name: "data", disk: { bus: "virtio" } },
      { name: "hot", disk: { bus: "scsi" } },
    ]);
    expect([...targets]).toEqual([
      ["root", "vda"],
      ["cidata", "sda"],
      ["data", "vdb"],
      ["hot", "sdb"],
    ]);
  });

  it("reports hotplugged volumes Ready once their PVC is bound", () => {
    const subject = vmi("Running", {
      spec: {
        domain: { devices: { disks: [{ name: "root", disk: { bus: "virtio" } }, { name: "hot", disk: { bus: "scsi" } }, { name: "cold", disk: { bus: "scsi" } }] } },
        volumes: [
          { name: "root", dataVolume: { name: "web-root" } },
          { name: "hot", persistentVolumeClaim: { claimName: "hot", hotpluggable: true } },
          { name: "cold", persistentVolumeClaim: { claimName: "cold", hotpluggable: true } },
        ],
      },
    });
    const claims = new Map([
      ["web-root", pvc("web-root", "Bound", { capacity: "10Gi" })],
      ["hot", pvc("hot", "Bound", { capacity: "1Gi" })],
      ["cold", pvc("cold", "Pending")],
    ]);
    const [root, hot, cold] = vmiVolumeStatus(subject, claims);
    expect(root).toEqual({
      name: "root",
      target: "vda",
      persistentVolumeClaimInfo: expect.objectContaining({ claimName: "web-root", capacity: { storage: "10Gi" } }) as unknown,
    });
    expect(hot).toMatchObject({ name: "hot", target: "sda", phase: "Ready", reason: "VolumeReady" });
    expect(cold).toMatchObject({ name: "cold", phase: "Pending", reason: "PVCNotReady" });
  });
});

describe("conditions", () => {
  it("is LiveMigratable only with shared (RWX) claims", () => {
    const subject = vmi("Running");
    expect(liveMigratable(subject, new Map([["web-root", pvc("web-root", "Bound", { accessModes: ["ReadWriteMany"] })]])).status).toBe("True");
    const verdict = liveMigratable(subject, new Map([["web-root", pvc("web-root", "Bound")]]));
    expect(verdict).toMatchObject({ status: "False", reason: "DisksNotLiveMigratable" });
    expect(verdict.message).toContain("PVC web-root is not shared");
  });

  const ok = { type: "LiveMigratable", status: "True" } as const;
  it.each<[string, Parameters<typeof vmiConditionVerdicts>[0], string[]]>([
    ["running", { phase: "Running", deleting: false, missingClaims: [], namespace: "t", unschedulable: undefined, liveMigratable: ok }, ["Ready=True", "LiveMigratable=True", "AgentConnected=True"]],
    ["unschedulable", { phase: "Scheduling", deleting: false, missingClaims: [], namespace: "t", unschedulable: "0/2", liveMigratable: ok }, ["Ready=False:PodNotExists", "PodScheduled=False:Unschedulable"]],
    ["missing PVC", { phase: "Pending", deleting: false, missingClaims: ["x"], namespace: "t", unschedulable: undefined, liveMigratable: ok }, ["Ready=False:PodNotExists", "Synchronized=False:FailedPvcNotFound"]],
    ["scheduled", { phase: "Scheduled", deleting: false, missingClaims: [], namespace: "t", unschedulable: undefined, liveMigratable: ok }, ["Ready=False:GuestNotRunning"]],
    ["stopping", { phase: "Running", deleting: true, missingClaims: [], namespace: "t", unschedulable: undefined, liveMigratable: ok }, ["Ready=False:PodTerminating"]],
  ])("%s", (_name, input, expected) => {
    expect(vmiConditionVerdicts(input).map((v) => `${v.type}=${v.status}${v.reason === undefined ? "" : `:${v.reason}`}`)).toEqual(expected);
  });
});

describe("phase timestamps", () => {
  it("appends a new phase once", () => {
    const first = withPhaseTimestamp(undefined, "Pending", T0);
    expect(first).toEqual([{ phase: "Pending", phaseTransitionTimestamp: "2026-01-01T00:00:00Z" }]);
    expect(withPhaseTimestamp(first, "Pending", T0 + 5000)).toEqual(first);
    expect(withPhaseTimestamp(first, "Scheduling", T0 + 1000).map((t) => t.phase)).toEqual(["Pending", "Scheduling"]);
  });
});

describe("migration projection", () => {
  const migration = (name: string, created: string, phase: string, state: NonNullable<Migration["status"]>["migrationState"]): Migration => ({
    metadata: { name, namespace: "tenant", creationTimestamp: created, uid: `${name}-uid` },
    spec: { vmiName: "web" },
    status: { phase, migrationState: state },
  });
  const running = vmi("Running", { status: { nodeName: "sim-node-1" } });
  const state = { sourceNode: "sim-node-1", targetNode: "sim-node-2", startTimestamp: "2026-01-01T00:00:01Z", migrationUid: "m-uid" };

  it("keeps the VMI as it is before the migration runs", () => {
    expect(migrationProjection(running, migration("m", "2026-01-01T00:00:00Z", "Scheduling", { sourceNode: "sim-node-1" }))).toEqual({
      nodeName: "sim-node-1",
      migrationState: undefined,
    });
  });

  it("mirrors a running migration and moves the VMI once it succeeded", () => {
    expect(migrationProjection(running, migration("m", "2026-01-01T00:00:00Z", "Running", state))).toEqual({ nodeName: "sim-node-1", migrationState: state });
    const done = { ...state, endTimestamp: "2026-01-01T00:00:02Z", completed: true };
    expect(migrationProjection(running, migration("m", "2026-01-01T00:00:00Z", "Succeeded", done))).toEqual({ nodeName: "sim-node-2", migrationState: done });
  });

  it("picks the newest migration", () => {
    const older = migration("a", "2026-01-01T00:00:00Z", "Succeeded", state);
    const newer = migration("b", "2026-01-01T01:00:00Z", "Pending", {});
    expect(currentMigration([newer, older])?.metadata.name).toBe("b");
  });
});
