// Keystone JSON for each identity object: one mapper per object, used by every route that shows it.
import {
  PROJECT_ROLES,
  openstackName,
  type ApplicationCredential,
  type Project,
  type ProjectRole,
  type User,
} from "../../api/index.js";
import type { CatalogEntry } from "./catalog.js";
import { stableId } from "./catalog.js";
import { keystoneTime } from "./tokens.js";

export const DEFAULT_DOMAIN = { id: "default", name: "Default" } as const;

/** Keystone's role ids are opaque; ours are stable hashes of the role name. */
export const roleId = (role: ProjectRole): string => stableId("role", role);

export function roleByIdOrName(idOrName: string): ProjectRole | undefined {
  return PROJECT_ROLES.find((r) => roleId(r) === idOrName || r === idOrName.toLowerCase());
}

/** admin ⇒ member ⇒ reader, as Keystone's default implied roles. */
export function withImpliedRoles(roles: Iterable<ProjectRole>): ProjectRole[] {
  const set = new Set<ProjectRole>();
  for (const role of roles) {
    set.add(role);
    if (role === "admin") set.add("member");
    if (role === "admin" || role === "member") set.add("reader");
  }
  return PROJECT_ROLES.filter((r) => set.has(r));
}

export function roleView(role: ProjectRole, identityUrl: string) {
  return {
    id: roleId(role),
    name: role,
    domain_id: null,
    description: null,
    options: {},
    links: { self: `${identityUrl}/v3/roles/${roleId(role)}` },
  };
}

export function domainView(identityUrl: string) {
  return {
    id: DEFAULT_DOMAIN.id,
    name: DEFAULT_DOMAIN.name,
    description: "The default domain",
    enabled: true,
    tags: [],
    options: {},
    links: { self: `${identityUrl}/v3/domains/${DEFAULT_DOMAIN.id}` },
  };
}

export function projectView(project: Project, identityUrl: string) {
  const id = project.metadata.uid ?? "";
  return {
    id,
    name: openstackName(project),
    domain_id: DEFAULT_DOMAIN.id,
    description: project.spec.description ?? "",
    enabled: project.spec.enabled !== false,
    parent_id: DEFAULT_DOMAIN.id,
    is_domain: false,
    tags: [],
    options: {},
    links: { self: `${identityUrl}/v3/projects/${id}` },
  };
}

export interface UserViewContext {
  identityUrl: string;
  /** Project uid of the user's default project, when it exists. */
  defaultProjectId: string | undefined;
}

export function userView(user: User, ctx: UserViewContext) {
  const id = user.metadata.uid ?? "";
  return {
    id,
    name: openstackName(user),
    domain_id: DEFAULT_DOMAIN.id,
    enabled: user.spec.enabled !== false,
    password_expires_at: null,
    options: {},
    federated: [],
    ...(user.spec.email === undefined ? {} : { email: user.spec.email }),
    ...(user.spec.description === undefined ? {} : { description: user.spec.description }),
    ...(ctx.defaultProjectId === undefined ? {} : { default_project_id: ctx.defaultProjectId }),
    links: { self: `${ctx.identityUrl}/v3/users/${id}` },
  };
}

export function applicationCredentialView(
  credential: ApplicationCredential,
  ctx: { identityUrl: string; userId: string; projectId: string; secret?: string },
) {
  const id = credential.metadata.uid ?? "";
  const expiresAt = credential.spec.expiresAt;
  return {
    id,
    name: credential.spec.name,
    description: credential.spec.description ?? null,
    project_id: ctx.projectId,
    user_id: ctx.userId,
    roles: credential.spec.roles.map((r) => ({ id: roleId(r), name: r, domain_id: null })),
    expires_at: expiresAt === undefined ? null : keystoneTime(new Date(expiresAt)).replace(/Z$/, ""),
    unrestricted: credential.spec.unrestricted === true,
    access_rules: [],
    ...(ctx.secret === undefined ? {} : { secret: ctx.secret }),
    links: { self: `${ctx.identityUrl}/v3/users/${ctx.userId}/application_credentials/${id}` },
  };
}

export interface AssignmentInput {
  user: User;
  project: Project;
  role: ProjectRole;
}

export function roleAssignmentView(a: AssignmentInput, identityUrl: string, includeNames: boolean) {
  const userId = a.user.metadata.uid ?? "";
  const projectId = a.project.metadata.uid ?? "";
  const named = <T extends object>(base: T, name: string, withDomain: boolean) =>
    includeNames ? { ...base, name, ...(withDomain ? { domain: { ...DEFAULT_DOMAIN } } : {}) } : base;
  return {
    role: named({ id: roleId(a.role) }, a.role, false),
    user: named({ id: userId }, openstackName(a.user), true),
    scope: { project: named({ id: projectId }, openstackName(a.project), true) },
    links: { assignment: `${identityUrl}/v3/projects/${projectId}/users/${userId}/roles/${roleId(a.role)}` },
  };
}

export interface TokenViewInput {
  methods: readonly string[];
  user: User;
  project: Project | undefined;
  domainScoped: boolean;
  roles: readonly ProjectRole[];
  issuedAt: Date;
  expiresAt: Date;
  auditIds: readonly string[];
  catalog: CatalogEntry[] | undefined;
  applicationCredential: ApplicationCredential | undefined;
}

/** The body of POST/GET /v3/auth/tokens. */
export function tokenView(t: TokenViewInput) {
  const scoped = t.project !== undefined || t.domainScoped;
  return {
    token: {
      methods: [...t.methods],
      user: {
        id: t.user.metadata.uid ?? "",
        name: openstackName(t.user),
        domain: { ...DEFAULT_DOMAIN },
        password_expires_at: null,
      },
      audit_ids: [...t.auditIds],
      issued_at: keystoneTime(t.issuedAt),
      expires_at: keystoneTime(t.expiresAt),
      ...(t.project === undefined
        ? {}
        : {
            project: { id: t.project.metadata.uid ?? "", name: openstackName(t.project), domain: { ...DEFAULT_DOMAIN } },
            is_domain: false,
          }),
      ...(t.domainScoped ? { domain: { ...DEFAULT_DOMAIN } } : {}),
      ...(scoped ? { roles: t.roles.map((r) => ({ id: roleId(r), name: r })) } : {}),
      ...(scoped && t.catalog !== undefined ? { catalog: t.catalog } : {}),
      ...(t.applicationCredential === undefined
        ? {}
        : {
            application_credential: {
              id: t.applicationCredential.metadata.uid ?? "",
              name: t.applicationCredential.spec.name,
              restricted: t.applicationCredential.spec.unrestricted !== true,
            },
          }),
    },
  };
}
