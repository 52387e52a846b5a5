// Keystone v3: discovery, tokens, catalog, projects (→ Project objects), users (→ User objects), roles and role
// assignments (→ Project spec.members), application credentials, and the read-only catalog views. Admin
// operations are written as the caller, so only cloud admins (bound to full altostack.io access) succeed; what a
// user may do to themself (password change, application credentials) the facade checks and writes itself.
import { z } from "zod";
import {
  PROJECT_ROLES,
  applicationCredentialKind,
  openstackName,
  projectKind,
  userKind,
  type ApplicationCredential,
  type Project,
  type ProjectRole,
  type User,
} from "../../api/index.js";
import { isConflict, type KubeObject, type ResourceType } from "../../kube/index.js";
import { requireAccess, type Caller } from "../common/caller.js";
import type { ServiceDeps } from "../common/deps.js";
import { ApiError, badRequest, conflict, forbidden, notFound } from "../common/errors.js";
import { queryFlag, reply, type Reply, type Route, type RouteContext, type Service } from "../common/http.js";
import { fromKubeError } from "../common/kube-errors.js";
import { filterItems } from "../common/listing.js";
import { chooseObjectName, randomSuffix, slugOf, specNameOf } from "../common/names.js";
import { FACADE_MANAGER } from "../common/tenant.js";
import { SERVICE_PREFIXES, buildCatalog, catalogEndpoints, catalogServices } from "./catalog.js";
import { authRequestSchema, type ValidToken } from "./identity.js";
import { hashSecret, newSecret, verifySecret } from "./secrets.js";
import {
  DEFAULT_DOMAIN,
  applicationCredentialView,
  domainView,
  projectView,
  roleAssignmentView,
  roleByIdOrName,
  roleView,
  userView,
  withImpliedRoles,
} from "./views.js";

const VERSION_ID = "v3.14";
const VERSION_UPDATED = "2020-04-07T00:00:00Z";
/** A Project's metadata.name becomes `project-<name>`, which must stay a DNS label (63). */
const PROJECT_NAME_MAX = 55;

const nullableString = (max: number) => z.string().max(max).nullish();

const projectCreateSchema = z.object({
  project: z.object({
    name: z.string().min(1).max(64),
    description: nullableString(1024),
    enabled: z.boolean().nullish(),
    domain_id: z.string().nullish(),
    parent_id: z.string().nullish(),
    is_domain: z.boolean().nullish(),
    tags: z.array(z.string()).nullish(),
    options: z.looseObject({}).nullish(),
  }),
});
const projectUpdateSchema = z.object({
  project: z.object({
    name: z.string().min(1).max(64).nullish(),
    description: nullableString(1024),
    enabled: z.boolean().nullish(),
    tags: z.array(z.string()).nullish(),
    options: z.looseObject({}).nullish(),
  }),
});
const userCreateSchema = z.object({
  user: z.object({
    name: z.string().min(1).max(255),
    password: z.string().min(1).max(4096).nullish(),
    domain_id: z.string().nullish(),
    default_project_id: z.string().nullish(),
    enabled: z.boolean().nullish(),
    description: nullableString(1024),
    email: nullableString(255),
    options: z.looseObject({}).nullish(),
  }),
});
const userUpdateSchema = z.object({
  user: z.object({
    name: z.string().min(1).max(255).nullish(),
    password: z.string().min(1).max(4096).nullish(),
    default_project_id: z.string().nullish(),
    enabled: z.boolean().nullish(),
    description: nullableString(1024),
    email: nullableString(255),
    options: z.looseObject({}).nullish(),
  }),
});
const passwordChangeSchema = z.object({
  user: z.object({ original_password: z.string().min(1), password: z.string().min(1).max(4096) }),
});
const appCredCreateSchema = z.object({
  application_credential: z.object({
    name: z.string().min(1).max(255),
    description: nullableString(1024),
    secret: z.string().min(1).max(4096).nullish(),
    expires_at: z.string().nullish(),
    roles: z.array(z.object({ id: z.string().nullish(), name: z.string().nullish() })).nullish(),
    unrestricted: z.boolean().nullish(),
    access_rules: z.array(z.unknown()).nullish(),
  }),
});

export function keystoneService(deps: ServiceDeps): Service {
  const { identity, store } = deps;
  const action = (policy: string, subject: string) => ({ policy: `identity:${policy}`, subject });
  const list = (key: string, items: readonly unknown[], ctx: RouteContext) =>
    reply(200, { [key]: items, links: { self: `${ctx.serviceUrl}${ctx.path}`, previous: null, next: null } });

  const versionDoc = (ctx: RouteContext) => ({
    id: VERSION_ID,
    status: "stable",
    updated: VERSION_UPDATED,
    links: [{ rel: "self", href: `${ctx.identityUrl}/v3/` }],
    "media-types": [{ base: "application/json", type: "application/vnd.openstack.identity-v3+json" }],
  });

  // ---- lookups that answer 404 the Keystone way ----

  const projectOr404 = (id: string): Project => {
    const project = identity.projectById(id);
    if (project === undefined) throw notFound(`Could not find project: ${id}.`);
    return project;
  };
  const userOr404 = (id: string): User => {
    const user = identity.userById(id);
    if (user === undefined) throw notFound(`Could not find user: ${id}.`);
    return user;
  };
  const roleOr404 = (id: string): ProjectRole => {
    const role = roleByIdOrName(id);
    if (role === undefined) throw notFound(`Could not find role: ${id}.`);
    return role;
  };
  /** A caller acting on their own user, or a cloud admin. */
  const selfOrAdmin = (caller: Caller, userId: string, what: string): void => {
    if (caller.userId !== userId && !caller.cloudAdmin) throw forbidden(`You are not authorized to ${what} of another user.`);
  };
  const defaultProjectId = (user: User): string | undefined =>
    user.spec.defaultProject === undefined ? undefined : identity.projectByObjectName(user.spec.defaultProject)?.metadata.uid;
  const showUser = (user: User, ctx: RouteContext) =>
    userView(user, { identityUrl: ctx.identityUrl, defaultProjectId: defaultProjectId(user) });

  // ---- tokens ----

  const issueToken = async (ctx: RouteContext): Promise<Reply> => {
    const request = await ctx.body(authRequestSchema);
    const valid = await identity.issue(request);
    return reply(201, identity.view(valid), { "X-Subject-Token": valid.id });
  };

  const subjectToken = (ctx: RouteContext): ValidToken => {
    const caller = ctx.caller();
    const subject = ctx.headers["x-subject-token"];
    const token = Array.isArray(subject) ? subject[0] : subject;
    if (token === undefined || token === "") throw badRequest("Expecting to find X-Subject-Token in the request headers.");
    let valid: ValidToken;
    try {
      valid = identity.validate(token);
    } catch {
      throw notFound(`Could not find token: ${token.slice(0, 16)}….`);
    }
    if (valid.user.metadata.uid !== caller.userId && !caller.cloudAdmin) {
      throw forbidden("You are not authorized to validate another user's token.");
    }
    return valid;
  };

  // ---- projects ----

  const createProject = async (ctx: RouteContext): Promise<Reply> => {
    const caller = ctx.caller();
    const { project: input } = await ctx.body(projectCreateSchema);
    if (input.is_domain === true) throw badRequest("Projects acting as domains are not supported; only the default domain exists.");
    if (input.domain_id != null && input.domain_id !== DEFAULT_DOMAIN.id) throw badRequest(`Could not find domain: ${input.domain_id}.`);
    if (input.parent_id != null && input.parent_id !== DEFAULT_DOMAIN.id) {
      throw badRequest("Project hierarchies are not supported: a project's parent is its domain.");
    }
    if (identity.projectByName(input.name) !== undefined) {
      throw conflict(
        `Conflict occurred attempting to store project - it is not permitted to have two projects with the same name in the same domain : ${input.name}.`,
      );
    }
    const choice = chooseObjectName(input.name, {
      fallback: "project",
      maxLength: PROJECT_NAME_MAX,
      taken: (n) => identity.projectByObjectName(n) !== undefined,
    });
    const object: Project = {
      apiVersion: projectKind.apiVersion,
      kind: projectKind.kind,
      metadata: { name: choice.objectName },
      spec: {
        ...specNameOf(choice),
        ...(input.description == null ? {} : { description: input.description }),
        ...(input.enabled == null ? {} : { enabled: input.enabled }),
      },
    };
    const created = await write(projectKind, () => caller.kube.create(projectKind, object, { fieldManager: FACADE_MANAGER }), action("create_project", `project ${input.name}`));
    return reply(201, { project: projectView(created, ctx.identityUrl) });
  };

  const listProjects = async (ctx: RouteContext): Promise<Reply> => {
    const caller = ctx.caller();
    await requireAccess(caller, { verb: "list", resource: projectKind }, "identity:list_projects");
    const views = store.all<Project>(projectKind).map((p) => projectView(p, ctx.identityUrl));
    return list("projects", filterItems(views, ctx.query, ["name", "enabled", "domain_id", "is_domain", "parent_id"]), ctx);
  };

  const readableProject = async (ctx: RouteContext): Promise<Project> => {
    const caller = ctx.caller();
    const project = projectOr404(ctx.params.id ?? "");
    await requireAccess(caller, { verb: "get", resource: projectKind, name: project.metadata.name }, "identity:get_project");
    return project;
  };

  const updateProject = async (ctx: RouteContext): Promise<Reply> => {
    const caller = ctx.caller();
    const project = projectOr404(ctx.params.id ?? "");
    const { project: input } = await ctx.body(projectUpdateSchema);
    if (input.name != null && input.name !== openstackName(project) && identity.projectByName(input.name) !== undefined) {
      throw conflict(`It is not permitted to have two projects with the same name in the same domain : ${input.name}.`);
    }
    const spec: Record<string, unknown> = {};
    if (input.name != null) spec.name = input.name === project.metadata.name ? null : input.name;
    if (input.description !== undefined) spec.description = input.description;
    if (input.enabled != null) spec.enabled = input.enabled;
    const updated = await write(
      projectKind,
      () => caller.kube.patch<Project>(projectKind, project.metadata.name ?? "", undefined, { spec }, "merge", { fieldManager: FACADE_MANAGER }),
      action("update_project", `project ${openstackName(project)}`),
    );
    return reply(200, { project: projectView(updated, ctx.identityUrl) });
  };

  const deleteProject = async (ctx: RouteContext): Promise<Reply> => {
    const caller = ctx.caller();
    const project = projectOr404(ctx.params.id ?? "");
    await remove(caller, projectKind, project, action("delete_project", `project ${openstackName(project)}`));
    return reply(204);
  };

  // ---- users ----

  const createUser = async (ctx: RouteContext): Promise<Reply> => {
    const caller = ctx.caller();
    const { user: input } = await ctx.body(userCreateSchema);
    if (input.domain_id != null && input.domain_id !== DEFAULT_DOMAIN.id) throw badRequest(`Could not find domain: ${input.domain_id}.`);
    if (identity.userByName(input.name) !== undefined) {
      throw conflict(`Conflict occurred attempting to store user - Duplicate entry found with name ${input.name} at domain ID default.`);
    }
    const defaultProject = input.default_project_id == null ? undefined : projectOr404(input.default_project_id);
    // The metadata.name is the user's Kubernetes identity: never one with a colon (system:…), always a DNS label.
    const choice = chooseObjectName(input.name, { fallback: "user", taken: (n) => identity.userByKubeName(n) !== undefined });
    const object: User = {
      apiVersion: userKind.apiVersion,
      kind: userKind.kind,
      metadata: { name: choice.objectName },
      spec: {
        ...specNameOf(choice),
        ...(input.description == null ? {} : { description: input.description }),
        ...(input.email == null ? {} : { email: input.email }),
        ...(input.enabled == null ? {} : { enabled: input.enabled }),
        ...(input.password == null ? {} : { passwordHash: await hashSecret(input.password) }),
        ...(defaultProject === undefined ? {} : { defaultProject: defaultProject.metadata.name }),
      },
    };
    const created = await write(userKind, () => caller.kube.create(userKind, object, { fieldManager: FACADE_MANAGER }), action("create_user", `user ${input.name}`));
    return reply(201, { user: showUser(created, ctx) });
  };

  const listUsers = async (ctx: RouteContext): Promise<Reply> => {
    const caller = ctx.caller();
    await requireAccess(caller, { verb: "list", resource: userKind }, "identity:list_users");
    const views = store.all<User>(userKind).map((u) => showUser(u, ctx));
    return list("users", filterItems(views, ctx.query, ["name", "enabled", "domain_id"]), ctx);
  };

  const showUserRoute = (ctx: RouteContext): Promise<Reply> => {
    const caller = ctx.caller();
    const user = userOr404(ctx.params.id ?? "");
    selfOrAdmin(caller, user.metadata.uid ?? "", "see the details");
    return Promise.resolve(reply(200, { user: showUser(user, ctx) }));
  };

  const updateUser = async (ctx: RouteContext): Promise<Reply> => {
    const caller = ctx.caller();
    const user = userOr404(ctx.params.id ?? "");
    const { user: input } = await ctx.body(userUpdateSchema);
    if (input.name != null && input.name !== openstackName(user) && identity.userByName(input.name) !== undefined) {
      throw conflict(`Conflict occurred attempting to store user - Duplicate entry found with name ${input.name} at domain ID default.`);
    }
    const spec: Record<string, unknown> = {};
    if (input.name != null) spec.name = input.name === user.metadata.name ? null : input.name;
    if (input.description !== undefined) spec.description = input.description;
    if (input.email !== undefined) spec.email = input.email;
    if (input.enabled != null) spec.enabled = input.enabled;
    if (input.default_project_id !== undefined) {
      spec.defaultProject = input.default_project_id === null ? null : projectOr404(input.default_project_id).metadata.name;
    }
    if (input.password != null) {
      spec.passwordHash = await hashSecret(input.password);
      spec.passwordChangedAt = identity.currentTime().toISOString();
    }
    const updated = await write(
      userKind,
      () => caller.kube.patch<User>(userKind, user.metadata.name ?? "", undefined, { spec }, "merge", { fieldManager: FACADE_MANAGER }),
      action("update_user", `user ${openstackName(user)}`),
    );
    return reply(200, { user: showUser(updated, ctx) });
  };

  const deleteUser = async (ctx: RouteContext): Promise<Reply> => {
    const caller = ctx.caller();
    const user = userOr404(ctx.params.id ?? "");
    await remove(caller, userKind, user, action("delete_user", `user ${openstackName(user)}`));
    // Keystone deletes a user's application credentials with it; they could not authenticate anyway.
    for (const credential of credentialsOf(user)) {
      await deps.client.delete(applicationCredentialKind, credential.metadata.name ?? "").catch((e: unknown) => {
        deps.logger.warn({ err: e, credential: credential.metadata.name }, "could not delete an application credential of a deleted user");
      });
    }
    return reply(204);
  };

  const changePassword = async (ctx: RouteContext): Promise<Reply> => {
    const caller = ctx.caller();
    const user = userOr404(ctx.params.id ?? "");
    if (caller.userId !== user.metadata.uid) throw forbidden("You can only change your own password.");
    const { user: input } = await ctx.body(passwordChangeSchema);
    const hash = user.spec.passwordHash;
    if (hash === undefined || !(await verifySecret(input.original_password, hash))) {
      throw new ApiError(401, "The original password is not correct.");
    }
    const passwordHash = await hashSecret(input.password);
    await store.write(userKind, () =>
      deps.client.patch<User>(
        userKind,
        user.metadata.name ?? "",
        undefined,
        { spec: { passwordHash, passwordChangedAt: identity.currentTime().toISOString() } },
        "merge",
        { fieldManager: FACADE_MANAGER },
      ),
    );
    return reply(204);
  };

  const userProjects = (ctx: RouteContext, user: User): Reply => {
    const projects = store
      .all<Project>(projectKind)
      .filter((p) => identity.rolesOf(user, p).length > 0)
      .map((p) => projectView(p, ctx.identityUrl));
    return list("projects", filterItems(projects, ctx.query, ["name", "enabled"]), ctx);
  };

  // ---- roles and assignments ----

  const updateMembers = async (
    caller: Caller,
    project: Project,
    change: (members: NonNullable<Project["spec"]["members"]>) => NonNullable<Project["spec"]["members"]> | undefined,
    policy: string,
  ): Promise<void> => {
    let current: Project | undefined = project;
    for (let attempt = 0; attempt < 5 && current !== undefined; attempt++) {
      const next = change(current.spec.members ?? []);
      if (next === undefined) return;
      const version = current.metadata.resourceVersion;
      try {
        await store.write(projectKind, () =>
          caller.kube.patch<Project>(
            projectKind,
            project.metadata.name ?? "",
            undefined,
            { metadata: { resourceVersion: version }, spec: { members: next } },
            "merge",
            { fieldManager: FACADE_MANAGER },
          ),
        );
        return;
      } catch (e) {
        if (!isConflict(e)) throw fromKubeError(e, "keystone", action(policy, `project ${openstackName(project)}`));
        current = await caller.kube.get<Project>(projectKind, project.metadata.name ?? "");
      }
    }
    throw conflict(`Project ${openstackName(project)} kept changing; retry the role assignment.`);
  };

  const assignment = (ctx: RouteContext) => ({
    project: projectOr404(ctx.params.project ?? ""),
    user: userOr404(ctx.params.user ?? ""),
    role: roleOr404(ctx.params.role ?? ""),
  });

  const grantRole = async (ctx: RouteContext): Promise<Reply> => {
    const caller = ctx.caller();
    const { project, user, role } = assignment(ctx);
    const name = user.metadata.name ?? "";
    await updateMembers(
      caller,
      project,
      (members) => (members.some((m) => m.user === name && m.role === role) ? undefined : [...members, { user: name, role }]),
      "create_grant",
    );
    return reply(204);
  };

  const revokeRole = async (ctx: RouteContext): Promise<Reply> => {
    const caller = ctx.caller();
    const { project, user, role } = assignment(ctx);
    const name = user.metadata.name ?? "";
    if (!(project.spec.members ?? []).some((m) => m.user === name && m.role === role)) {
      throw notFound(`Could not find role assignment with role: ${role}, user: ${user.metadata.uid ?? ""}, project: ${project.metadata.uid ?? ""}.`);
    }
    await updateMembers(
      caller,
      project,
      (members) => {
        const kept = members.filter((m) => !(m.user === name && m.role === role));
        return kept.length === members.length ? undefined : kept;
      },
      "revoke_grant",
    );
    return reply(204);
  };

  const checkRole = (ctx: RouteContext): Promise<Reply> => {
    const caller = ctx.caller();
    const { project, user, role } = assignment(ctx);
    selfOrAdmin(caller, user.metadata.uid ?? "", "see the roles");
    const granted = (project.spec.members ?? []).some((m) => m.user === user.metadata.name && m.role === role);
    if (!granted) {
      throw notFound(`Could not find role assignment with role: ${role}, user: ${user.metadata.uid ?? ""}, project: ${project.metadata.uid ?? ""}.`);
    }
    return Promise.resolve(reply(204));
  };

  const listUserProjectRoles = (ctx: RouteContext): Promise<Reply> => {
    const caller = ctx.caller();
    const project = projectOr404(ctx.params.project ?? "");
    const user = userOr404(ctx.params.user ?? "");
    selfOrAdmin(caller, user.metadata.uid ?? "", "see the roles");
    const roles = [...new Set((project.spec.members ?? []).filter((m) => m.user === user.metadata.name).map((m) => m.role))];
    return Promise.resolve(list("roles", roles.map((r) => roleView(r, ctx.identityUrl)), ctx));
  };

  const listRoleAssignments = (ctx: RouteContext): Promise<Reply> => {
    const caller = ctx.caller();
    const q = ctx.query;
    const userId = q.get("user.id") ?? undefined;
    const projectId = q.get("scope.project.id") ?? undefined;
    const roleFilter = q.get("role.id") ?? undefined;
    if (!caller.cloudAdmin && userId !== caller.userId) {
      throw forbidden("You are not authorized to list the role assignments of other users; filter on user.id of your own user.");
    }
    if (q.has("group.id")) return Promise.resolve(list("role_assignments", [], ctx));
    const effective = q.has("effective");
    const includeNames = queryFlag(q, "include_names");
    const projects = projectId === undefined ? store.all<Project>(projectKind) : [projectOr404(projectId)];
    const entries = projects.flatMap((project) => {
      const byUser = new Map<string, ProjectRole[]>();
      for (const m of project.spec.members ?? []) {
        if (m.user === undefined) continue;
        byUser.set(m.user, [...(byUser.get(m.user) ?? []), m.role]);
      }
      return [...byUser.entries()].flatMap(([kubeName, roles]) => {
        const user = identity.userByKubeName(kubeName);
        if (user === undefined || (userId !== undefined && user.metadata.uid !== userId)) return [];
        const shown = effective ? withImpliedRoles(roles) : [...new Set(roles)];
        return shown
          .filter((role) => roleFilter === undefined || roleByIdOrName(roleFilter) === role)
          .map((role) => roleAssignmentView({ user, project, role }, ctx.identityUrl, includeNames));
      });
    });
    return Promise.resolve(list("role_assignments", entries, ctx));
  };

  // ---- application credentials ----

  const credentialsOf = (user: User): ApplicationCredential[] =>
    store.all<ApplicationCredential>(applicationCredentialKind).filter((c) => c.spec.userId === user.metadata.uid);

  const credentialView = (credential: ApplicationCredential, ctx: RouteContext, secret?: string) =>
    applicationCredentialView(credential, {
      identityUrl: ctx.identityUrl,
      userId: credential.spec.userId,
      projectId: identity.projectByObjectName(credential.spec.project)?.metadata.uid ?? "",
      ...(secret === undefined ? {} : { secret }),
    });

  const createCredential = async (ctx: RouteContext): Promise<Reply> => {
    const caller = ctx.caller();
    const user = userOr404(ctx.params.user ?? "");
    if (caller.userId !== user.metadata.uid) throw forbidden("You can only create application credentials for yourself.");
    const project = caller.project;
    if (project === undefined) throw forbidden("Creating an application credential needs a project-scoped token.");
    if (caller.token.applicationCredentialId !== undefined) {
      const own = store.byUid<ApplicationCredential>(applicationCredentialKind, caller.token.applicationCredentialId);
      if (own?.spec.unrestricted !== true) {
        throw forbidden("A restricted application credential cannot create other application credentials.");
      }
    }
    const { application_credential: input } = await ctx.body(appCredCreateSchema);
    if (input.access_rules != null && input.access_rules.length > 0) throw badRequest("Access rules are not supported.");
    if (credentialsOf(user).some((c) => c.spec.name === input.name)) {
      throw conflict(`Conflict occurred attempting to store application_credential - Duplicate entry found with name ${input.name}.`);
    }
    let roles: ProjectRole[] = [...caller.roles];
    if (input.roles != null && input.roles.length > 0) {
      roles = input.roles.map((r) => {
        const role = roleByIdOrName(r.id ?? r.name ?? "");
        if (role === undefined || !caller.roles.includes(role)) {
          throw forbidden(`You do not hold the role ${r.id ?? r.name ?? ""} in this project, so a credential cannot have it.`);
        }
        return role;
      });
    }
    let expiresAt: string | undefined;
    if (input.expires_at != null) {
      const parsed = Date.parse(/[zZ]|[+-]\d\d:?\d\d$/.test(input.expires_at) ? input.expires_at : `${input.expires_at}Z`);
      if (Number.isNaN(parsed)) throw badRequest(`Invalid expires_at: ${input.expires_at}.`);
      if (parsed <= identity.currentTime().getTime()) throw badRequest("expires_at must be in the future.");
      expiresAt = new Date(parsed).toISOString();
    }
    const secret = input.secret ?? newSecret();
    const object: ApplicationCredential = {
      apiVersion: applicationCredentialKind.apiVersion,
      kind: applicationCredentialKind.kind,
      metadata: { name: `${slugOf(user.metadata.name ?? "user", 40) || "user"}-appcred-${randomSuffix(8)}` },
      spec: {
        name: input.name,
        ...(input.description == null ? {} : { description: input.description }),
        user: user.metadata.name ?? "",
        userId: user.metadata.uid ?? "",
        project: project.objectName,
        roles: PROJECT_ROLES.filter((r) => roles.includes(r)),
        secretHash: await hashSecret(secret),
        ...(expiresAt === undefined ? {} : { expiresAt }),
        ...(input.unrestricted === true ? { unrestricted: true } : {}),
      },
    };
    const created = await write(
      applicationCredentialKind,
      () => deps.client.create(applicationCredentialKind, object, { fieldManager: FACADE_MANAGER }),
      action("create_application_credential", `application credential ${input.name}`),
    );
    return reply(201, { application_credential: credentialView(created, ctx, secret) });
  };

  const credentialOr404 = (ctx: RouteContext): ApplicationCredential => {
    const caller = ctx.caller();
    const user = userOr404(ctx.params.user ?? "");
    selfOrAdmin(caller, user.metadata.uid ?? "", "manage the application credentials");
    const credential = store.byUid<ApplicationCredential>(applicationCredentialKind, ctx.params.id ?? "");
    if (credential === undefined || credential.spec.userId !== user.metadata.uid) {
      throw notFound(`Could not find Application Credential: ${ctx.params.id ?? ""}.`);
    }
    return credential;
  };

  // ---- writes ----

  async function write<T extends KubeObject>(
    kind: ResourceType,
    run: () => Promise<T>,
    failed: { policy: string; subject: string },
  ): Promise<T> {
    try {
      return await store.write(kind, run);
    } catch (e) {
      throw fromKubeError(e, "keystone", failed);
    }
  }

  async function remove(caller: Caller, kind: typeof projectKind | typeof userKind, obj: KubeObject, failed: { policy: string; subject: string }): Promise<void> {
    try {
      await caller.kube.delete(kind, obj.metadata.name ?? "");
    } catch (e) {
      throw fromKubeError(e, "keystone", failed);
    }
    await store.deleted(kind, obj);
  }

  const routes: Route[] = [
    {
      method: "GET",
      path: "/",
      public: true,
      handler: (ctx) => Promise.resolve(reply(300, { versions: { values: [versionDoc(ctx)] } })),
    },
    { method: "GET", path: "/v3", public: true, handler: (ctx) => Promise.resolve(reply(200, { version: versionDoc(ctx) })) },
    { method: "POST", path: "/v3/auth/tokens", public: true, handler: issueToken },
    {
      method: "GET",
      path: "/v3/auth/tokens",
      handler: (ctx) => {
        const valid = subjectToken(ctx);
        const body = identity.view(valid);
        if (ctx.query.has("nocatalog")) delete (body.token as { catalog?: unknown }).catalog;
        return Promise.resolve(reply(200, body, { "X-Subject-Token": valid.id }));
      },
    },
    {
      method: "HEAD",
      path: "/v3/auth/tokens",
      handler: (ctx) => {
        const valid = subjectToken(ctx);
        return Promise.resolve(reply(200, undefined, { "X-Subject-Token": valid.id }));
      },
    },
    {
      method: "DELETE",
      path: "/v3/auth/tokens",
      handler: async (ctx) => {
        const caller = ctx.caller();
        const valid = subjectToken(ctx);
        if (valid.user.metadata.uid !== caller.userId && !caller.cloudAdmin) throw forbidden("You can only revoke your own tokens.");
        await identity.revoke(valid);
        return reply(204);
      },
    },
    {
      method: "GET",
      path: "/v3/auth/catalog",
      handler: (ctx) => {
        const caller = ctx.caller();
        if (caller.project === undefined && caller.domainId === undefined) throw forbidden("An unscoped token has no catalog.");
        const catalog = buildCatalog({ publicUrl: deps.publicUrl(), region: deps.config.region }, caller.project?.id);
        return Promise.resolve(reply(200, { catalog, links: { self: `${ctx.serviceUrl}${ctx.path}`, previous: null, next: null } }));
      },
    },
    {
      method: "GET",
      path: "/v3/auth/projects",
      handler: (ctx) => Promise.resolve(userProjects(ctx, userOr404(ctx.caller().userId))),
    },
    {
      method: "GET",
      path: "/v3/auth/domains",
      handler: (ctx) => {
        const user = userOr404(ctx.caller().userId);
        return Promise.resolve(list("domains", identity.isCloudAdminUser(user) ? [domainView(ctx.identityUrl)] : [], ctx));
      },
    },
    { method: "GET", path: "/v3/auth/system", handler: (ctx) => Promise.resolve(list("system", [], ctx)) },
    { method: "GET", path: "/v3/domains", handler: (ctx) => Promise.resolve(list("domains", filterItems([domainView(ctx.identityUrl)], ctx.query, ["name", "enabled"]), ctx)) },
    {
      method: "GET",
      path: "/v3/domains/{id}",
      handler: (ctx) => {
        ctx.caller();
        if (ctx.params.id !== DEFAULT_DOMAIN.id) throw notFound(`Could not find domain: ${ctx.params.id ?? ""}.`);
        return Promise.resolve(reply(200, { domain: domainView(ctx.identityUrl) }));
      },
    },
    { method: "GET", path: "/v3/projects", handler: listProjects },
    { method: "POST", path: "/v3/projects", handler: createProject },
    { method: "GET", path: "/v3/projects/{id}", handler: async (ctx) => reply(200, { project: projectView(await readableProject(ctx), ctx.identityUrl) }) },
    { method: "PATCH", path: "/v3/projects/{id}", handler: updateProject },
    { method: "DELETE", path: "/v3/projects/{id}", handler: deleteProject },
    { method: "GET", path: "/v3/projects/{id}/tags", handler: async (ctx) => { await readableProject(ctx); return reply(200, { tags: [] }); } },
    { method: "GET", path: "/v3/projects/{project}/users/{user}/roles", handler: listUserProjectRoles },
    { method: "PUT", path: "/v3/projects/{project}/users/{user}/roles/{role}", handler: grantRole },
    { method: "HEAD", path: "/v3/projects/{project}/users/{user}/roles/{role}", handler: checkRole },
    { method: "GET", path: "/v3/projects/{project}/users/{user}/roles/{role}", handler: checkRole },
    { method: "DELETE", path: "/v3/projects/{project}/users/{user}/roles/{role}", handler: revokeRole },
    { method: "GET", path: "/v3/projects/{project}/groups/{group}/roles", handler: (ctx) => Promise.resolve(list("roles", [], ctx)) },
    { method: "GET", path: "/v3/users", handler: listUsers },
    { method: "POST", path: "/v3/users", handler: createUser },
    { method: "GET", path: "/v3/users/{id}", handler: showUserRoute },
    { method: "PATCH", path: "/v3/users/{id}", handler: updateUser },
    { method: "DELETE", path: "/v3/users/{id}", handler: deleteUser },
    { method: "POST", path: "/v3/users/{id}/password", handler: changePassword },
    {
      method: "GET",
      path: "/v3/users/{id}/projects",
      handler: (ctx) => {
        const user = userOr404(ctx.params.id ?? "");
        selfOrAdmin(ctx.caller(), user.metadata.uid ?? "", "list the projects");
        return Promise.resolve(userProjects(ctx, user));
      },
    },
    { method: "GET", path: "/v3/users/{id}/groups", handler: (ctx) => Promise.resolve(list("groups", [], ctx)) },
    { method: "GET", path: "/v3/groups", handler: (ctx) => Promise.resolve(list("groups", [], ctx)) },
    {
      method: "GET",
      path: "/v3/users/{user}/application_credentials",
      handler: (ctx) => {
        const user = userOr404(ctx.params.user ?? "");
        selfOrAdmin(ctx.caller(), user.metadata.uid ?? "", "list the application credentials");
        const views = credentialsOf(user).map((c) => credentialView(c, ctx));
        return Promise.resolve(list("application_credentials", filterItems(views, ctx.query, ["name"]), ctx));
      },
    },
    { method: "POST", path: "/v3/users/{user}/application_credentials", handler: createCredential },
    {
      method: "GET",
      path: "/v3/users/{user}/application_credentials/{id}",
      handler: (ctx) => Promise.resolve(reply(200, { application_credential: credentialView(credentialOr404(ctx), ctx) })),
    },
    {
      method: "DELETE",
      path: "/v3/users/{user}/application_credentials/{id}",
      handler: async (ctx) => {
        const credential = credentialOr404(ctx);
        await deps.client.delete(applicationCredentialKind, credential.metadata.name ?? "");
        await store.deleted(applicationCredentialKind, credential);
        return reply(204);
      },
    },
    {
      method: "GET",
      path: "/v3/roles",
      handler: (ctx) => {
        ctx.caller();
        const views = PROJECT_ROLES.map((r) => roleView(r, ctx.identityUrl));
        return Promise.resolve(list("roles", filterItems(views, ctx.query, ["name"]), ctx));
      },
    },
    {
      method: "GET",
      path: "/v3/roles/{id}",
      handler: (ctx) => {
        ctx.caller();
        const role = PROJECT_ROLES.find((r) => roleView(r, ctx.identityUrl).id === ctx.params.id);
        if (role === undefined) throw notFound(`Could not find role: ${ctx.params.id ?? ""}.`);
        return Promise.resolve(reply(200, { role: roleView(role, ctx.identityUrl) }));
      },
    },
    { method: "GET", path: "/v3/role_assignments", handler: listRoleAssignments },
    {
      method: "GET",
      path: "/v3/services",
      handler: (ctx) => {
        ctx.caller();
        return Promise.resolve(list("services", filterItems(catalogServices(), ctx.query, ["type", "name"]), ctx));
      },
    },
    {
      method: "GET",
      path: "/v3/endpoints",
      handler: (ctx) => {
        ctx.caller();
        const endpoints = catalogEndpoints({ publicUrl: deps.publicUrl(), region: deps.config.region });
        return Promise.resolve(list("endpoints", filterItems(endpoints, ctx.query, ["interface", "service_id", "region_id"]), ctx));
      },
    },
    {
      method: "GET",
      path: "/v3/regions",
      handler: (ctx) => {
        ctx.caller();
        return Promise.resolve(list("regions", [regionView(ctx)], ctx));
      },
    },
    {
      method: "GET",
      path: "/v3/regions/{id}",
      handler: (ctx) => {
        ctx.caller();
        if (ctx.params.id !== deps.config.region) throw notFound(`Could not find region: ${ctx.params.id ?? ""}.`);
        return Promise.resolve(reply(200, { region: regionView(ctx) }));
      },
    },
  ];

  function regionView(ctx: RouteContext) {
    const id = deps.config.region;
    return { id, description: "", parent_region_id: null, links: { self: `${ctx.identityUrl}/v3/regions/${id}` } };
  }

  return { type: "identity", prefix: SERVICE_PREFIXES.identity, faultStyle: "keystone", routes };
}
