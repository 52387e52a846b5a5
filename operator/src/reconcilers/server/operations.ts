// Pure: the server's operations as a state machine over its status — resize (with Nova's VERIFY_RESIZE,
// confirm and revert), rebuild, and which ServerAction the server works on. Declarative changes
// (spec.flavorRef, spec.imageRef) and ServerActions end up in the same few status fields, so there is one
// way a resize or rebuild happens whichever world asked for it.
import {
  Reason,
  type ActionPhase,
  type FlavorSnapshot,
  type ImageSnapshot,
  type ResizeStage,
  type ServerActionName,
} from "../../api/index.js";
import { nextRootDiskName } from "./names.js";
import { resizeDelta, type QuotaExceeded, type Usage } from "./quota.js";
import { resizeFault, type ResolvedFault, type Resolution } from "./resolve.js";
import type { Fault } from "./status.js";
import { compareRequests } from "../serveraction/order.js";

export interface ActionView {
  name: string;
  action: ServerActionName;
  phase: ActionPhase | undefined;
  /** When it was requested, in ms (`requestedAtOf`). */
  requestedAt: number;
  flavorRef?: string | undefined;
  imageRef?: string | undefined;
}

export interface CurrentAction {
  name: string;
  action: string;
  result?: "Succeeded" | "Failed" | undefined;
  message?: string | undefined;
  code?: number | undefined;
}

export interface ResizeState {
  oldFlavor: FlavorSnapshot;
  stage: ResizeStage;
  confirmRequired: boolean;
}

export interface RebuildState {
  fromDisk: string;
  /** What to go back to if the new disk cannot be made. */
  fromImage: ImageSnapshot;
}

/** The status fields operations own. */
export interface OperationState {
  flavor: FlavorSnapshot;
  image: ImageSnapshot;
  rootDisk: string;
  resize: ResizeState | undefined;
  rebuild: RebuildState | undefined;
  currentAction: CurrentAction | undefined;
  /** A spec-driven rebuild that failed: not retried until spec.imageRef changes or a rebuild action asks. */
  rebuildFailure?: { imageRef: string; message: string } | undefined;
}

export interface DiskObservation {
  phase: string | undefined;
  failure: string | undefined;
  /** The running guest uses this disk. */
  inUse: boolean;
}

export interface OperationInput {
  vmName: string;
  serverId: string;
  spec: { flavorRef: string; imageRef: string | undefined };
  state: OperationState;
  /** The server's ServerActions. */
  actions: readonly ActionView[];
  /** The guest should be running (else a change applies without a restart). */
  wantsRunning: boolean;
  /** Nova's vm_state now, for conflict messages. */
  vmState: string;
  flavorFor(name: string): Resolution<FlavorSnapshot>;
  imageFor(ref: string): Resolution<ImageSnapshot>;
  /** Quota check for additional usage (resize upsizing). */
  quota(requested: Usage): QuotaExceeded | undefined;
  /** Whether the guest runs with this flavor (true when it should not run and no VMI is left). */
  flavorApplied(flavor: FlavorSnapshot): boolean;
  disk(name: string): DiskObservation;
  /** Boots from a Volume (its flavor's disk size does not apply, so a resize may lower it). */
  volumeBacked?: boolean;
}

export interface OperationResult {
  state: OperationState;
  /** A spec change that cannot be carried out now (the server keeps running as it is). */
  blocked: { reason: string; message: string } | undefined;
  /** Disks a finished or failed rebuild leaves behind. */
  deleteDisks: string[];
  /** The guest must restart to pick up the new flavor or root disk. */
  restartWanted: boolean;
}

const STATE_CHANGING: readonly ServerActionName[] = ["resize", "confirmResize", "revertResize", "rebuild"];

const FINAL: readonly (ActionPhase | undefined)[] = ["Succeeded", "Failed"];

/** Nova's conflict message for an action the server's state does not allow. */
export function conflictMessage(action: string, serverId: string, vmState: string): string {
  return `Cannot '${action}' instance ${serverId} while it is in vm_state ${vmState}`;
}

export function planOperations(input: OperationInput): OperationResult {
  let { flavor, image, rootDisk, resize, rebuild, currentAction, rebuildFailure } = input.state;
  let blocked: OperationResult["blocked"];
  const deleteDisks: string[] = [];

  const finish = (result: "Succeeded" | "Failed", message?: string, code?: number): void => {
    if (currentAction === undefined || currentAction.result !== undefined) return;
    currentAction = {
      ...currentAction,
      result,
      ...(message === undefined ? {} : { message }),
      ...(code === undefined ? {} : { code }),
    };
  };
  const fail = (f: ResolvedFault | Fault): void => {
    finish("Failed", f.message, f.code);
  };

  // 1. Which action the server works on: the current one until its ServerAction is final, then the
  // oldest running one (the ServerAction controller starts them one at a time).
  if (currentAction !== undefined) {
    const name = currentAction.name;
    const view = input.actions.find((a) => a.name === name);
    if (view === undefined || FINAL.includes(view.phase)) currentAction = undefined;
  }
  if (currentAction === undefined) {
    const next = input.actions.filter((a) => a.phase === "Running").sort(compareRequests)[0];
    if (next !== undefined) currentAction = { name: next.name, action: next.action };
  }
  const current = currentAction;
  const open = current?.result === undefined ? current : undefined;
  const currentView = open === undefined ? undefined : input.actions.find((a) => a.name === open.name);

  // 2. Progress of what is under way.
  if (resize !== undefined) {
    if ((resize.stage === "Resizing" || resize.stage === "Reverting") && input.flavorApplied(flavor)) {
      if (resize.stage === "Reverting") {
        resize = undefined;
        if (open?.action === "revertResize") finish("Succeeded", `reverted to flavor ${flavor.name}`);
      } else if (resize.confirmRequired) {
        resize = { ...resize, stage: "VerifyResize" };
        if (open?.action === "resize") finish("Succeeded", `resized to flavor ${flavor.name}; waiting for confirmResize or revertResize`);
      } else {
        resize = undefined;
      }
    } else if (resize.stage === "VerifyResize") {
      if (open?.action === "confirmResize" && input.spec.flavorRef === flavor.name) {
        resize = undefined;
        finish("Succeeded", `resize to flavor ${flavor.name} confirmed`);
      } else if (open?.action === "revertResize") {
        flavor = resize.oldFlavor;
        resize = { ...resize, stage: "Reverting" };
      }
    }
  }
  if (rebuild !== undefined) {
    const disk = input.disk(rootDisk);
    if (disk.phase === "Failed") {
      const message = `Rebuild of instance ${input.serverId} failed: its new root disk could not be created: ${disk.failure ?? "the DataVolume failed"}; the previous root disk is kept`;
      deleteDisks.push(rootDisk);
      rebuildFailure = { imageRef: image.ref, message };
      rootDisk = rebuild.fromDisk;
      image = rebuild.fromImage;
      rebuild = undefined;
      if (open?.action === "rebuild") fail({ code: 500, message });
    } else if (disk.phase === "Succeeded" && (disk.inUse || !input.wantsRunning)) {
      deleteDisks.push(rebuild.fromDisk);
      rebuild = undefined;
      rebuildFailure = undefined;
      if (open?.action === "rebuild") finish("Succeeded", `rebuilt from image ${image.ref}`);
    }
  }

  // 3. What the current action asks for.
  const stillOpen = currentAction?.result === undefined ? currentAction : undefined;
  if (stillOpen !== undefined && currentView !== undefined) {
    switch (currentView.action) {
      case "resize": {
        if (resize !== undefined) break; // a spec-driven resize finishes first
        const target = input.flavorFor(currentView.flavorRef ?? "");
        if (target.kind !== "ok") {
          fail(target.kind === "fault" ? target.fault : { code: 409, message: target.message });
          break;
        }
        const invalid = resizeFault(flavor, target.value, { volumeBacked: input.volumeBacked === true });
        const over = invalid === undefined ? input.quota(resizeDelta(flavor, target.value)) : undefined;
        if (invalid !== undefined) fail(invalid);
        else if (over !== undefined) fail({ code: 403, message: over.message });
        else {
          resize = { oldFlavor: flavor, stage: "Resizing", confirmRequired: true };
          flavor = target.value;
        }
        break;
      }
      case "confirmResize":
      case "revertResize":
        if (resize?.stage !== "VerifyResize" && !(currentView.action === "revertResize" && resize?.stage === "Reverting")) {
          fail({ code: 409, message: conflictMessage(currentView.action, input.serverId, input.vmState) });
        }
        break;
      case "rebuild": {
        if (rebuild !== undefined || resize !== undefined) break; // the rebuild under way is this one; or wait
        if (currentView.imageRef !== undefined && input.spec.imageRef !== currentView.imageRef) break; // spec update on its way
        const ref = input.spec.imageRef ?? image.ref;
        const target = input.imageFor(ref);
        if (target.kind === "fault") fail(target.fault);
        else if (target.kind === "ok") {
          rebuild = { fromDisk: rootDisk, fromImage: image };
          image = target.value;
          rootDisk = nextRootDiskName(input.vmName, rootDisk);
          rebuildFailure = undefined;
        }
        break;
      }
      default:
        // reboot, migrations and snapshots are carried out by the ServerAction controller.
        break;
    }
  }

  // 4. Declarative changes, when no action is under way and none that changes state is queued.
  const queued = input.actions.some((a) => !FINAL.includes(a.phase) && STATE_CHANGING.includes(a.action));
  if (currentAction?.result === undefined && currentAction !== undefined) {
    // an action is under way: spec changes wait
  } else if (!queued && resize === undefined && rebuild === undefined) {
    if (input.spec.flavorRef !== flavor.name) {
      const target = input.flavorFor(input.spec.flavorRef);
      if (target.kind === "ok") {
        const invalid = resizeFault(flavor, target.value, { volumeBacked: input.volumeBacked === true });
        const over = invalid === undefined ? input.quota(resizeDelta(flavor, target.value)) : undefined;
        if (invalid !== undefined) {
          blocked = { reason: invalid.reason, message: `cannot resize to ${input.spec.flavorRef}: ${invalid.message}` };
        } else if (over !== undefined) {
          blocked = { reason: Reason.QuotaExceeded, message: `cannot resize to ${input.spec.flavorRef}: ${over.message}` };
        } else {
          resize = { oldFlavor: flavor, stage: "Resizing", confirmRequired: false };
          flavor = target.value;
        }
      } else {
        const why = target.kind === "fault" ? target.fault.message : target.message;
        blocked = {
          reason: target.kind === "fault" ? target.fault.reason : Reason.DependencyNotReady,
          message: `${why} The server keeps running on flavor ${flavor.name} (${flavor.vcpus} vCPU, ${flavor.ram} MiB RAM, ${flavor.disk} GiB disk).`,
        };
      }
    } else if (input.spec.imageRef !== undefined && input.spec.imageRef !== image.ref) {
      const target = input.imageFor(input.spec.imageRef);
      if (rebuildFailure?.imageRef === input.spec.imageRef) {
        blocked = { reason: Reason.ReconcileError, message: `${rebuildFailure.message}; create a rebuild ServerAction to try again` };
      } else if (target.kind === "ok") {
        rebuild = { fromDisk: rootDisk, fromImage: image };
        image = target.value;
        rootDisk = nextRootDiskName(input.vmName, rootDisk);
      } else {
        blocked = {
          reason: target.kind === "fault" ? target.fault.reason : Reason.DependencyNotReady,
          message: `cannot rebuild from ${input.spec.imageRef}: ${target.kind === "fault" ? target.fault.message : target.message}`,
        };
      }
    }
  } else if (resize?.stage === "VerifyResize" && input.spec.flavorRef !== flavor.name && input.spec.flavorRef !== resize.oldFlavor.name) {
    blocked = {
      reason: Reason.Progressing,
      message: `flavor ${input.spec.flavorRef} waits: the resize to ${flavor.name} needs confirmResize or revertResize first`,
    };
  }

  const restartWanted =
    input.wantsRunning &&
    ((resize !== undefined && resize.stage !== "VerifyResize" && !input.flavorApplied(flavor)) ||
      (rebuild !== undefined && input.disk(rootDisk).phase === "Succeeded" && !input.disk(rootDisk).inUse));

  return {
    state: { flavor, image, rootDisk, resize, rebuild, currentAction, rebuildFailure },
    blocked,
    deleteDisks,
    restartWanted,
  };
}
