// Container: a Zun container, realised as a Pod on the same tenant networks as servers.
import { z } from "zod";
import { instanceAddresses, instanceNetworks } from "./network.js";
import {
  ageColumn,
  cel,
  defineKind,
  displayName,
  idColumn,
  objectRef,
  readyColumn,
  statusBase,
  stringMap,
  type KindObject,
} from "./meta.js";

export const ZUN_STATUSES = ["Creating", "Created", "Running", "Stopped", "Paused", "Restarting", "Error", "Deleting"] as const;
export const RESTART_POLICIES = ["no", "on-failure", "always", "unless-stopped"] as const;

export const containerSpec = z.object({
  name: displayName(),
  image: z.string().min(1).max(1024).meta({ description: "OCI image reference." }),
  command: z.array(z.string().max(4096)).max(256).optional(),
  args: z.array(z.string().max(4096)).max(256).optional(),
  env: stringMap(256).optional(),
  workdir: z.string().max(4096).optional(),
  cpu: z.number().min(0.001).max(1024).optional().meta({ description: "vCPUs (may be fractional)." }),
  memory: z.int().min(4).max(16_777_216).optional().meta({ description: "MiB." }),
  restartPolicy: z.enum(RESTART_POLICIES).optional().meta({ description: "Default no." }),
  networks: instanceNetworks().optional(),
  volumes: z
    .array(z.object({ volumeRef: objectRef(), mountPath: z.string().min(1).max(4096).regex(/^\//) }))
    .max(32)
    .optional(),
  securityGroupRefs: z.array(objectRef()).max(32).optional().meta({ "x-kubernetes-list-type": "set" }),
  labels: cel(stringMap(), [
    {
      rule: "self.all(k, !k.startsWith('altostack.io/') && k != 'app.kubernetes.io/managed-by')",
      message: "labels under altostack.io/ and app.kubernetes.io/managed-by are the operator's (security groups select on them)",
    },
  ])
    .optional()
    .meta({ description: "Labels on the container's Pod." }),
  state: z
    .enum(["Running", "Stopped"])
    .optional()
    .meta({ description: "Desired state. Default Running. Stopped deletes the Pod (SIGTERM, then SIGKILL after 10 s: Zun's stop and kill); the ports keep their addresses." }),
  restartGeneration: z
    .int()
    .min(0)
    .max(2_147_483_647)
    .optional()
    .meta({ description: "Raise this counter to restart the container (Zun's restart): the Pod is deleted and created again." }),
});

export const containerStatus = z.object({
  ...statusBase,
  status: z.enum(ZUN_STATUSES).optional(),
  statusReason: z.string().optional(),
  addresses: instanceAddresses().optional(),
  host: z.string().optional(),
  podName: z.string().optional(),
});

export const containerKind = defineKind({
  kind: "Container",
  plural: "containers",
  singular: "container",
  shortNames: ["ctr", "oscontainer"],
  scope: "Namespaced",
  description: "A Zun container, realised as a Pod on the project's tenant networks.",
  spec: containerSpec,
  status: containerStatus,
  printerColumns: [
    { name: "Image", type: "string", jsonPath: ".spec.image" },
    { name: "Status", type: "string", jsonPath: ".status.status" },
    { name: "Host", type: "string", jsonPath: ".status.host", priority: 1 },
    readyColumn,
    idColumn,
    ageColumn,
  ],
});

export type Container = KindObject<typeof containerKind>;
