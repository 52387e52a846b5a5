import { describe, expect, it } from "vitest";
import { T0 } from "./fixtures.js";
import { imagePullFailure, podStatus, unschedulableStatus } from "./pod-state.js";
import type { Pod } from "./types.js";

const pod: Pod = {
  metadata: { name: "web", namespace: "tenant", uid: "pod-uid" },
  spec: {
    nodeName: "sim-node-1",
    initContainers: [{ name: "init", image: "busybox:1" }],
    containers: [
      { name: "app", image: "registry.example.org/app:1" },
      { name: "side", image: "registry.example.org/side:1" },
    ],
  },
  status: { phase: "Pending", conditions: [{ type: "PodScheduled", status: "True", lastTransitionTime: "2025-12-31T23:59:59Z" }] },
};

describe("podStatus", () => {
  it("reports a running, ready pod with its IPs and container states", () => {
    const status = podStatus(pod, { hostIp: "172.18.0.10", podIp: "10.244.0.5", now: T0, running: true });
    expect(status).toMatchObject({
      phase: "Running",
      hostIP: "172.18.0.10",
      hostIPs: [{ ip: "172.18.0.10" }],
      podIP: "10.244.0.5",
      podIPs: [{ ip: "10.244.0.5" }],
      startTime: "2026-01-01T00:00:00Z",
    });
    expect(status.conditions?.map((c) => `${c.type}=${c.status}`)).toEqual([
      "PodReadyToStartContainers=True",
      "Initialized=True",
      "Ready=True",
      "ContainersReady=True",
      "PodScheduled=True",
    ]);
    // The binding's PodScheduled transition time is kept.
    expect(status.conditions?.find((c) => c.type === "PodScheduled")?.lastTransitionTime).toBe("2025-12-31T23:59:59Z");
    expect(status.containerStatuses?.map((c) => [c.name, c.ready, c.state?.running?.startedAt])).toEqual([
      ["app", true, "2026-01-01T00:00:00Z"],
      ["side", true, "2026-01-01T00:00:00Z"],
    ]);
    expect(status.containerStatuses?.[0]?.containerID).toMatch(/^containerd:\/\/[0-9a-f]{64}$/);
    expect(status.initContainerStatuses?.[0]?.state?.terminated).toMatchObject({ exitCode: 0, reason: "Completed" });
  });

  it("reports containers being created while the sandbox is not up", () => {
    const status = podStatus(pod, { hostIp: "172.18.0.10", podIp: undefined, now: T0, running: false });
    expect(status.phase).toBe("Pending");
    expect(status.podIP).toBeUndefined();
    expect(status.containerStatuses?.map((c) => c.state?.waiting?.reason)).toEqual(["ContainerCreating", "ContainerCreating"]);
    expect(status.conditions?.find((c) => c.type === "Ready")).toMatchObject({ status: "False", message: "containers with unready status: [app side]" });
  });

  it("never pulls an image from a registry host ending in .invalid, when failures are injected", () => {
    const failing: Pod = { ...pod, spec: { ...pod.spec, containers: [{ name: "app", image: "registry.invalid/app:1" }, { name: "side", image: "registry.example.org/side:1" }] } };
    const status = podStatus(failing, { hostIp: "172.18.0.10", podIp: "10.244.0.5", now: T0, running: true, imagePullFailures: true });
    expect(status.phase).toBe("Pending");
    expect(status.podIP).toBe("10.244.0.5");
    expect(status.conditions?.find((c) => c.type === "PodReadyToStartContainers")?.status).toBe("True");
    expect(status.conditions?.find((c) => c.type === "Ready")).toMatchObject({ status: "False", message: "containers with unready status: [app]" });
    expect(status.containerStatuses?.map((c) => c.state?.waiting?.reason ?? "running")).toEqual(["ImagePullBackOff", "running"]);
    expect(status.containerStatuses?.[0]?.state?.waiting?.message).toContain("lookup registry.invalid: no such host");
    // Without injection the same pod runs.
    expect(podStatus(failing, { hostIp: "172.18.0.10", podIp: "10.244.0.5", now: T0, running: true }).phase).toBe("Running");
  });

  it.each([
    ["registry.invalid/app:1", true],
    ["registry.invalid:5000/team/app@sha256:abc", true],
    ["docker.io/library/nginx:1.27", false],
    ["nginx.invalid", false],
    ["team.invalid/app", true],
  ])("imagePullFailure(%s) → %s", (image, fails) => {
    expect(imagePullFailure(image) !== undefined).toBe(fails);
  });

  it("says why a pod cannot be scheduled", () => {
    expect(unschedulableStatus({ metadata: { name: "x" } }, "0/2 nodes are available", T0)).toEqual({
      phase: "Pending",
      conditions: [{ type: "PodScheduled", status: "False", reason: "Unschedulable", message: "0/2 nodes are available", lastTransitionTime: "2026-01-01T00:00:00Z" }],
    });
  });
});
