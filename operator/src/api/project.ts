// Project: a Keystone project, realised as a namespace with quota and role bindings.
import { z } from "zod";
import {
  ageColumn,
  cel,
  defineKind,
  description,
  displayName,
  idColumn,
  readyColumn,
  statusBase,
  type KindObject,
} from "./meta.js";

export const PROJECT_ROLES = ["admin", "member", "reader"] as const;
export type ProjectRole = (typeof PROJECT_ROLES)[number];

/** -1 means unlimited, as in OpenStack. */
const quotaValue = () => z.int().min(-1).max(2_147_483_647);

export const QUOTA_KEYS = [
  "instances",
  "cores",
  "ram",
  "volumes",
  "gigabytes",
  "snapshots",
  "networks",
  "ports",
  "securityGroups",
] as const;
export type QuotaKey = (typeof QUOTA_KEYS)[number];

/** OpenStack's own defaults (nova, cinder and neutron quota defaults), used for keys the spec leaves out. */
export const DEFAULT_QUOTAS: Record<QuotaKey, number> = {
  instances: 10,
  cores: 20,
  ram: 51200,
  volumes: 10,
  gigabytes: 1000,
  snapshots: 10,
  networks: 100,
  ports: 500,
  securityGroups: 10,
};

export const quotasSchema = z
  .object({
    instances: quotaValue().optional().meta({ description: "Servers (Nova instances)." }),
    cores: quotaValue().optional().meta({ description: "vCPUs over all servers." }),
    ram: quotaValue().optional().meta({ description: "RAM in MiB over all servers." }),
    volumes: quotaValue().optional(),
    gigabytes: quotaValue().optional().meta({ description: "GiB over all volumes and snapshots." }),
    snapshots: quotaValue().optional(),
    networks: quotaValue().optional(),
    ports: quotaValue().optional(),
    securityGroups: quotaValue().optional(),
  })
  .meta({ description: "Quotas; keys left out take OpenStack's defaults, -1 is unlimited." });

const memberSchema = cel(
  z.object({
    user: z.string().min(1).max(255).optional().meta({ description: "A Kubernetes/Keystone user name." }),
    group: z.string().min(1).max(255).optional().meta({ description: "A Kubernetes group name." }),
    role: z.enum(PROJECT_ROLES),
  }),
  [{ rule: "has(self.user) != has(self.group)", message: "a member names exactly one of user or group" }],
);

export const DELETION_POLICIES = ["Refuse", "Cascade"] as const;

export const projectSpec = z.object({
  name: displayName(),
  description: description(),
  enabled: z.boolean().optional().meta({ description: "Disabled projects cannot be scoped to. Default true." }),
  domain: z.string().min(1).max(64).optional().meta({ description: "Keystone domain. Default 'default'." }),
  quotas: quotasSchema.optional(),
  members: z.array(memberSchema).max(256).optional(),
  deletionPolicy: z.enum(DELETION_POLICIES).optional().meta({
    description:
      "Refuse (default): deleting a project that still holds resources waits with a DeletionBlocked condition. " +
      "Cascade: deleting the project deletes everything in it.",
  }),
});

export const projectStatus = z.object({
  ...statusBase,
  namespace: z.string().optional().meta({ description: "The namespace that holds the project's resources." }),
  quotas: z.record(z.string(), z.int()).optional().meta({ description: "Effective quotas (-1 unlimited)." }),
  usage: z.record(z.string(), z.string()).optional().meta({ description: "Usage as the ResourceQuota reports it." }),
});

export const projectKind = defineKind({
  kind: "Project",
  plural: "projects",
  singular: "project",
  shortNames: ["osproject", "proj"],
  scope: "Cluster",
  description: "An OpenStack project (Keystone tenant): a namespace with quotas and role bindings.",
  spec: projectSpec,
  status: projectStatus,
  specOptional: true,
  printerColumns: [
    { name: "Namespace", type: "string", jsonPath: ".status.namespace" },
    { name: "Enabled", type: "boolean", jsonPath: ".spec.enabled" },
    readyColumn,
    idColumn,
    ageColumn,
  ],
});

export type Project = KindObject<typeof projectKind>;
export type ProjectSpec = z.output<typeof projectSpec>;
export type ProjectStatus = z.output<typeof projectStatus>;

/** The namespace a project's resources live in. Prefixed so a Project can never claim a system namespace. */
const PROJECT_NAMESPACE_PREFIX = "project-";
export const projectNamespace = (projectName: string): string => `${PROJECT_NAMESPACE_PREFIX}${projectName}`;

/** The project a namespace belongs to by name, or undefined for namespaces outside any project. */
export const projectOfNamespace = (namespace: string | undefined): string | undefined =>
  namespace?.startsWith(PROJECT_NAMESPACE_PREFIX) === true ? namespace.slice(PROJECT_NAMESPACE_PREFIX.length) : undefined;

/** The Kubernetes group the facade impersonates for a role in a project. */
export const projectRoleGroup = (projectName: string, role: ProjectRole): string =>
  `altostack:project:${projectName}:${role}`;
