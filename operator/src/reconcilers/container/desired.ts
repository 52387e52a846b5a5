// Pure: a Container → its Pod. The Pod carries the image, command, environment and resources of the spec,
// the Multus annotation with its ports' addresses and MACs (port/instance-networking.ts), the claims of its
// volumes, and the labels security groups select on. Pods are immutable in most fields: the hash of what
// cannot change in place (spec, networks, restart generation) is kept on the Pod, and a different hash
// means the Pod is replaced.
import { createHash } from "node:crypto";
import type { V1PodSpec, V1PodStatus } from "@kubernetes/client-node";
import { LABELS, MANAGED_BY, projectOfNamespace, type Container } from "../../api/index.js";
import type { KubeObject } from "../../kube/index.js";
// Type-only: client-node's model classes in their JSON shape (the mapping lives with the simulator's types).
import type { Wire } from "../../simulator/types.js";
import { MULTUS_NETWORKS_ANNOTATION } from "../port/instance-networking.js";
import { boundedLabel, labelValue } from "../server/names.js";

/** A Pod as this reconciler reads and writes it. */
export interface PodObject extends KubeObject {
  spec?: Wire<V1PodSpec>;
  status?: Wire<V1PodStatus>;
}

/** On every container's Pod: the container's name (bounded to a label value). Pod caches select on it. */
export const ContainerLabel = { container: "altostack.io/container" } as const;
export const CONTAINER_POD_SELECTOR = ContainerLabel.container;

export const ContainerAnnotation = {
  /** Hash of everything a Pod cannot change in place; a Pod with another hash is replaced. */
  podHash: "altostack.io/pod-hash",
  /** The spec.restartGeneration the Pod was created for (for people reading the Pod). */
  restartGeneration: "altostack.io/restart-generation",
} as const;

/** The name of the Pod's only container (Zun containers are single-process). */
export const MAIN_CONTAINER = "main";

/** Zun's stop timeout: SIGTERM, then SIGKILL after this long. */
export const STOP_TIMEOUT_SECONDS = 10;

/** The Pod of a container: its name when it is a DNS label (as a hostname must be), else a hashed form. */
export function podNameOf(containerName: string): string {
  return boundedLabel(containerName);
}

/** Zun's restart policy → the Pod's. Zun's default is `no`. */
export function podRestartPolicy(policy: Container["spec"]["restartPolicy"]): "Never" | "OnFailure" | "Always" {
  switch (policy) {
    case "on-failure":
      return "OnFailure";
    case "always":
    case "unless-stopped":
      return "Always";
    case "no":
    case undefined:
      return "Never";
  }
}

/** vCPUs (may be fractional) as a CPU quantity in millicores: 0.5 → `500m`, 2 → `2`. */
export function cpuQuantity(cpu: number): string {
  const milli = Math.max(1, Math.round(cpu * 1000));
  return milli % 1000 === 0 ? String(milli / 1000) : `${milli}m`;
}

/** A volume ready to mount: its claim and where it goes. */
export interface ContainerMount {
  volumeRef: string;
  claimName: string;
  mountPath: string;
}

export interface DesiredPodInput {
  container: Container;
  /** The Multus annotation for the container's ports; undefined when it has no networks. */
  networksAnnotation: string | undefined;
  /** Labels its ports' security groups select on (securitygroup/labels.ts). */
  securityLabels: Record<string, string>;
  mounts: readonly ContainerMount[];
}

/** The name of the Pod volume holding a mount (Pod volume names are DNS labels). */
export const podVolumeName = (index: number): string => `vol-${index}`;

export function desiredPod(input: DesiredPodInput): PodObject {
  const { container } = input;
  const spec = container.spec;
  const namespace = container.metadata.namespace ?? "";
  const project = projectOfNamespace(namespace);
  const resources: Record<string, string> = {};
  if (spec.cpu !== undefined) resources.cpu = cpuQuantity(spec.cpu);
  if (spec.memory !== undefined) resources.memory = `${spec.memory}Mi`;
  const hasResources = Object.keys(resources).length > 0;
  const env = Object.entries(spec.env ?? {})
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([name, value]) => ({ name, value }));

  const podSpec: NonNullable<PodObject["spec"]> = {
    containers: [
      {
        name: MAIN_CONTAINER,
        image: spec.image,
        ...(spec.command === undefined ? {} : { command: spec.command }),
        ...(spec.args === undefined ? {} : { args: spec.args }),
        ...(env.length === 0 ? {} : { env }),
        ...(spec.workdir === undefined ? {} : { workingDir: spec.workdir }),
        // Zun's cpu and memory are what the container gets: requests equal limits (Guaranteed QoS).
        ...(hasResources ? { resources: { requests: resources, limits: resources } } : {}),
        ...(input.mounts.length === 0
          ? {}
          : { volumeMounts: input.mounts.map((m, i) => ({ name: podVolumeName(i), mountPath: m.mountPath })) }),
        securityContext: {
          privileged: false,
          allowPrivilegeEscalation: false,
          seccompProfile: { type: "RuntimeDefault" },
        },
      },
    ],
    restartPolicy: podRestartPolicy(spec.restartPolicy),
    terminationGracePeriodSeconds: STOP_TIMEOUT_SECONDS,
    // A tenant's container gets no credentials for the cluster and no view of its Services.
    automountServiceAccountToken: false,
    enableServiceLinks: false,
    ...(input.mounts.length === 0
      ? {}
      : { volumes: input.mounts.map((m, i) => ({ name: podVolumeName(i), persistentVolumeClaim: { claimName: m.claimName } })) }),
  };

  const immutable = {
    networks: input.networksAnnotation,
    restartGeneration: spec.restartGeneration ?? 0,
    spec: podSpec,
  };
  const annotations: Record<string, string> = {
    [ContainerAnnotation.podHash]: createHash("sha256").update(JSON.stringify(immutable)).digest("hex").slice(0, 16),
    [ContainerAnnotation.restartGeneration]: String(spec.restartGeneration ?? 0),
  };
  if (input.networksAnnotation !== undefined) annotations[MULTUS_NETWORKS_ANNOTATION] = input.networksAnnotation;

  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: {
      name: podNameOf(container.metadata.name ?? ""),
      namespace,
      // The user's labels first: ours (management, security groups) are not theirs to override.
      labels: {
        ...spec.labels,
        ...input.securityLabels,
        [LABELS.managedBy]: MANAGED_BY,
        ...(project === undefined ? {} : { [LABELS.project]: project }),
        [ContainerLabel.container]: labelValue(container.metadata.name ?? ""),
      },
      annotations,
    },
    spec: podSpec,
  };
}

/** Whether an existing Pod was made from what the container asks for now (else it is replaced). */
export function podIsCurrent(pod: PodObject, desired: PodObject): boolean {
  const hash = ContainerAnnotation.podHash;
  return pod.metadata.annotations?.[hash] === desired.metadata.annotations?.[hash];
}
