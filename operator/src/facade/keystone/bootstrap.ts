// What the facade makes sure of when it starts (all idempotent, safe with several replicas):
// - the token signing keys, in a Secret of the system namespace (created with a fresh key when missing);
// - the cloud-admin ClusterRole (full altostack.io access) bound to the group CLOUD_ADMIN_GROUP — the facade
//   creates it rather than devenv so that every installation gets it with the facade that relies on it;
// - the bootstrap admin: a User with the configured password and the admin role in the admin project.
import {
  GROUP,
  LABELS,
  MANAGED_BY,
  projectKind,
  userKind,
  type Project,
  type User,
} from "../../api/index.js";
import { Builtin, isAlreadyExists, isConflict, type KubeClient, type KubeObject, type Logger } from "../../kube/index.js";
import type { FacadeStore } from "../common/store.js";
import { FACADE_MANAGER } from "../common/tenant.js";
import { CLOUD_ADMIN_GROUP } from "./identity.js";
import { hashSecret, verifySecret } from "./secrets.js";
import { newSigningKey } from "./tokens.js";

export const TOKEN_KEYS_SECRET = "altostack-facade-token-keys";
export const CLOUD_ADMIN_ROLE = "altostack:cloud-admin";
/** The Secret key holding the signing keys: base64 keys, one per line, the first one signs. */
const KEYS_FIELD = "keys";

interface SecretObject extends KubeObject {
  data?: Record<string, string>;
  type?: string;
}

export async function ensureNamespace(client: KubeClient, name: string): Promise<void> {
  if ((await client.get(Builtin.Namespace, name)) !== undefined) return;
  try {
    await client.create(Builtin.Namespace, { apiVersion: "v1", kind: "Namespace", metadata: { name } });
  } catch (e) {
    if (!isAlreadyExists(e)) throw e;
  }
}

/** Parses the keys Secret's field; throws with a clear message when it holds no usable key. */
export function parseSigningKeys(encoded: string | undefined): Buffer[] {
  const text = Buffer.from(encoded ?? "", "base64").toString("utf8");
  const keys = text
    .split("\n")
    .map((line) => line.trim())
    .filter((line) => line !== "")
    .map((line) => Buffer.from(line, "base64"));
  if (keys.length === 0 || keys.some((k) => k.length < 32)) {
    throw new Error(`Secret ${TOKEN_KEYS_SECRET} must hold in "${KEYS_FIELD}" base64 keys of at least 32 bytes, one per line`);
  }
  return keys;
}

export async function loadSigningKeys(client: KubeClient, namespace: string): Promise<Buffer[]> {
  const existing = await client.get<SecretObject>(Builtin.Secret, TOKEN_KEYS_SECRET, namespace);
  if (existing !== undefined) return parseSigningKeys(existing.data?.[KEYS_FIELD]);
  const data = Buffer.from(`${newSigningKey().toString("base64")}\n`).toString("base64");
  try {
    await client.create<SecretObject>(Builtin.Secret, {
      apiVersion: "v1",
      kind: "Secret",
      type: "Opaque",
      metadata: { name: TOKEN_KEYS_SECRET, namespace, labels: { [LABELS.managedBy]: MANAGED_BY } },
      data: { [KEYS_FIELD]: data },
    });
    return parseSigningKeys(data);
  } catch (e) {
    if (!isAlreadyExists(e)) throw e;
    // Another replica created it first: use theirs.
    const theirs = await client.get<SecretObject>(Builtin.Secret, TOKEN_KEYS_SECRET, namespace);
    return parseSigningKeys(theirs?.data?.[KEYS_FIELD]);
  }
}

/** The cloud-admin ClusterRole and its binding (pure). */
export function cloudAdminRbac(): { clusterRole: KubeObject & { rules: unknown[] }; binding: KubeObject & { roleRef: unknown; subjects: unknown[] } } {
  const metadata = { name: CLOUD_ADMIN_ROLE, labels: { [LABELS.managedBy]: MANAGED_BY } };
  return {
    clusterRole: {
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "ClusterRole",
      metadata,
      rules: [
        { apiGroups: [GROUP], resources: ["*"], verbs: ["*"] },
        // Nova lets admins open any server's console: KubeVirt's console subresources, in every project.
        { apiGroups: ["subresources.kubevirt.io"], resources: ["virtualmachineinstances/console", "virtualmachineinstances/vnc"], verbs: ["get"] },
      ],
    },
    binding: {
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "ClusterRoleBinding",
      metadata,
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: CLOUD_ADMIN_ROLE },
      subjects: [{ kind: "Group", apiGroup: "rbac.authorization.k8s.io", name: CLOUD_ADMIN_GROUP }],
    },
  };
}

export async function ensureCloudAdminRbac(client: KubeClient): Promise<void> {
  const { clusterRole, binding } = cloudAdminRbac();
  // Installed by the Helm chart already: then the facade needs only to read them (writing a ClusterRole that
  // grants all of altostack.io would need those rights or `escalate`, which its ServiceAccount must not hold).
  const [liveRole, liveBinding] = await Promise.all([
    client.get<KubeObject & { rules?: unknown }>(Builtin.ClusterRole, CLOUD_ADMIN_ROLE),
    client.get<KubeObject & { roleRef?: unknown; subjects?: unknown }>(Builtin.ClusterRoleBinding, CLOUD_ADMIN_ROLE),
  ]);
  // The apiserver returns fields in its own order: compare with sorted keys.
  const canonical = (v: unknown): unknown =>
    Array.isArray(v) ? v.map(canonical) : v !== null && typeof v === "object" ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => a.localeCompare(b)).map(([k, x]) => [k, canonical(x)])) : v;
  const same = (a: unknown, b: unknown): boolean => JSON.stringify(canonical(a)) === JSON.stringify(canonical(b));
  if (same(liveRole?.rules, clusterRole.rules) && same(liveBinding?.roleRef, binding.roleRef) && same(liveBinding?.subjects, binding.subjects)) {
    return;
  }
  await client.apply(Builtin.ClusterRole, clusterRole, { fieldManager: FACADE_MANAGER });
  await client.apply(Builtin.ClusterRoleBinding, binding, { fieldManager: FACADE_MANAGER });
}

export interface AdminBootstrap {
  user: string;
  password: string;
  project: string;
}

/** The admin User (password as configured) and the admin Project with that user as admin. */
export async function ensureAdmin(client: KubeClient, store: FacadeStore, admin: AdminBootstrap, log: Logger): Promise<void> {
  const user = await client.get<User>(userKind, admin.user);
  if (user === undefined) {
    const passwordHash = await hashSecret(admin.password);
    await store.write(userKind, () =>
      client.create<User>(
        userKind,
        { apiVersion: userKind.apiVersion, kind: userKind.kind, metadata: { name: admin.user }, spec: { passwordHash } },
        { fieldManager: FACADE_MANAGER },
      ),
    ).catch((e: unknown) => {
      if (!isAlreadyExists(e)) throw e;
    });
    log.info({ user: admin.user }, "created the bootstrap admin user");
  } else if (user.spec.passwordHash === undefined || !(await verifySecret(admin.password, user.spec.passwordHash))) {
    const passwordHash = await hashSecret(admin.password);
    await store.write(userKind, () =>
      client.patch<User>(userKind, admin.user, undefined, { spec: { passwordHash, passwordChangedAt: new Date().toISOString() } }, "merge", {
        fieldManager: FACADE_MANAGER,
      }),
    );
    log.info({ user: admin.user }, "reset the bootstrap admin's password to the configured one");
  }

  const member = { user: admin.user, role: "admin" as const };
  for (let attempt = 0; attempt < 5; attempt++) {
    const project = await client.get<Project>(projectKind, admin.project);
    try {
      if (project === undefined) {
        await store.write(projectKind, () =>
          client.create<Project>(
            projectKind,
            {
              apiVersion: projectKind.apiVersion,
              kind: projectKind.kind,
              metadata: { name: admin.project },
              spec: { description: "Bootstrap project for the cloud administrators", members: [member] },
            },
            { fieldManager: FACADE_MANAGER },
          ),
        );
        log.info({ project: admin.project }, "created the admin project");
        return;
      }
      const members = project.spec.members ?? [];
      if (members.some((m) => m.user === member.user && m.role === member.role)) return;
      await store.write(projectKind, () =>
        client.patch<Project>(
          projectKind,
          admin.project,
          undefined,
          { metadata: { resourceVersion: project.metadata.resourceVersion }, spec: { members: [...members, member] } },
          "merge",
          { fieldManager: FACADE_MANAGER },
        ),
      );
      return;
    } catch (e) {
      if (!isAlreadyExists(e) && !isConflict(e)) throw e;
    }
  }
  throw new Error(`could not make ${admin.user} an admin of project ${admin.project}: it kept changing`);
}
