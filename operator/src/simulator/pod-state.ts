// What a kubelet reports for a pod, pure: containers being created (sandbox not up yet, e.g. a missing
// NetworkAttachmentDefinition) or running and ready, or (failure injection) an image that cannot be pulled;
// no probes, no restarts, no exits.
import { formatTime } from "../kube/index.js";
import { stableId } from "./addresses.js";
import type { Pod } from "./types.js";
import { toConditions, type ConditionVerdict } from "./upstream-conditions.js";

export type PodStatus = NonNullable<Pod["status"]>;
type ContainerStatus = NonNullable<PodStatus["containerStatuses"]>[number];

export interface KubeletView {
  hostIp: string;
  podIp: string | undefined;
  now: number;
  /** Running and ready; otherwise containers are still being created. */
  running: boolean;
  /** Failure injection: images from a registry host ending in `.invalid` are never pulled (ImagePullBackOff). */
  imagePullFailures?: boolean;
}

/** The kubelet's pull error for an image whose registry host ends in `.invalid`, as a DNS failure reads. */
export function imagePullFailure(image: string): string | undefined {
  const [first = "", ...rest] = image.split("/");
  const isRegistry = rest.length > 0 && (first.includes(".") || first.includes(":") || first === "localhost");
  const host = first.split(":")[0] ?? "";
  if (!isRegistry || !host.endsWith(".invalid")) return undefined;
  return `Back-off pulling image "${image}": ErrImagePull: failed to resolve reference "${image}": dial tcp: lookup ${host}: no such host`;
}

function containerStatus(
  pod: Pod,
  container: { name: string; image?: string },
  state: "running" | "waiting" | "completed" | "pull-failed",
  startedAt: string,
): ContainerStatus {
  const image = container.image ?? "";
  const id = stableId(`${pod.metadata.uid ?? ""}/${container.name}`, 64);
  const base = {
    name: container.name,
    image,
    imageID: image === "" ? "" : `${image.split("@")[0] ?? image}@sha256:${stableId(image, 64)}`,
    restartCount: 0,
  };
  if (state === "waiting") {
    return { ...base, ready: false, started: false, state: { waiting: { reason: "ContainerCreating" } } };
  }
  if (state === "pull-failed") {
    return { ...base, ready: false, started: false, state: { waiting: { reason: "ImagePullBackOff", message: imagePullFailure(image) ?? "" } } };
  }
  if (state === "completed") {
    return {
      ...base,
      containerID: `containerd://${id}`,
      ready: true,
      started: false,
      state: { terminated: { exitCode: 0, reason: "Completed", startedAt, finishedAt: startedAt, containerID: `containerd://${id}` } },
    };
  }
  return { ...base, containerID: `containerd://${id}`, ready: true, started: true, state: { running: { startedAt } } };
}

export function podStatus(pod: Pod, view: KubeletView): PodStatus {
  const previous = pod.status;
  const startTime = previous?.startTime ?? formatTime(view.now);
  const containers = pod.spec?.containers ?? [];
  const initContainers = pod.spec?.initContainers ?? [];
  const names = containers.map((c) => c.name);
  const pullFails = (c: { image?: string }): boolean => view.imagePullFailures === true && imagePullFailure(c.image ?? "") !== undefined;
  const pullFailed = view.running && containers.some(pullFails);
  const verdicts: ConditionVerdict[] = pullFailed
    ? [
        { type: "PodReadyToStartContainers", status: "True" },
        { type: "Initialized", status: "True" },
        { type: "Ready", status: "False", reason: "ContainersNotReady", message: `containers with unready status: [${containers.filter(pullFails).map((c) => c.name).join(" ")}]` },
        { type: "ContainersReady", status: "False", reason: "ContainersNotReady", message: `containers with unready status: [${containers.filter(pullFails).map((c) => c.name).join(" ")}]` },
        { type: "PodScheduled", status: "True" },
      ]
    : view.running
    ? [
        { type: "PodReadyToStartContainers", status: "True" },
        { type: "Initialized", status: "True" },
        { type: "Ready", status: "True" },
        { type: "ContainersReady", status: "True" },
        { type: "PodScheduled", status: "True" },
      ]
    : [
        { type: "PodReadyToStartContainers", status: "False" },
        {
          type: "Initialized",
          status: initContainers.length === 0 ? "True" : "False",
          ...(initContainers.length === 0
            ? {}
            : { reason: "ContainersNotInitialized", message: `containers with incomplete status: [${initContainers.map((c) => c.name).join(" ")}]` }),
        },
        { type: "Ready", status: "False", reason: "ContainersNotReady", message: `containers with unready status: [${names.join(" ")}]` },
        { type: "ContainersReady", status: "False", reason: "ContainersNotReady", message: `containers with unready status: [${names.join(" ")}]` },
        { type: "PodScheduled", status: "True" },
      ];
  const conditions = toConditions(previous?.conditions, verdicts, view.now, "probe");
  const startedAt = previous?.containerStatuses?.[0]?.state?.running?.startedAt ?? formatTime(view.now);
  const status: PodStatus = {
    phase: view.running && !pullFailed ? "Running" : "Pending",
    conditions: conditions.map((c) => ({
      type: c.type,
      status: c.status,
      ...(c.reason === undefined ? {} : { reason: c.reason }),
      ...(c.message === undefined ? {} : { message: c.message }),
      lastProbeTime: undefined,
      lastTransitionTime: c.lastTransitionTime ?? undefined,
    })),
    hostIP: view.hostIp,
    hostIPs: [{ ip: view.hostIp }],
    startTime,
    containerStatuses: containers.map((c) => containerStatus(pod, c, pullFails(c) && view.running ? "pull-failed" : view.running ? "running" : "waiting", startedAt)),
  };
  if (initContainers.length > 0) {
    status.initContainerStatuses = initContainers.map((c) =>
      containerStatus(pod, c, view.running ? (c.restartPolicy === "Always" ? "running" : "completed") : "waiting", startedAt),
    );
  }
  if (view.running && view.podIp !== undefined) {
    status.podIP = view.podIp;
    status.podIPs = [{ ip: view.podIp }];
  }
  return status;
}

/** The PodScheduled condition kube-scheduler writes when no node fits. */
export function unschedulableStatus(pod: Pod, message: string, now: number): PodStatus {
  const [condition] = toConditions(
    pod.status?.conditions,
    [{ type: "PodScheduled", status: "False", reason: "Unschedulable", message }],
    now,
    "probe",
  );
  return {
    phase: "Pending",
    conditions:
      condition === undefined
        ? []
        : [{ type: condition.type, status: condition.status, reason: condition.reason, message: condition.message, lastTransitionTime: condition.lastTransitionTime ?? undefined }],
  };
}
