// Pure: what Nova would say about a server (status, vm_state, task_state, power_state, fault) from what
// the reconciler observed of it and its VirtualMachine, and the Ready condition users and GitOps tools read.
import { Reason, type DesiredPowerState, type ResizeStage, type ServerStatusValue } from "../../api/index.js";
import { wantsPaused, wantsRunning } from "./vm.js";

/** Nova's power_state values (nova/compute/power_state.py). */
export const PowerState = { NoState: 0, Running: 1, Paused: 3, Shutdown: 4, Crashed: 6, Suspended: 7 } as const;

export interface Fault {
  code: number;
  message: string;
}

export interface VmiObservation {
  phase: string | undefined;
  paused: boolean;
  deleting: boolean;
  nodeName: string | undefined;
  /** A live migration is under way (VMI migrationState started and not ended). */
  migrating: boolean;
}

export interface ServerObservation {
  desiredPower: DesiredPowerState;
  deleting: boolean;
  /** Admitted: flavor, image and quota checked and recorded (status.flavor set). */
  admitted: boolean;
  /** Why the server cannot be built or has broken (ERROR). */
  fault: Fault | undefined;
  /** Phase of the root disk's DataVolume, if it exists. */
  rootDiskPhase: string | undefined;
  vmi: VmiObservation | undefined;
  /** The guest has run before (status.launchedAt). */
  launched: boolean;
  resizeStage: ResizeStage | undefined;
  rebuilding: boolean;
  /** The ServerAction the server works on, with its reboot type. */
  action: { action: string; type?: string | undefined } | undefined;
}

export interface NovaState {
  status: ServerStatusValue;
  vmState: string;
  taskState: string | undefined;
  powerState: number;
}

function runningVmi(vmi: VmiObservation | undefined): VmiObservation | undefined {
  return vmi !== undefined && vmi.phase === "Running" && !vmi.deleting ? vmi : undefined;
}
const isRunning = (vmi: VmiObservation | undefined): boolean => runningVmi(vmi) !== undefined;

function observedPower(o: ServerObservation): number {
  const running = runningVmi(o.vmi);
  if (running !== undefined) return running.paused ? PowerState.Paused : PowerState.Running;
  return o.launched || o.admitted ? PowerState.Shutdown : PowerState.NoState;
}

const state = (status: ServerStatusValue, vmState: string, taskState: string | undefined, powerState: number): NovaState => ({
  status,
  vmState,
  taskState,
  powerState,
});

/** The steady or transitional state from power alone (no fault, no operation in progress). */
function powerStateOf(o: ServerObservation): NovaState {
  const power = observedPower(o);
  const desired = o.desiredPower;
  const vmi = o.vmi;
  const running = runningVmi(vmi);
  if (running !== undefined) {
    if (running.paused) {
      if (desired === "Suspended") return state("SUSPENDED", "suspended", undefined, PowerState.Suspended);
      if (desired === "Paused") return state("PAUSED", "paused", undefined, power);
      const task = desired === "Active" ? "unpausing" : desired === "Shelved" ? "shelving" : "powering-off";
      return state("PAUSED", "paused", task, power);
    }
    const task: Record<DesiredPowerState, string | undefined> = {
      Active: undefined,
      Paused: "pausing",
      Suspended: "suspending",
      Shutoff: "powering-off",
      Shelved: "shelving",
    };
    return state("ACTIVE", "active", task[desired], power);
  }
  const stopping = vmi !== undefined && (vmi.deleting || vmi.phase === "Succeeded" || vmi.phase === "Failed");
  if (stopping) {
    return desired === "Shelved"
      ? state("SHELVED", "shelved", "shelving_offloading", PowerState.Shutdown)
      : state(o.launched ? "ACTIVE" : "BUILD", o.launched ? "active" : "building", wantsRunning(desired) ? "rebooting" : "powering-off", power);
  }
  if (!wantsRunning(desired)) {
    return desired === "Shelved"
      ? state("SHELVED_OFFLOADED", "shelved_offloaded", undefined, PowerState.Shutdown)
      : state("SHUTOFF", "stopped", undefined, PowerState.Shutdown);
  }
  // Wants to run, and no VMI runs yet.
  if (!o.launched) {
    const task = vmi === undefined || vmi.phase === "Pending" || vmi.phase === "Scheduling" || vmi.phase === undefined ? "scheduling" : "spawning";
    return state("BUILD", "building", task, PowerState.NoState);
  }
  return state("SHUTOFF", "stopped", "powering-on", PowerState.Shutdown);
}

const RESIZE_STATE: Record<ResizeStage, (o: ServerObservation) => NovaState> = {
  Resizing: (o) => state("RESIZE", wantsRunning(o.desiredPower) ? "active" : "stopped", isRunning(o.vmi) ? "resize_migrating" : "resize_finish", observedPower(o)),
  VerifyResize: (o) => state("VERIFY_RESIZE", "resized", undefined, observedPower(o)),
  Reverting: (o) => state("REVERT_RESIZE", "resized", "resize_reverting", observedPower(o)),
};

/** Nova's status, vm_state, task_state and power_state for what was observed. */
export function novaState(o: ServerObservation): NovaState {
  const power = observedPower(o);
  let result: NovaState;
  if (o.fault !== undefined) {
    result = state("ERROR", "error", undefined, power);
  } else if (!o.admitted) {
    result = state("BUILD", "building", "scheduling", PowerState.NoState);
  } else if (o.rebuilding) {
    const diskReady = o.rootDiskPhase === "Succeeded";
    result = state("REBUILD", wantsRunning(o.desiredPower) ? "active" : "stopped", diskReady ? "rebuild_spawning" : "rebuild_block_device_mapping", power);
  } else if (!o.launched && o.rootDiskPhase !== "Succeeded") {
    result = state("BUILD", "building", "block_device_mapping", PowerState.NoState);
  } else if (o.resizeStage !== undefined) {
    result = RESIZE_STATE[o.resizeStage](o);
  } else if (o.vmi?.migrating === true || (o.action !== undefined && (o.action.action === "migrate" || o.action.action === "liveMigrate") && isRunning(o.vmi))) {
    result = state("MIGRATING", "active", "migrating", power);
  } else if (o.action?.action === "reboot" && isRunning(o.vmi)) {
    result =
      o.action.type === "HARD"
        ? state("HARD_REBOOT", "active", "reboot_started_hard", power)
        : state("REBOOT", "active", "reboot_started", power);
  } else {
    result = powerStateOf(o);
    if (o.action?.action === "createImage" && result.taskState === undefined) result = { ...result, taskState: "image_snapshot" };
  }
  return o.deleting ? { ...result, taskState: "deleting" } : result;
}

export interface RuntimeFaultInput {
  serverId: string;
  rootDisk: { phase: string | undefined; message: string | undefined } | undefined;
  /** VirtualMachine printableStatus. */
  printableStatus: string | undefined;
  /** The scheduler's message when the VMI cannot be placed. */
  unschedulable: string | undefined;
  vmiPhase: string | undefined;
}

/** A fault of a server that was built (or is being built): what KubeVirt/CDI report as broken. */
export function runtimeFault(i: RuntimeFaultInput): Fault | undefined {
  if (i.rootDisk?.phase === "Failed") {
    return {
      code: 500,
      message: `Build of instance ${i.serverId} aborted: its root disk could not be created: ${i.rootDisk.message ?? "the DataVolume failed"}`,
    };
  }
  if (i.unschedulable !== undefined || i.printableStatus === "ErrorUnschedulable") {
    return { code: 500, message: `No valid host was found. ${i.unschedulable ?? "There are not enough hosts available."}` };
  }
  if (i.printableStatus === "ErrorPvcNotFound") {
    return { code: 500, message: `Instance ${i.serverId}: a disk of the server does not exist` };
  }
  if (i.vmiPhase === "Failed") {
    return { code: 500, message: `Instance ${i.serverId} stopped unexpectedly (the virtual machine instance failed)` };
  }
  return undefined;
}

export interface ConditionVerdict {
  status: "True" | "False" | "Unknown";
  reason: string;
  message: string;
}

export interface ReadyInput {
  nova: NovaState;
  fault: (Fault & { reason?: string }) | undefined;
  /** Why the server is not built yet (e.g. "waiting for image cirros: importing"). */
  waiting: string | undefined;
  /** A spec change that cannot be carried out; the server keeps running as it is. */
  blocked: { reason: string; message: string } | undefined;
  host: string | undefined;
}

/** Ready: True for a settled server that matches its spec; False with what is going on otherwise. */
export function readyCondition(i: ReadyInput): ConditionVerdict {
  if (i.fault !== undefined) {
    return { status: "False", reason: i.fault.reason ?? Reason.ServerError, message: i.fault.message };
  }
  if (i.blocked !== undefined) return { status: "False", reason: i.blocked.reason, message: i.blocked.message };
  if (i.waiting !== undefined) return { status: "False", reason: Reason.DependencyNotReady, message: i.waiting };
  const { status, taskState } = i.nova;
  if (taskState !== undefined) {
    return { status: "False", reason: Reason.Progressing, message: `server is ${status} (${taskState})` };
  }
  if (status === "BUILD" || status === "RESIZE" || status === "REBUILD" || status === "MIGRATING" || status === "REVERT_RESIZE") {
    return { status: "False", reason: Reason.Progressing, message: `server is ${status}` };
  }
  if (status === "VERIFY_RESIZE") {
    return {
      status: "True",
      reason: Reason.Reconciled,
      message: "server is resized (VERIFY_RESIZE): create a confirmResize or revertResize ServerAction",
    };
  }
  const where = i.host === undefined ? "" : ` on ${i.host}`;
  return { status: "True", reason: Reason.Reconciled, message: `server is ${status}${where}` };
}

/** Whether the server's desired power is reached (used to decide when launchedAt is set). */
export function isSettledRunning(vmi: VmiObservation | undefined, desired: DesiredPowerState): boolean {
  const running = runningVmi(vmi);
  return running !== undefined && running.paused === wantsPaused(desired);
}
