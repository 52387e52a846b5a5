// Keystone's authentication: password, token and application-credential methods, project and domain scope, and
// the validation every request's token goes through. Validation re-checks what can change after issue (the
// user disabled or deleted, a password change, a revocation, roles taken away, the project gone), so a token is
// only as good as the identity behind it right now, as in Keystone.
import { z } from "zod";
import {
  applicationCredentialKind,
  openstackName,
  projectKind,
  projectRoleGroup,
  tokenRevocationKind,
  userKind,
  type ApplicationCredential,
  type Project,
  type ProjectRole,
  type TokenRevocation,
  type User,
} from "../../api/index.js";
import { isAlreadyExists, type KubeClient, type Logger } from "../../kube/index.js";
import { AccessReviewer, type Caller } from "../common/caller.js";
import { ApiError, badRequest, unauthorized } from "../common/errors.js";
import type { FacadeStore } from "../common/store.js";
import { FACADE_MANAGER } from "../common/tenant.js";
import { buildCatalog, type CatalogOptions } from "./catalog.js";
import { verifySecret } from "./secrets.js";
import { TokenSigner, newAuditId, revocationName, type TokenPayload } from "./tokens.js";
import { DEFAULT_DOMAIN, tokenView, withImpliedRoles } from "./views.js";

/** The Kubernetes group of cloud administrators (admin role in the admin project), bound to full altostack.io access. */
export const CLOUD_ADMIN_GROUP = "altostack:cloud-admin";

const AUTH_FAILED = "The request you have made requires authentication.";
const METHODS = ["password", "token", "application_credential"] as const;

const domainRef = z.object({ id: z.string().nullish(), name: z.string().nullish() }).nullish();
const userRef = z.object({ id: z.string().nullish(), name: z.string().nullish(), domain: domainRef });

export const authRequestSchema = z.object({
  auth: z.object({
    identity: z.object({
      methods: z.array(z.string()).min(1),
      password: z.object({ user: userRef.extend({ password: z.string() }) }).nullish(),
      token: z.object({ id: z.string().min(1) }).nullish(),
      application_credential: z
        .object({ id: z.string().nullish(), name: z.string().nullish(), secret: z.string(), user: userRef.nullish() })
        .nullish(),
    }),
    scope: z
      .union([
        z.literal("unscoped"),
        z.object({
          project: z.object({ id: z.string().nullish(), name: z.string().nullish(), domain: domainRef }).nullish(),
          domain: z.object({ id: z.string().nullish(), name: z.string().nullish() }).nullish(),
          system: z.looseObject({}).nullish(),
        }),
      ])
      .nullish(),
  }),
});
export type AuthRequest = z.infer<typeof authRequestSchema>;

export interface ValidToken {
  id: string;
  payload: TokenPayload;
  user: User;
  project: Project | undefined;
  domainScoped: boolean;
  roles: ProjectRole[];
  cloudAdmin: boolean;
  applicationCredential: ApplicationCredential | undefined;
}

export interface IdentityOptions {
  store: FacadeStore;
  /** The facade's own client: reads for authentication and identity bookkeeping writes. */
  client: KubeClient;
  signer: TokenSigner;
  tokenTtlMs: number;
  /** metadata.name of the project whose admins are cloud admins. */
  adminProject: string;
  catalog: () => CatalogOptions;
  reviewer?: AccessReviewer;
  logger: Logger;
  now?: () => Date;
}

export class IdentityService {
  private readonly store: FacadeStore;
  private readonly reviewer: AccessReviewer;
  private readonly now: () => Date;

  constructor(private readonly opts: IdentityOptions) {
    this.store = opts.store;
    this.reviewer = opts.reviewer ?? new AccessReviewer();
    this.now = opts.now ?? (() => new Date());
  }

  /** The clock tokens are issued and checked against; identity changes that invalidate tokens use it too. */
  currentTime(): Date {
    return this.now();
  }

  // ---- lookups ----

  userById(id: string): User | undefined {
    return this.store.byUid<User>(userKind, id);
  }

  /** By Keystone name in the default domain (names are unique there). */
  userByName(name: string): User | undefined {
    return this.store.all<User>(userKind).find((u) => openstackName(u) === name);
  }

  userByKubeName(name: string): User | undefined {
    return this.store.get<User>(userKind, name);
  }

  projectById(id: string): Project | undefined {
    return this.store.byUid<Project>(projectKind, id);
  }

  projectByName(name: string): Project | undefined {
    return this.store.all<Project>(projectKind).find((p) => openstackName(p) === name);
  }

  projectByObjectName(name: string): Project | undefined {
    return this.store.get<Project>(projectKind, name);
  }

  /** The user's effective roles in a project (from spec.members, implied roles included). */
  rolesOf(user: User, project: Project): ProjectRole[] {
    const name = user.metadata.name;
    return withImpliedRoles((project.spec.members ?? []).filter((m) => m.user === name).map((m) => m.role));
  }

  isCloudAdminUser(user: User): boolean {
    const admin = this.projectByObjectName(this.opts.adminProject);
    return admin !== undefined && this.rolesOf(user, admin).includes("admin");
  }

  // ---- authentication ----

  async issue(request: AuthRequest): Promise<ValidToken> {
    const { identity, scope } = request.auth;
    const methods = [...new Set(identity.methods)];
    for (const method of methods) {
      if (!(METHODS as readonly string[]).includes(method)) throw this.denied(`Unsupported authentication method: ${method}.`);
    }
    let user: User | undefined;
    let parent: ValidToken | undefined;
    let credential: ApplicationCredential | undefined;
    const sameUser = (candidate: User): User => {
      if (user !== undefined && user.metadata.uid !== candidate.metadata.uid) throw this.denied(AUTH_FAILED);
      return candidate;
    };
    if (methods.includes("password")) {
      if (identity.password == null) throw badRequest("Expecting to find password in identity.");
      user = sameUser(await this.passwordUser(identity.password.user));
    }
    if (methods.includes("token")) {
      if (identity.token == null) throw badRequest("Expecting to find token in identity.");
      parent = this.validate(identity.token.id);
      if (parent.applicationCredential !== undefined) {
        throw this.denied("A token created with an application credential cannot be used to get another token.");
      }
      user = sameUser(parent.user);
    }
    if (methods.includes("application_credential")) {
      if (identity.application_credential == null) throw badRequest("Expecting to find application_credential in identity.");
      const found = await this.credentialUser(identity.application_credential);
      credential = found.credential;
      user = sameUser(found.user);
    }
    if (user === undefined) throw badRequest("No authentication method was given.");

    let project: Project | undefined;
    let domainScoped = false;
    if (credential !== undefined) {
      if (scope != null && scope !== "unscoped" && (scope.project != null || scope.domain != null || scope.system != null)) {
        throw this.denied("Application credentials cannot request a scope.");
      }
      project = this.enabledProject(this.projectByObjectName(credential.spec.project), user);
    } else if (scope != null && scope !== "unscoped") {
      if (scope.system != null) throw this.denied("System-scoped tokens are not supported; scope to a project or domain.");
      if (scope.project != null) project = this.enabledProject(this.resolveProject(scope.project), user);
      else if (scope.domain != null) {
        this.requireDefaultDomain(scope.domain);
        domainScoped = true;
      }
    } else if (scope == null && parent === undefined && user.spec.defaultProject !== undefined) {
      // Keystone scopes a login without scope to the user's default project, when the user may use it.
      const fallback = this.projectByObjectName(user.spec.defaultProject);
      if (fallback !== undefined && fallback.spec.enabled !== false && this.rolesOf(user, fallback).length > 0) project = fallback;
    }

    const now = this.now().getTime();
    let expires = parent === undefined ? now + this.opts.tokenTtlMs : parent.payload.exp;
    if (credential?.spec.expiresAt !== undefined) expires = Math.min(expires, Date.parse(credential.spec.expiresAt));
    const payload: TokenPayload = {
      v: 1,
      u: user.metadata.uid ?? "",
      m: methods,
      ...(project === undefined ? {} : { p: project.metadata.uid ?? "" }),
      ...(domainScoped ? { d: DEFAULT_DOMAIN.id } : {}),
      iat: now,
      exp: expires,
      a: newAuditId(),
      ...(parent === undefined ? {} : { c: parent.payload.c ?? parent.payload.a }),
      ...(credential === undefined ? {} : { ac: credential.metadata.uid ?? "" }),
    };
    // Validating what we just signed applies every rule (roles, domain access) in one place.
    return this.validate(this.opts.signer.sign(payload));
  }

  /** The token's identity as of now; 401 when it is not (or no longer) valid. */
  validate(token: string): ValidToken {
    const verified = this.opts.signer.verify(token, this.now().getTime());
    if (!verified.ok) throw this.denied(AUTH_FAILED);
    return this.validatePayload(token, verified.payload);
  }

  /**
   * The identity a token payload grants as of now (revocation, user, project, roles), for a payload whose
   * signature was checked already: a Keystone token's, or the one a console token carries.
   */
  validatePayload(token: string, payload: TokenPayload): ValidToken {
    const now = this.now().getTime();
    if (payload.exp <= now) throw this.denied(AUTH_FAILED);
    if (this.isRevoked(payload.a)) throw this.denied(AUTH_FAILED);
    const user = this.userById(payload.u);
    if (user === undefined || user.spec.enabled === false) throw this.denied(AUTH_FAILED);
    const changed = user.spec.passwordChangedAt === undefined ? 0 : Date.parse(user.spec.passwordChangedAt);
    if (changed > payload.iat) throw this.denied(AUTH_FAILED);

    let credential: ApplicationCredential | undefined;
    if (payload.ac !== undefined) {
      credential = this.store.byUid<ApplicationCredential>(applicationCredentialKind, payload.ac);
      const expired = credential?.spec.expiresAt !== undefined && Date.parse(credential.spec.expiresAt) <= now;
      if (credential === undefined || credential.spec.userId !== user.metadata.uid || expired) throw this.denied(AUTH_FAILED);
    }
    let project: Project | undefined;
    let roles: ProjectRole[] = [];
    if (payload.p !== undefined) {
      project = this.projectById(payload.p);
      if (project === undefined || project.spec.enabled === false) throw this.denied(AUTH_FAILED);
      roles = this.rolesOf(user, project);
      if (credential !== undefined) roles = roles.filter((r) => credential.spec.roles.includes(r));
      if (roles.length === 0) {
        throw this.denied(`User ${user.metadata.uid ?? ""} has no access to project ${payload.p}.`);
      }
    }
    const domainScoped = payload.d !== undefined;
    if (domainScoped) {
      if (!this.isCloudAdminUser(user)) throw this.denied(`User ${user.metadata.uid ?? ""} has no access to domain ${payload.d ?? ""}.`);
      roles = withImpliedRoles(["admin"]);
    }
    const cloudAdmin =
      (project?.metadata.name === this.opts.adminProject && roles.includes("admin")) || domainScoped;
    return {
      id: token,
      payload,
      user,
      project,
      domainScoped,
      roles,
      cloudAdmin,
      applicationCredential: credential,
    };
  }

  /** The request-scoped caller for a valid token: impersonating client and access reviews. */
  callerOf(valid: ValidToken): Caller {
    const project = valid.project;
    const groups = project === undefined ? [] : valid.roles.map((r) => projectRoleGroup(project.metadata.name ?? "", r));
    if (valid.cloudAdmin) groups.push(CLOUD_ADMIN_GROUP);
    const kubeUser = valid.user.metadata.name ?? "";
    const kube = this.opts.client.impersonate({ user: kubeUser, groups });
    const identityKey = `${kubeUser}|${groups.join(",")}`;
    return {
      userId: valid.user.metadata.uid ?? "",
      userName: openstackName(valid.user),
      kubeUser,
      project:
        project === undefined
          ? undefined
          : {
              id: project.metadata.uid ?? "",
              name: openstackName(project),
              objectName: project.metadata.name ?? "",
              namespace: project.status?.namespace ?? `project-${project.metadata.name ?? ""}`,
            },
      domainId: valid.domainScoped ? DEFAULT_DOMAIN.id : undefined,
      roles: valid.roles,
      cloudAdmin: valid.cloudAdmin,
      token: {
        id: valid.id,
        methods: valid.payload.m,
        auditIds: auditIds(valid.payload),
        issuedAt: new Date(valid.payload.iat),
        expiresAt: new Date(valid.payload.exp),
        applicationCredentialId: valid.payload.ac,
      },
      kube,
      can: (check) => this.reviewer.can(kube, identityKey, check),
    };
  }

  /** The caller of a request carrying `token` (the server's authenticate hook); rejects with a 401 ApiError. */
  authenticate(token: string): Promise<Caller> {
    return new Promise((resolve) => {
      resolve(this.callerOf(this.validate(token)));
    });
  }

  /** The token response body (with the catalog for scoped tokens). */
  view(valid: ValidToken) {
    return tokenView({
      methods: valid.payload.m,
      user: valid.user,
      project: valid.project,
      domainScoped: valid.domainScoped,
      roles: valid.roles,
      issuedAt: new Date(valid.payload.iat),
      expiresAt: new Date(valid.payload.exp),
      auditIds: auditIds(valid.payload),
      catalog: valid.project === undefined && !valid.domainScoped ? undefined : buildCatalog(this.opts.catalog(), valid.project?.metadata.uid),
      applicationCredential: valid.applicationCredential,
    });
  }

  // ---- revocation ----

  isRevoked(auditId: string): boolean {
    return this.store.get<TokenRevocation>(tokenRevocationKind, revocationName(auditId)) !== undefined;
  }

  /** Records the revocation (idempotent) and returns once this facade's cache knows it. */
  async revoke(valid: ValidToken): Promise<void> {
    const name = revocationName(valid.payload.a);
    const expiresAt = new Date(valid.payload.exp).toISOString();
    try {
      await this.store.write(tokenRevocationKind, () =>
        this.opts.client.create<TokenRevocation>(tokenRevocationKind, {
          apiVersion: tokenRevocationKind.apiVersion,
          kind: tokenRevocationKind.kind,
          metadata: { name },
          spec: { auditId: valid.payload.a, expiresAt },
        }, { fieldManager: FACADE_MANAGER }),
      );
    } catch (e) {
      if (!isAlreadyExists(e)) throw e;
    }
    void this.forgetExpiredRevocations();
  }

  /** Revocations of tokens that have expired anyway are no longer needed. */
  async forgetExpiredRevocations(): Promise<void> {
    const now = this.now().getTime();
    for (const revocation of this.store.all<TokenRevocation>(tokenRevocationKind)) {
      if (Date.parse(revocation.spec.expiresAt) >= now || revocation.metadata.name === undefined) continue;
      await this.opts.client.delete(tokenRevocationKind, revocation.metadata.name).catch((e: unknown) => {
        this.opts.logger.warn({ err: e, revocation: revocation.metadata.name }, "could not delete an expired token revocation");
      });
    }
  }

  // ---- helpers ----

  private denied(message: string): ApiError {
    return unauthorized(message, undefined);
  }

  private findUser(ref: { id?: string | null | undefined; name?: string | null | undefined; domain?: { id?: string | null; name?: string | null } | null | undefined }): User | undefined {
    if (ref.id != null) return this.userById(ref.id);
    if (ref.name == null) throw badRequest("A user needs an id, or a name and a domain.");
    if (ref.domain != null && !isDefaultDomain(ref.domain)) return undefined;
    return this.userByName(ref.name);
  }

  private async passwordUser(ref: z.infer<typeof userRef> & { password: string }): Promise<User> {
    const user = this.findUser(ref);
    // The same answer for an unknown user, a wrong password and a disabled user: no user enumeration.
    const hash = user?.spec.passwordHash;
    const ok = hash !== undefined && (await verifySecret(ref.password, hash));
    if (user === undefined || !ok || user.spec.enabled === false) throw this.denied(AUTH_FAILED);
    return user;
  }

  private async credentialUser(ref: {
    id?: string | null | undefined;
    name?: string | null | undefined;
    secret: string;
    user?: z.infer<typeof userRef> | null | undefined;
  }): Promise<{ user: User; credential: ApplicationCredential }> {
    let credential: ApplicationCredential | undefined;
    if (ref.id != null) {
      credential = this.store.byUid<ApplicationCredential>(applicationCredentialKind, ref.id);
    } else if (ref.name != null && ref.user != null) {
      const owner = this.findUser(ref.user);
      credential =
        owner === undefined
          ? undefined
          : this.store
              .all<ApplicationCredential>(applicationCredentialKind)
              .find((c) => c.spec.name === ref.name && c.spec.userId === owner.metadata.uid);
    } else {
      throw badRequest("An application credential needs an id, or a name and its user.");
    }
    const user = credential === undefined ? undefined : this.userById(credential.spec.userId);
    const ok = credential !== undefined && (await verifySecret(ref.secret, credential.spec.secretHash));
    const expired = credential?.spec.expiresAt !== undefined && Date.parse(credential.spec.expiresAt) <= this.now().getTime();
    if (credential === undefined || user === undefined || !ok || expired || user.spec.enabled === false) {
      throw this.denied(AUTH_FAILED);
    }
    return { user, credential };
  }

  private resolveProject(ref: {
    id?: string | null | undefined;
    name?: string | null | undefined;
    domain?: { id?: string | null; name?: string | null } | null | undefined;
  }): Project | undefined {
    if (ref.id != null) return this.projectById(ref.id);
    if (ref.name == null) throw badRequest("A project scope needs an id, or a name and a domain.");
    if (ref.domain != null && !isDefaultDomain(ref.domain)) return undefined;
    return this.projectByName(ref.name);
  }

  private enabledProject(project: Project | undefined, user: User): Project {
    if (project === undefined || project.spec.enabled === false || project.metadata.deletionTimestamp !== undefined) {
      throw this.denied(`User ${user.metadata.uid ?? ""} has no access to the requested project.`);
    }
    return project;
  }

  private requireDefaultDomain(domain: { id?: string | null | undefined; name?: string | null | undefined }): void {
    if (!isDefaultDomain(domain)) throw this.denied("Could not find the requested domain; only the default domain exists.");
  }
}

function isDefaultDomain(domain: { id?: string | null | undefined; name?: string | null | undefined }): boolean {
  return domain.id === DEFAULT_DOMAIN.id || (domain.id == null && domain.name === DEFAULT_DOMAIN.name);
}

function auditIds(payload: TokenPayload): string[] {
  return payload.c === undefined ? [payload.a] : [payload.a, payload.c];
}
