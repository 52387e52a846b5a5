// A VirtualMachineInstanceMigration's progress, pure: KubeVirt's phases in order, each after a delay;
// the target node is chosen while Scheduling and kept in status.migrationState, which the VMI mirrors.
import { formatTime } from "../kube/index.js";
import type { Delays } from "./config.js";
import type { ScheduleResult } from "./scheduling.js";
import { afterDelay } from "./timeline.js";
import type { Migration, VMI } from "./types.js";
import { VmiPhase } from "./vm-state.js";
import { withPhaseTimestamp } from "./vmi-state.js";

export const MigrationPhase = {
  Pending: "Pending",
  Scheduling: "Scheduling",
  Scheduled: "Scheduled",
  PreparingTarget: "PreparingTarget",
  TargetReady: "TargetReady",
  Running: "Running",
  Succeeded: "Succeeded",
  Failed: "Failed",
} as const;
export type MigrationPhase = (typeof MigrationPhase)[keyof typeof MigrationPhase];

const ORDER: readonly MigrationPhase[] = [
  MigrationPhase.Pending,
  MigrationPhase.Scheduling,
  MigrationPhase.Scheduled,
  MigrationPhase.PreparingTarget,
  MigrationPhase.TargetReady,
  MigrationPhase.Running,
  MigrationPhase.Succeeded,
];

export type MigrationStatus = NonNullable<Migration["status"]>;

export interface MigrationStepInput {
  migration: Migration;
  vmi: VMI | undefined;
  /** The VMI's LiveMigratable verdict (False: the migration cannot start). */
  migratable: { ok: boolean; message: string };
  enteredAt: number;
  now: number;
  delays: Delays;
  /** Where the target pod would go, the source node excluded (only consulted while Scheduling). */
  schedule: () => ScheduleResult;
}

export type MigrationStep =
  | { kind: "stay"; reason?: string }
  | { kind: "wait"; waitMs: number }
  | { kind: "advance"; status: MigrationStatus };

function isFinal(phase: string | undefined): boolean {
  return phase === MigrationPhase.Succeeded || phase === MigrationPhase.Failed;
}

function failed(migration: Migration, reason: string, now: number): MigrationStep {
  const previous = migration.status ?? {};
  const state = previous.migrationState ?? {};
  return {
    kind: "advance",
    status: {
      ...previous,
      phase: MigrationPhase.Failed,
      phaseTransitionTimestamps: withPhaseTimestamp(previous.phaseTransitionTimestamps, MigrationPhase.Failed, now),
      migrationState: {
        ...state,
        migrationUid: migration.metadata.uid ?? "",
        ...(state.startTimestamp === undefined ? {} : { endTimestamp: formatTime(now) }),
        completed: true,
        failed: true,
        failureReason: reason,
      },
    },
  };
}

/** The migration's next status, or how long to wait for it. */
export function nextMigrationStep(input: MigrationStepInput): MigrationStep {
  const { migration, vmi, now } = input;
  const phase = migration.status?.phase ?? "";
  if (isFinal(phase)) return { kind: "stay" };
  const previous = migration.status ?? {};
  const vmiName = migration.spec.vmiName ?? "";
  const advanceTo = (to: MigrationPhase, state: MigrationStatus["migrationState"]): MigrationStep => ({
    kind: "advance",
    status: {
      ...previous,
      phase: to,
      phaseTransitionTimestamps: withPhaseTimestamp(previous.phaseTransitionTimestamps, to, now),
      ...(state === undefined ? {} : { migrationState: state }),
    },
  });
  if (phase === "") return advanceTo(MigrationPhase.Pending, undefined);
  if (vmi === undefined || vmi.metadata.deletionTimestamp !== undefined) {
    return failed(migration, `VMI ${vmiName} does not exist or is shutting down`, now);
  }
  if (vmi.status?.phase !== VmiPhase.Running) {
    return failed(migration, `Cannot migrate VMI ${vmiName} in phase ${vmi.status?.phase ?? "Pending"}: it is not running`, now);
  }
  if (phase === MigrationPhase.Pending && !input.migratable.ok) return failed(migration, input.migratable.message, now);

  const index = ORDER.indexOf(phase as MigrationPhase);
  const next = ORDER[index + 1];
  if (index < 0 || next === undefined) return { kind: "stay" };
  const step = afterDelay(next, input.enteredAt, input.delays.migrationPhase, now);
  if (step.kind === "wait") return step;
  if (step.kind === "stay") return step;

  const state = previous.migrationState ?? {};
  const sourceNode = state.sourceNode ?? vmi.status?.nodeName ?? "";
  switch (next) {
    case MigrationPhase.Scheduled: {
      const target = input.schedule();
      if (target.node === undefined) return { kind: "stay", reason: target.message };
      const targetNode = target.node.metadata.name ?? "";
      return advanceTo(next, {
        ...state,
        migrationUid: migration.metadata.uid ?? "",
        sourceNode,
        targetNode,
        targetPod: `virt-launcher-${vmiName}-${(migration.metadata.uid ?? "").slice(0, 5)}`,
        mode: "PreCopy",
      });
    }
    case MigrationPhase.Running:
      return advanceTo(next, { ...state, startTimestamp: formatTime(now), completed: false, failed: false });
    case MigrationPhase.Succeeded:
      return advanceTo(next, { ...state, endTimestamp: formatTime(now), completed: true, failed: false });
    default:
      return advanceTo(next, state.migrationUid === undefined ? undefined : state);
  }
}
