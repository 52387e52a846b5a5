import { describe, expect, it } from "vitest";
import { API_VERSION, type Container } from "../../api/index.js";
import { MULTUS_NETWORKS_ANNOTATION } from "../port/instance-networking.js";
import { ContainerAnnotation, ContainerLabel, cpuQuantity, desiredPod, podIsCurrent, podNameOf, podRestartPolicy } from "./desired.js";

function container(spec: Partial<Container["spec"]> = {}, name = "web"): Container {
  return {
    apiVersion: API_VERSION,
    kind: "Container",
    metadata: { name, namespace: "project-demo", uid: "c-uid", generation: 1 },
    spec: { image: "nginx:1.27", ...spec },
  };
}

const base = { networksAnnotation: undefined, securityLabels: {}, mounts: [] };

describe("podRestartPolicy", () => {
  it.each([
    [undefined, "Never"],
    ["no", "Never"],
    ["on-failure", "OnFailure"],
    ["always", "Always"],
    ["unless-stopped", "Always"],
  ] as const)("Zun %s → %s", (zun, pod) => {
    expect(podRestartPolicy(zun)).toBe(pod);
  });
});

describe("cpuQuantity", () => {
  it.each([
    [1, "1"],
    [2, "2"],
    [0.5, "500m"],
    [1.25, "1250m"],
    [0.001, "1m"],
    [0.0004, "1m"],
  ])("%s vCPU → %s", (cpu, quantity) => {
    expect(cpuQuantity(cpu)).toBe(quantity);
  });
});

describe("podNameOf", () => {
  it("keeps a DNS label and hashes what is not one", () => {
    expect(podNameOf("web")).toBe("web");
    const long = podNameOf("a.b.c");
    expect(long).toMatch(/^a-b-c-[0-9a-f]{10}$/);
    expect(podNameOf("x".repeat(100)).length).toBeLessThanOrEqual(63);
  });
});

describe("desiredPod", () => {
  it("maps the Zun spec onto the Pod's single container", () => {
    const pod = desiredPod({
      ...base,
      container: container({
        command: ["/bin/sh", "-c"],
        args: ["sleep infinity"],
        env: { B: "2", A: "1" },
        workdir: "/srv",
        cpu: 0.5,
        memory: 256,
        restartPolicy: "on-failure",
      }),
    });
    expect(pod.metadata).toMatchObject({ name: "web", namespace: "project-demo" });
    expect(pod.spec?.restartPolicy).toBe("OnFailure");
    expect(pod.spec?.automountServiceAccountToken).toBe(false);
    expect(pod.spec?.enableServiceLinks).toBe(false);
    expect(pod.spec?.terminationGracePeriodSeconds).toBe(10);
    expect(pod.spec?.containers).toEqual([
      {
        name: "main",
        image: "nginx:1.27",
        command: ["/bin/sh", "-c"],
        args: ["sleep infinity"],
        env: [
          { name: "A", value: "1" },
          { name: "B", value: "2" },
        ],
        workingDir: "/srv",
        resources: { requests: { cpu: "500m", memory: "256Mi" }, limits: { cpu: "500m", memory: "256Mi" } },
        securityContext: { privileged: false, allowPrivilegeEscalation: false, seccompProfile: { type: "RuntimeDefault" } },
      },
    ]);
    expect(pod.spec?.volumes).toBeUndefined();
  });

  it("leaves out what the spec does not set", () => {
    const [main] = desiredPod({ ...base, container: container() }).spec?.containers ?? [];
    expect(Object.keys(main ?? {}).sort()).toEqual(["image", "name", "securityContext"]);
  });

  it("labels the Pod for management, the project, the container and its security groups; the user's labels cannot override ours", () => {
    const pod = desiredPod({
      ...base,
      container: container({ labels: { app: "web", "altostack.io/sg-default": "false", "app.kubernetes.io/managed-by": "me" } }),
      securityLabels: { "altostack.io/sg-default": "true", "altostack.io/port-security": "enabled" },
    });
    expect(pod.metadata.labels).toEqual({
      app: "web",
      "altostack.io/sg-default": "true",
      "altostack.io/port-security": "enabled",
      "app.kubernetes.io/managed-by": "altostack",
      "altostack.io/project": "demo",
      [ContainerLabel.container]: "web",
    });
  });

  it("carries the Multus annotation as given and mounts each volume's claim", () => {
    const networks = JSON.stringify([{ name: "net", namespace: "project-demo", ips: ["10.0.0.5/24"], mac: "fa:16:3e:00:00:01", interface: "net1" }]);
    const pod = desiredPod({
      ...base,
      container: container(),
      networksAnnotation: networks,
      mounts: [
        { volumeRef: "data", claimName: "data.volume", mountPath: "/data" },
        { volumeRef: "logs", claimName: "logs.volume", mountPath: "/var/log/app" },
      ],
    });
    expect(pod.metadata.annotations?.[MULTUS_NETWORKS_ANNOTATION]).toBe(networks);
    expect(pod.spec?.volumes).toEqual([
      { name: "vol-0", persistentVolumeClaim: { claimName: "data.volume" } },
      { name: "vol-1", persistentVolumeClaim: { claimName: "logs.volume" } },
    ]);
    expect(pod.spec?.containers[0]?.volumeMounts).toEqual([
      { name: "vol-0", mountPath: "/data" },
      { name: "vol-1", mountPath: "/var/log/app" },
    ]);
  });
});

describe("podIsCurrent", () => {
  const current = desiredPod({ ...base, container: container({ env: { A: "1" } }) });
  it.each([
    ["the same spec", container({ env: { A: "1" } }), {}, true],
    ["only labels changed (applied in place)", container({ env: { A: "1" }, labels: { tier: "web" } }), { securityLabels: { "altostack.io/sg-web": "true" } }, true],
    ["another image", container({ env: { A: "1" }, image: "nginx:1.28" }), {}, false],
    ["another environment", container({ env: { A: "2" } }), {}, false],
    ["a raised restartGeneration", container({ env: { A: "1" }, restartGeneration: 1 }), {}, false],
    ["other networks", container({ env: { A: "1" } }), { networksAnnotation: "[]" }, false],
  ] as const)("%s → current %s", (_what, next, extra, expected) => {
    const desired = desiredPod({ ...base, ...extra, container: next });
    expect(podIsCurrent(current, desired)).toBe(expected);
  });

  it("records the restart generation on the Pod", () => {
    expect(desiredPod({ ...base, container: container({ restartGeneration: 3 }) }).metadata.annotations?.[ContainerAnnotation.restartGeneration]).toBe("3");
  });
});
