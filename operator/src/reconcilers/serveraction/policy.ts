// Pure: when a ServerAction may start (Nova's instance-state checks, one action at a time per server, lock)
// and what its status says. Nova answers a disallowed action with 409 and a fixed message; the action
// fails with the same code and words, so the facade can hand them on unchanged.
import {
  Reason,
  type ActionPhase,
  type ServerAction,
  type ServerActionName,
  type ServerActionStatus,
  type ServerStatus,
} from "../../api/index.js";
import { conflictMessage } from "../server/operations.js";
import { compareRequests, requestedAtOf } from "./order.js";

/** Nova's allowed vm_states per action (nova/compute/api.py check_instance_state), narrowed to what KubeVirt can do. */
export const ALLOWED_VM_STATES: Record<ServerActionName, readonly string[]> = {
  // Nova also hard-reboots stopped/paused/suspended guests; KubeVirt resets only a running guest (start it with powerState).
  reboot: ["active"],
  resize: ["active", "stopped"],
  confirmResize: ["resized"],
  revertResize: ["resized"],
  rebuild: ["active", "stopped", "error"],
  migrate: ["active", "stopped"],
  // Nova also live-migrates paused guests; KubeVirt does not migrate a paused VMI.
  liveMigrate: ["active"],
  createImage: ["active", "stopped", "paused", "suspended"],
};

export interface ServerForAction {
  exists: boolean;
  deleting: boolean;
  uid: string;
  locked: boolean;
  admitted: boolean;
  status: ServerStatus | undefined;
}

export type StartDecision =
  | { kind: "start" }
  | { kind: "wait"; message: string }
  | { kind: "fail"; code: number; message: string };

/** Whether the action can start now; `ahead` are this server's unfinished actions created before it. */
export function startDecision(action: ServerAction, server: ServerForAction, ahead: readonly ServerAction[]): StartDecision {
  const name = action.spec.action;
  if (!server.exists || server.deleting) {
    return { kind: "fail", code: 404, message: `Instance ${action.spec.serverRef} could not be found.` };
  }
  const first = ahead[0];
  if (first !== undefined) {
    return { kind: "wait", message: `waiting for ServerAction ${first.metadata.name ?? ""} (${first.spec.action}) to finish` };
  }
  if (server.locked) return { kind: "fail", code: 409, message: `Instance ${server.uid} is locked` };
  const status = server.status;
  const vmState = status?.vmState ?? "building";
  if (status?.taskState !== undefined || status?.status === "BUILD") {
    // Nova refuses with 409 while a task runs; a declarative request waits for the server instead.
    return { kind: "wait", message: `waiting for the server: it is ${status?.status ?? "BUILD"} (${status?.taskState ?? "building"})` };
  }
  if (status?.currentAction !== undefined) {
    return { kind: "wait", message: `waiting for the server to finish ServerAction ${status.currentAction.name}` };
  }
  if (!server.admitted || !ALLOWED_VM_STATES[name].includes(vmState)) {
    return { kind: "fail", code: 409, message: conflictMessage(name, server.uid, vmState) };
  }
  if (name === "reboot" && status?.status !== "ACTIVE") {
    return { kind: "fail", code: 409, message: conflictMessage(name, server.uid, vmState) };
  }
  if (name === "rebuild" && status?.bootVolume !== undefined) {
    // Nova before 2.93: the image of a volume-backed server's root disk cannot be replaced.
    return {
      kind: "fail",
      code: 400,
      message: `Image ${action.spec.imageRef ?? ""} is unacceptable: Unable to rebuild with a different image for a volume-backed server.`,
    };
  }
  return { kind: "start" };
}

const READY: Record<ActionPhase, { status: "True" | "False"; reason: string }> = {
  Pending: { status: "False", reason: Reason.ActionPending },
  Running: { status: "False", reason: Reason.ActionRunning },
  Succeeded: { status: "True", reason: Reason.ActionSucceeded },
  Failed: { status: "False", reason: Reason.ActionFailed },
};

/** The Ready condition of an action in a phase (True once it succeeded: Argo CD/Flux read it as done). */
export function actionReady(phase: ActionPhase, message: string): { status: "True" | "False"; reason: string; message: string } {
  return { ...READY[phase], message };
}

export function isFinal(status: ServerActionStatus | undefined): boolean {
  return status?.phase === "Succeeded" || status?.phase === "Failed";
}

/** Nova's request id for an action, stable per action. */
export function requestIdOf(action: ServerAction): string {
  return `req-${action.metadata.uid ?? ""}`;
}

const orderOf = (action: ServerAction) => ({ requestedAt: requestedAtOf(action), name: action.metadata.name ?? "" });

/** Unfinished actions of the same server requested before `action` (and any already running), in order. */
export function actionsAhead(action: ServerAction, siblings: readonly ServerAction[]): ServerAction[] {
  const own = orderOf(action);
  return siblings
    .filter((s) => s.metadata.name !== own.name && !isFinal(s.status))
    .filter((s) => s.status?.phase === "Running" || compareRequests(orderOf(s), own) < 0)
    .sort((a, b) => compareRequests(orderOf(a), orderOf(b)));
}
