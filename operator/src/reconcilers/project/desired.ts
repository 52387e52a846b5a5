// Pure: a Project's spec → the namespace, quota and RBAC objects that realise it.
import {
  DEFAULT_QUOTAS,
  GROUP,
  LABELS,
  MANAGED_BY,
  PROJECT_ROLES,
  QUOTA_KEYS,
  projectNamespace,
  projectRoleGroup,
  type Project,
  type ProjectRole,
  type QuotaKey,
} from "../../api/index.js";
import type { KubeObject } from "../../kube/resources.js";

export const QUOTA_NAME = "altostack-quota";

/** What each OpenStack quota counts in Kubernetes terms. cores and ram are checked by the Server reconciler. */
export const QUOTA_RESOURCE: Record<QuotaKey, string | undefined> = {
  instances: `count/servers.${GROUP}`,
  cores: undefined,
  ram: undefined,
  volumes: `count/volumes.${GROUP}`,
  gigabytes: "requests.storage",
  snapshots: `count/snapshots.${GROUP}`,
  networks: `count/networks.${GROUP}`,
  ports: `count/ports.${GROUP}`,
  securityGroups: `count/securitygroups.${GROUP}`,
};

export function effectiveQuotas(project: Project): Record<QuotaKey, number> {
  const quotas = { ...DEFAULT_QUOTAS };
  for (const key of QUOTA_KEYS) {
    const value = project.spec.quotas?.[key];
    if (value !== undefined) quotas[key] = value;
  }
  return quotas;
}

function quotaHard(quotas: Record<QuotaKey, number>): Record<string, string> {
  const hard: Record<string, string> = {};
  for (const key of QUOTA_KEYS) {
    const resource = QUOTA_RESOURCE[key];
    const value = quotas[key];
    if (resource === undefined || value < 0) continue; // -1: unlimited, so no hard limit at all
    hard[resource] = key === "gigabytes" ? `${value}Gi` : String(value);
  }
  return hard;
}

export interface RbacObject extends KubeObject {
  rules?: { apiGroups: string[]; resources: string[]; verbs: string[]; resourceNames?: string[] }[];
  roleRef?: { apiGroup: string; kind: "Role" | "ClusterRole"; name: string };
  subjects?: { kind: "User" | "Group"; apiGroup: string; name: string }[];
}

const READ = ["get", "list", "watch"];
const WRITE = ["create", "update", "patch", "delete", "deletecollection"];
/** Tenants manage their project's objects; status is the operator's to write. */
const TENANT_RESOURCES = [
  "keypairs",
  "images",
  "servers",
  "serveractions",
  "networks",
  "subnets",
  "ports",
  "securitygroups",
  "volumes",
  "snapshots",
  "containers",
];

export function roleRules(role: ProjectRole): NonNullable<RbacObject["rules"]> {
  const objectsAndStatus = [...TENANT_RESOURCES, ...TENANT_RESOURCES.map((r) => `${r}/status`)];
  const rules: NonNullable<RbacObject["rules"]> = [
    { apiGroups: [GROUP], resources: objectsAndStatus, verbs: READ },
    { apiGroups: ["", "events.k8s.io"], resources: ["events"], verbs: READ },
  ];
  if (role !== "reader") rules.push({ apiGroups: [GROUP], resources: TENANT_RESOURCES, verbs: WRITE });
  // Image data upload: the image API asks CDI for an upload token as the uploading user.
  if (role !== "reader") rules.push({ apiGroups: ["upload.cdi.kubevirt.io"], resources: ["uploadtokenrequests"], verbs: ["create"] });
  // Image download: the image API exports the image's volume as the user (a VirtualMachineExport it watches until
  // Ready, then deletes) with a token Secret it makes up. Secrets: create only — tenants never read them back.
  if (role !== "reader") {
    rules.push({ apiGroups: ["export.kubevirt.io"], resources: ["virtualmachineexports"], verbs: ["get", "list", "watch", "create", "delete"] });
    rules.push({ apiGroups: [""], resources: ["secrets"], verbs: ["create"] });
  }
  // Remote consoles (Nova's policy: member or admin): the facade opens KubeVirt's console/VNC as the user.
  if (role !== "reader") {
    rules.push({ apiGroups: ["subresources.kubevirt.io"], resources: ["virtualmachineinstances/console", "virtualmachineinstances/vnc"], verbs: ["get"] });
  }
  return rules;
}

export function roleName(role: ProjectRole): string {
  return `altostack:${role}`;
}

export function clusterRoleName(project: Project): string {
  return `altostack:project:${project.metadata.name ?? ""}`;
}

function subjectsFor(project: Project, role: ProjectRole): NonNullable<RbacObject["subjects"]> {
  const name = project.metadata.name ?? "";
  const subjects: NonNullable<RbacObject["subjects"]> = [
    { kind: "Group", apiGroup: "rbac.authorization.k8s.io", name: projectRoleGroup(name, role) },
  ];
  for (const member of project.spec.members ?? []) {
    if (member.role !== role) continue;
    if (member.user !== undefined) subjects.push({ kind: "User", apiGroup: "rbac.authorization.k8s.io", name: member.user });
    if (member.group !== undefined) {
      subjects.push({ kind: "Group", apiGroup: "rbac.authorization.k8s.io", name: member.group });
    }
  }
  return subjects;
}

export interface ProjectChildren {
  namespace: KubeObject;
  resourceQuota: KubeObject & { spec: { hard: Record<string, string> } };
  roles: RbacObject[];
  roleBindings: RbacObject[];
  clusterRole: RbacObject;
  clusterRoleBinding: RbacObject;
}

/** Everything a Project owns. Owner references are added by the apply helper, not here. */
export function desiredChildren(project: Project): ProjectChildren {
  const name = project.metadata.name ?? "";
  const namespace = projectNamespace(name);
  const labels = { [LABELS.managedBy]: MANAGED_BY, [LABELS.project]: name };
  const meta = (objectName: string, ns?: string) => ({
    name: objectName,
    ...(ns === undefined ? {} : { namespace: ns }),
    labels,
  });
  const allSubjects = PROJECT_ROLES.flatMap((role) => subjectsFor(project, role));

  return {
    namespace: { apiVersion: "v1", kind: "Namespace", metadata: meta(namespace) },
    resourceQuota: {
      apiVersion: "v1",
      kind: "ResourceQuota",
      metadata: meta(QUOTA_NAME, namespace),
      spec: { hard: quotaHard(effectiveQuotas(project)) },
    },
    roles: PROJECT_ROLES.map((role) => ({
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "Role",
      metadata: meta(roleName(role), namespace),
      rules: roleRules(role),
    })),
    roleBindings: PROJECT_ROLES.map((role) => ({
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "RoleBinding",
      metadata: meta(roleName(role), namespace),
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: roleName(role) },
      subjects: subjectsFor(project, role),
    })),
    // Cluster-scoped reads a member needs: its own Project and the flavor list.
    clusterRole: {
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "ClusterRole",
      metadata: meta(clusterRoleName(project)),
      rules: [
        { apiGroups: [GROUP], resources: ["projects", "projects/status"], resourceNames: [name], verbs: ["get", "watch"] },
        { apiGroups: [GROUP], resources: ["flavors"], verbs: READ },
      ],
    },
    clusterRoleBinding: {
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "ClusterRoleBinding",
      metadata: meta(clusterRoleName(project)),
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: clusterRoleName(project) },
      subjects: allSubjects,
    },
  };
}
