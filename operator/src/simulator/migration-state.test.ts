import { describe, expect, it } from "vitest";
import { delays, node, T0, vmi } from "./fixtures.js";
import { nextMigrationStep, type MigrationStepInput } from "./migration-state.js";
import type { Migration } from "./types.js";

function migration(phase: string | undefined, state?: NonNullable<Migration["status"]>["migrationState"]): Migration {
  return {
    metadata: { name: "move", namespace: "tenant", uid: "mig-uid" },
    spec: { vmiName: "web" },
    status: {
      ...(phase === undefined ? {} : { phase, phaseTransitionTimestamps: [{ phase, phaseTransitionTimestamp: "2026-01-01T00:00:00Z" }] }),
      ...(state === undefined ? {} : { migrationState: state }),
    },
  };
}

const running = vmi("Running", { status: { nodeName: "sim-node-1" } });
const base: MigrationStepInput = {
  migration: migration("Pending"),
  vmi: running,
  migratable: { ok: true, message: "" },
  enteredAt: T0,
  now: T0 + 100,
  delays: delays({ migrationPhase: 100 }),
  schedule: () => ({ node: node("sim-node-2") }),
};

describe("nextMigrationStep", () => {
  it("starts Pending", () => {
    const step = nextMigrationStep({ ...base, migration: migration(undefined) });
    expect(step).toMatchObject({ kind: "advance", status: { phase: "Pending" } });
  });

  it("waits out each phase's delay", () => {
    expect(nextMigrationStep({ ...base, now: T0 + 30 })).toEqual({ kind: "wait", waitMs: 70 });
  });

  it.each([
    ["Pending", "Scheduling"],
    ["Scheduling", "Scheduled"],
    ["Scheduled", "PreparingTarget"],
    ["PreparingTarget", "TargetReady"],
    ["TargetReady", "Running"],
    ["Running", "Succeeded"],
  ])("%s → %s", (from, to) => {
    const step = nextMigrationStep({ ...base, migration: migration(from, { sourceNode: "sim-node-1", targetNode: "sim-node-2" }) });
    expect(step).toMatchObject({ kind: "advance", status: { phase: to } });
    if (step.kind === "advance") expect(step.status.phaseTransitionTimestamps?.map((t) => t.phase)).toEqual([from, to]);
  });

  it("picks the target while scheduling and records both ends", () => {
    const step = nextMigrationStep({ ...base, migration: migration("Scheduling") });
    expect(step).toMatchObject({
      kind: "advance",
      status: { migrationState: { sourceNode: "sim-node-1", targetNode: "sim-node-2", migrationUid: "mig-uid", mode: "PreCopy" } },
    });
  });

  it("stays in Scheduling without a target node", () => {
    const step = nextMigrationStep({ ...base, migration: migration("Scheduling"), schedule: () => ({ node: undefined, message: "0/1 nodes are available" }) });
    expect(step).toEqual({ kind: "stay", reason: "0/1 nodes are available" });
  });

  it("stamps start and end", () => {
    const start = nextMigrationStep({ ...base, migration: migration("TargetReady", { targetNode: "sim-node-2" }) });
    expect(start).toMatchObject({ status: { migrationState: { startTimestamp: "2026-01-01T00:00:00Z", completed: false } } });
    const end = nextMigrationStep({ ...base, migration: migration("Running", { targetNode: "sim-node-2", startTimestamp: "x" }) });
    expect(end).toMatchObject({ status: { phase: "Succeeded", migrationState: { endTimestamp: "2026-01-01T00:00:00Z", completed: true, failed: false } } });
  });

  it.each<[string, Partial<MigrationStepInput>, RegExp]>([
    ["no VMI", { vmi: undefined }, /does not exist/],
    ["VMI not running", { vmi: vmi("Scheduling") }, /not running/],
    ["not live-migratable", { migratable: { ok: false, message: "PVC root is not shared" } }, /not shared/],
  ])("fails with %s", (_name, overrides, reason) => {
    const step = nextMigrationStep({ ...base, ...overrides });
    expect(step).toMatchObject({ kind: "advance", status: { phase: "Failed", migrationState: { failed: true, completed: true } } });
    if (step.kind === "advance") expect(step.status.migrationState?.failureReason).toMatch(reason);
  });

  it("leaves finished migrations alone", () => {
    expect(nextMigrationStep({ ...base, migration: migration("Succeeded") })).toEqual({ kind: "stay" });
    expect(nextMigrationStep({ ...base, migration: migration("Failed"), vmi: undefined })).toEqual({ kind: "stay" });
  });
});
