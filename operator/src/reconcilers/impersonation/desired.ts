// The facade's impersonation allowlist (pure). Kubernetes RBAC can name the users and groups a subject may
// impersonate only one by one (no prefixes), so this ClusterRole lists exactly the Keystone users that exist and
// the groups the facade sends for them (`altostack:project:<p>:<role>`, the cloud-admin group). The chart binds
// it to the facade's ServiceAccount; the facade can never impersonate `system:masters` or a system user.
import { LABELS, MANAGED_BY, PROJECT_ROLES, projectRoleGroup } from "../../api/index.js";
import type { KubeObject } from "../../kube/index.js";

export const FACADE_IMPERSONATION_ROLE = "altostack:facade-impersonation";
/** The group of cloud admins (kept equal to the facade's CLOUD_ADMIN_GROUP by a unit test). */
export const CLOUD_ADMIN_GROUP = "altostack:cloud-admin";

export interface ImpersonationRule {
  apiGroups: string[];
  resources: string[];
  verbs: string[];
  resourceNames: string[];
}

export interface ImpersonationRole extends KubeObject {
  rules: ImpersonationRule[];
}

/**
 * The ClusterRole for these user and project names. A rule with an empty resourceNames would allow every
 * name, so a list that is empty yields no rule at all.
 */
export function desiredImpersonationRole(userNames: readonly string[], projectNames: readonly string[]): ImpersonationRole {
  const users = [...new Set(userNames.filter((n) => n !== ""))].sort();
  const groups = [
    CLOUD_ADMIN_GROUP,
    ...[...new Set(projectNames.filter((n) => n !== ""))].sort().flatMap((p) => PROJECT_ROLES.map((role) => projectRoleGroup(p, role))),
  ];
  const rules: ImpersonationRule[] = [{ apiGroups: [""], resources: ["groups"], verbs: ["impersonate"], resourceNames: groups }];
  if (users.length > 0) rules.unshift({ apiGroups: [""], resources: ["users"], verbs: ["impersonate"], resourceNames: users });
  return {
    apiVersion: "rbac.authorization.k8s.io/v1",
    kind: "ClusterRole",
    metadata: { name: FACADE_IMPERSONATION_ROLE, labels: { [LABELS.managedBy]: MANAGED_BY } },
    rules,
  };
}
