import { describe, expect, it } from "vitest";
import { API_VERSION, type Port } from "../../api/index.js";
import type { NetworkingResolution } from "../port/instance-networking.js";
import type { PodObject } from "./desired.js";
import { containerVerdict, networkingBlocker, type ContainerObservation } from "./status.js";

type PodStatus = NonNullable<PodObject["status"]>;
type MainState = NonNullable<NonNullable<PodStatus["containerStatuses"]>[number]["state"]>;

function pod(opts: { phase?: string; node?: string; sandbox?: boolean; state?: MainState; conditions?: PodStatus["conditions"]; reason?: string; message?: string } = {}): PodObject {
  const conditions = [...(opts.conditions ?? [])];
  if (opts.sandbox !== undefined) conditions.push({ type: "PodReadyToStartContainers", status: opts.sandbox ? "True" : "False" });
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name: "web", namespace: "project-demo" },
    spec: { containers: [{ name: "main", image: "nginx" }], ...(opts.node === undefined ? {} : { nodeName: opts.node }) },
    status: {
      ...(opts.phase === undefined ? {} : { phase: opts.phase }),
      conditions,
      ...(opts.reason === undefined ? {} : { reason: opts.reason }),
      ...(opts.message === undefined ? {} : { message: opts.message }),
      ...(opts.state === undefined ? {} : { containerStatuses: [{ name: "main", image: "nginx", imageID: "", ready: false, restartCount: 0, state: opts.state }] }),
    },
  };
}

const observe = (o: Partial<ContainerObservation>): ContainerObservation => ({
  desiredState: "Running",
  deleting: false,
  blocker: undefined,
  pod: undefined,
  podLeaving: false,
  ...o,
});

describe("containerVerdict", () => {
  it.each<[string, Partial<ContainerObservation>, string, string, RegExp]>([
    ["deleting with its pod", { deleting: true, pod: pod({ phase: "Running" }) }, "Deleting", "False", /waiting for pod web to terminate/],
    ["stopped and pod gone", { desiredState: "Stopped" }, "Stopped", "True", /stopped, as spec.state asks/],
    ["stopping", { desiredState: "Stopped", pod: pod({ phase: "Running" }), podLeaving: true }, "Stopped", "False", /stopping: waiting for pod web/],
    ["no pod, waiting for its port", { blocker: { kind: "waiting", message: "creating port web-net" } }, "Creating", "False", /creating port web-net/],
    ["no pod, unknown network", { blocker: { kind: "fault", reason: "DependencyNotFound", message: "port web-nope: network nope not found" } }, "Error", "False", /network nope not found/],
    ["no pod yet", {}, "Creating", "False", /creating the pod/],
    ["pod being replaced", { pod: pod({ phase: "Running", node: "n1" }), podLeaving: true }, "Restarting", "False", /replacing pod web/],
    ["unscheduled", { pod: pod({ phase: "Pending", conditions: [{ type: "PodScheduled", status: "False", message: "0/3 nodes are available" }] }) }, "Creating", "False", /waiting for a node: 0\/3 nodes/],
    ["on a node, sandbox coming up", { pod: pod({ phase: "Pending", node: "n1", sandbox: false, state: { waiting: { reason: "ContainerCreating" } } }) }, "Creating", "False", /creating on n1/],
    ["sandbox up, container not started", { pod: pod({ phase: "Pending", node: "n1", sandbox: true, state: { waiting: { reason: "ContainerCreating" } } }) }, "Created", "False", /created on n1/],
    ["running", { pod: pod({ phase: "Running", node: "n1", sandbox: true, state: { running: { startedAt: "2026-01-01T00:00:00Z" } } }) }, "Running", "True", /running on n1/],
    [
      "running while a new input waits (kept as it is)",
      { blocker: { kind: "waiting", message: "volume data is creating" }, pod: pod({ phase: "Running", node: "n1", state: { running: {} } }) },
      "Running",
      "False",
      /volume data is creating/,
    ],
    [
      "image cannot be pulled",
      { pod: pod({ phase: "Pending", node: "n1", sandbox: true, state: { waiting: { reason: "ImagePullBackOff", message: "Back-off pulling image \"nope\"" } } }) },
      "Error",
      "False",
      /cannot be run \(ImagePullBackOff: Back-off pulling image "nope"\)/,
    ],
    ["crash loop", { pod: pod({ phase: "Running", node: "n1", state: { waiting: { reason: "CrashLoopBackOff" } } }) }, "Error", "False", /keeps exiting \(CrashLoopBackOff\)/],
    ["exited 0", { pod: pod({ phase: "Succeeded", node: "n1", state: { terminated: { exitCode: 0, reason: "Completed" } } }) }, "Stopped", "True", /exited with code 0 \(Completed\)/],
    ["exited 2", { pod: pod({ phase: "Failed", node: "n1", state: { terminated: { exitCode: 2, reason: "Error" } } }) }, "Error", "False", /exited with code 2 \(Error\)/],
    ["evicted", { pod: pod({ phase: "Failed", node: "n1", reason: "Evicted", message: "low on memory" }) }, "Error", "False", /Evicted: low on memory/],
    ["node lost", { pod: pod({ phase: "Unknown", node: "n1" }) }, "Error", "False", /node n1 is not reporting/],
  ])("%s → %s, Ready %s", (_what, o, status, readyStatus, message) => {
    const verdict = containerVerdict(observe(o));
    expect(verdict.status).toBe(status);
    expect(verdict.ready.status).toBe(readyStatus);
    expect(verdict.ready.message).toMatch(message);
    if (status === "Error") expect(verdict.statusReason).toBe(verdict.ready.message);
  });

  it("uses the fault's reason for Error and ContainerError for a failing pod", () => {
    expect(containerVerdict(observe({ blocker: { kind: "fault", reason: "PortInUse", message: "x" } })).ready.reason).toBe("PortInUse");
    expect(containerVerdict(observe({ pod: pod({ phase: "Failed" }) })).ready.reason).toBe("ContainerError");
  });
});

function port(name: string, ready?: { status: string; reason: string; message: string }, generation = 1): Port {
  return {
    apiVersion: API_VERSION,
    kind: "Port",
    metadata: { name, namespace: "project-demo", generation },
    spec: { networkRef: "net" },
    ...(ready === undefined ? {} : { status: { conditions: [{ type: "Ready", ...ready, observedGeneration: 1, lastTransitionTime: "2026-01-01T00:00:00Z" }] } }),
  } as Port;
}

describe("networkingBlocker", () => {
  const pending: NetworkingResolution = { state: "pending", message: "waiting for port web-net" };
  const notFound = { status: "False", reason: "DependencyNotFound", message: "network nope not found; create it (or use a shared network) first" };
  it.each<[string, NetworkingResolution, Parameters<typeof networkingBlocker>[1], ReturnType<typeof networkingBlocker>]>([
    ["ready", { state: "ready", networking: undefined, addresses: {}, networksSummary: "", ports: [], attachments: [] }, [], undefined],
    ["failed", { state: "failed", reason: "PortInUse", message: "port p is bound elsewhere" }, [], { kind: "fault", reason: "PortInUse", message: "port p is bound elsewhere" }],
    ["auto port not created yet", pending, [{ name: "web-net", explicit: false, port: undefined }], { kind: "waiting", message: "waiting for port web-net" }],
    ["explicit port missing", pending, [{ name: "mine", explicit: true, port: undefined }], { kind: "fault", reason: "DependencyNotFound", message: "port mine not found; create it or fix spec.networks" }],
    ["network unknown", pending, [{ name: "web-nope", explicit: false, port: port("web-nope", notFound) }], { kind: "fault", reason: "DependencyNotFound", message: `port web-nope: ${notFound.message}` }],
    ["port verdict for an older generation", pending, [{ name: "web-nope", explicit: false, port: port("web-nope", notFound, 2) }], { kind: "waiting", message: "waiting for port web-net" }],
    ["port still allocating", pending, [{ name: "web-net", explicit: false, port: port("web-net", { status: "False", reason: "Progressing", message: "allocating" }) }], { kind: "waiting", message: "waiting for port web-net" }],
  ])("%s", (_what, resolution, ports, expected) => {
    expect(networkingBlocker(resolution, ports)).toEqual(expected);
  });
});
