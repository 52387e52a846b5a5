// Pure: a container's Zun status (Creating, Created, Running, Stopped, Restarting, Error, Deleting), its
// status_reason and its Ready condition, from the spec, what blocks it (networking, volumes) and its Pod.
import { ConditionType, Reason, type Port, type ZUN_STATUSES } from "../../api/index.js";
import type { NetworkingResolution } from "../port/instance-networking.js";
import { MAIN_CONTAINER, type PodObject } from "./desired.js";

export type ZunStatus = (typeof ZUN_STATUSES)[number];

export interface ReadyVerdict {
  status: "True" | "False";
  reason: string;
  message: string;
}

export interface ContainerVerdict {
  status: ZunStatus;
  /** Zun's status_reason: why it is in Error, or how it exited. */
  statusReason: string | undefined;
  ready: ReadyVerdict;
}

/** What keeps the Pod from being made: a fault the user must fix, or something still on its way. */
export type Blocker = { kind: "fault"; reason: string; message: string } | { kind: "waiting"; message: string };

export interface ContainerObservation {
  desiredState: "Running" | "Stopped";
  deleting: boolean;
  blocker: Blocker | undefined;
  /** The Pod as it is now; undefined when there is none. */
  pod: PodObject | undefined;
  /** The Pod is going away (being deleted, stopped, or replaced because the spec changed or a restart was asked). */
  podLeaving: boolean;
}

/** Container waiting reasons that will not resolve by themselves (the kubelet's names). */
const FAILING_WAITING_REASONS: ReadonlySet<string> = new Set([
  "ErrImagePull",
  "ImagePullBackOff",
  "ErrImageNeverPull",
  "InvalidImageName",
  "CreateContainerConfigError",
  "CreateContainerError",
  "RunContainerError",
  "CrashLoopBackOff",
]);

const ready = (message: string): ReadyVerdict => ({ status: "True", reason: Reason.Reconciled, message });
const progressing = (message: string): ReadyVerdict => ({ status: "False", reason: Reason.Progressing, message });
const failed = (reason: string, message: string): ContainerVerdict => ({ status: "Error", statusReason: message, ready: { status: "False", reason, message } });

function describeExit(terminated: { exitCode: number; reason?: string; message?: string }): string {
  const why = [terminated.reason, terminated.message].filter((s) => s !== undefined && s !== "").join(": ");
  return `exited with code ${terminated.exitCode}${why === "" ? "" : ` (${why})`}`;
}

export function containerVerdict(o: ContainerObservation): ContainerVerdict {
  const pod = o.pod;
  const podName = pod?.metadata.name ?? "";
  if (o.deleting) {
    return {
      status: "Deleting",
      statusReason: undefined,
      ready: progressing(pod === undefined ? "deleting" : `deleting: waiting for pod ${podName} to terminate`),
    };
  }
  if (o.desiredState === "Stopped") {
    return pod === undefined
      ? { status: "Stopped", statusReason: undefined, ready: ready("stopped, as spec.state asks") }
      : { status: "Stopped", statusReason: undefined, ready: progressing(`stopping: waiting for pod ${podName} to terminate`) };
  }
  if (pod === undefined) {
    if (o.blocker?.kind === "fault") return failed(o.blocker.reason, o.blocker.message);
    return { status: "Creating", statusReason: undefined, ready: progressing(o.blocker?.message ?? "creating the pod") };
  }
  if (o.podLeaving) {
    return { status: "Restarting", statusReason: undefined, ready: progressing(`restarting: replacing pod ${podName}`) };
  }

  const status = pod.status;
  const main = status?.containerStatuses?.find((c) => c.name === MAIN_CONTAINER);
  const waiting = main?.state?.waiting;
  const terminated = main?.state?.terminated;
  if (status?.phase === "Failed") {
    const why = terminated !== undefined ? describeExit(terminated) : [status.reason, status.message].filter((s) => s !== undefined && s !== "").join(": ");
    return failed(Reason.ContainerError, `the container failed: ${why === "" ? "the pod failed" : why}; raise spec.restartGeneration to run it again`);
  }
  if (status?.phase === "Succeeded") {
    const why = terminated === undefined ? "exited" : describeExit(terminated);
    return { status: "Stopped", statusReason: why, ready: ready(`the container ${why}`) };
  }
  if (status?.phase === "Unknown") {
    return failed(Reason.ContainerError, `the state of pod ${podName} is unknown: its node ${pod.spec?.nodeName ?? ""} is not reporting`);
  }
  if (waiting?.reason !== undefined && FAILING_WAITING_REASONS.has(waiting.reason)) {
    const detail = waiting.message === undefined || waiting.message === "" ? "" : `: ${waiting.message}`;
    const hint = waiting.reason === "CrashLoopBackOff" ? "the container keeps exiting" : `image ${main?.image ?? ""} cannot be run`;
    return failed(Reason.ContainerError, `${hint} (${waiting.reason}${detail})`);
  }
  const blocked = o.blocker === undefined ? undefined : { status: "False" as const, reason: o.blocker.kind === "fault" ? o.blocker.reason : Reason.Progressing, message: o.blocker.message };
  if (status?.phase === "Running" && main?.state?.running !== undefined) {
    return { status: "Running", statusReason: undefined, ready: blocked ?? ready(`running on ${pod.spec?.nodeName ?? "a node"}`) };
  }
  if (status?.phase === "Running") {
    return { status: "Running", statusReason: undefined, ready: blocked ?? progressing(terminated === undefined ? "the container is starting" : `the container ${describeExit(terminated)}; restarting it`) };
  }
  // Pending: waiting for a node, then for the sandbox (networks, volumes), then for the container.
  const nodeName = pod.spec?.nodeName;
  if (nodeName === undefined || nodeName === "") {
    const unschedulable = status?.conditions?.find((c) => c.type === "PodScheduled" && c.status === "False");
    const message = unschedulable?.message === undefined ? "waiting for a node" : `waiting for a node: ${unschedulable.message}`;
    return { status: "Creating", statusReason: undefined, ready: blocked ?? progressing(message) };
  }
  const sandboxReady = status?.conditions?.some((c) => c.type === "PodReadyToStartContainers" && c.status === "True") === true;
  if (!sandboxReady) {
    return { status: "Creating", statusReason: undefined, ready: blocked ?? progressing(`creating on ${nodeName}`) };
  }
  return { status: "Created", statusReason: undefined, ready: blocked ?? progressing(`created on ${nodeName}; starting`) };
}

/** One entry of spec.networks with the port behind it (undefined when there is none yet). */
export interface PortView {
  name: string;
  /** A `{portRef}` entry (the user's port) rather than one the container's network entry creates. */
  explicit: boolean;
  port: Port | undefined;
}

/**
 * What networking keeps the Pod from: nothing when ready. An unknown network or a missing explicit port is
 * a fault (Zun puts such a container in Error), named as the port reports it; anything else is waiting.
 */
export function networkingBlocker(resolution: NetworkingResolution, ports: readonly PortView[]): Blocker | undefined {
  if (resolution.state === "ready") return undefined;
  if (resolution.state === "failed") return { kind: "fault", reason: resolution.reason, message: resolution.message };
  for (const { name, explicit, port } of ports) {
    if (port === undefined) {
      if (explicit) return { kind: "fault", reason: Reason.DependencyNotFound, message: `port ${name} not found; create it or fix spec.networks` };
      continue;
    }
    const portReady = port.status?.conditions?.find((c) => c.type === ConditionType.Ready);
    if (portReady?.status === "False" && portReady.reason === Reason.DependencyNotFound && portReady.observedGeneration === port.metadata.generation) {
      return { kind: "fault", reason: Reason.DependencyNotFound, message: `port ${name}: ${portReady.message}` };
    }
  }
  return { kind: "waiting", message: resolution.message };
}
