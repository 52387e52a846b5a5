// The authenticated caller of a request, and how the facade acts as them. Writes go through `kube`, a client
// impersonating the caller (user + the groups `altostack:project:<project>:<role>`), so the apiserver's RBAC is
// the tenant wall. Reads are served from the facade's watch caches, but only after the apiserver said the caller
// may read that resource there: a SelfSubjectAccessReview sent as the caller, remembered for a few seconds.
import type { ProjectRole } from "../../api/index.js";
import type { KubeClient, ResourceType } from "../../kube/index.js";
import { forbidden } from "./errors.js";

export interface CallerProject {
  /** Keystone id: the Project's uid. */
  id: string;
  /** OpenStack name. */
  name: string;
  /** The Project's metadata.name. */
  objectName: string;
  /** The namespace holding its resources. */
  namespace: string;
}

export interface CallerToken {
  /** The token as the client sent it. */
  id: string;
  methods: readonly string[];
  auditIds: readonly string[];
  issuedAt: Date;
  expiresAt: Date;
  applicationCredentialId: string | undefined;
}

export interface AccessCheck {
  verb: "get" | "list" | "watch" | "create" | "update" | "patch" | "delete";
  resource: ResourceType & { plural: string };
  /** e.g. `vnc` of KubeVirt's `virtualmachineinstances/vnc`. */
  subresource?: string | undefined;
  namespace?: string | undefined;
  name?: string | undefined;
}

export interface Caller {
  /** Keystone user id: the User's uid. */
  userId: string;
  /** Keystone user name. */
  userName: string;
  /** The Kubernetes user the facade impersonates (the User's metadata.name). */
  kubeUser: string;
  /** Set for project-scoped tokens. */
  project: CallerProject | undefined;
  /** Set for domain-scoped tokens (only the default domain exists). */
  domainId: string | undefined;
  /** Effective roles in the project, implied ones included (admin ⇒ member ⇒ reader). */
  roles: readonly ProjectRole[];
  /** Holds the admin role in the cloud's admin project: may act on every project. */
  cloudAdmin: boolean;
  token: CallerToken;
  /** A client that impersonates the caller. */
  kube: KubeClient;
  /** Whether the apiserver lets the caller do `check` (cached briefly). */
  can(check: AccessCheck): Promise<boolean>;
}

/** The caller's project, or 403 for tokens that are not project-scoped. */
export function requireProject(caller: Caller): CallerProject {
  if (caller.project === undefined) {
    throw forbidden("This request needs a project-scoped token; authenticate with a project (e.g. --os-project-name).");
  }
  return caller.project;
}

/**
 * 403 unless the caller may `check`. For reads served from the cache: the apiserver's RBAC decides, the cache
 * only supplies the data.
 */
export async function requireAccess(caller: Caller, check: AccessCheck, action: string): Promise<void> {
  if (!(await caller.can(check))) throw forbidden(`Policy doesn't allow ${action} to be performed.`);
}

interface CachedVerdict {
  allowed: boolean;
  expiresAt: number;
}

/** SelfSubjectAccessReviews sent as the caller, with a short memory so a busy client costs few reviews. */
export class AccessReviewer {
  private readonly verdicts = new Map<string, CachedVerdict>();

  constructor(
    private readonly ttlMs = 5_000,
    private readonly maxEntries = 10_000,
    private readonly now: () => number = Date.now,
  ) {}

  async can(kube: KubeClient, identityKey: string, check: AccessCheck): Promise<boolean> {
    const key = [identityKey, check.verb, check.resource.group, check.resource.plural, check.subresource ?? "", check.namespace ?? "", check.name ?? ""].join("|");
    const cached = this.verdicts.get(key);
    const now = this.now();
    if (cached !== undefined && cached.expiresAt > now) return cached.allowed;
    const allowed = await selfSubjectAccessReview(kube, check);
    if (this.verdicts.size >= this.maxEntries) this.verdicts.clear();
    this.verdicts.set(key, { allowed, expiresAt: now + this.ttlMs });
    return allowed;
  }
}

async function selfSubjectAccessReview(kube: KubeClient, check: AccessCheck): Promise<boolean> {
  const response = await kube.requestJson({
    method: "POST",
    path: "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews",
    body: {
      apiVersion: "authorization.k8s.io/v1",
      kind: "SelfSubjectAccessReview",
      spec: {
        resourceAttributes: {
          verb: check.verb,
          group: check.resource.group,
          resource: check.resource.plural,
          ...(check.subresource === undefined ? {} : { subresource: check.subresource }),
          ...(check.namespace === undefined ? {} : { namespace: check.namespace }),
          ...(check.name === undefined ? {} : { name: check.name }),
        },
      },
    },
  });
  const status = (response as { status?: { allowed?: unknown } } | null)?.status;
  return status?.allowed === true;
}
