// The identity service's rules, on real watch caches fed by a static list (no apiserver): which requests get a
// token, what it carries, and what makes an issued token invalid later.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  API_VERSION,
  applicationCredentialKind,
  projectKind,
  tokenRevocationKind,
  userKind,
  type ApplicationCredential,
  type Project,
  type TokenRevocation,
  type User,
} from "../../api/index.js";
import { CacheSet, silentLogger, type KubeObject, type ListResult, type ListWatchClient, type ResourceType, type WatchEvent } from "../../kube/index.js";
import { testClient } from "../../kube/testing.js";
import { ApiError } from "../common/errors.js";
import { FacadeStore } from "../common/store.js";
import { CLOUD_ADMIN_GROUP, IdentityService, type AuthRequest } from "./identity.js";
import { hashSecret } from "./secrets.js";
import { TokenSigner, revocationName } from "./tokens.js";

/** Lists what it was given per kind; watches stay open and silent until stopped. */
class StaticListWatch implements ListWatchClient {
  constructor(private readonly objects: Map<string, KubeObject[]>) {}
  listAll<T extends KubeObject>(rt: ResourceType): Promise<ListResult<T>> {
    return Promise.resolve({ items: (this.objects.get(rt.plural) ?? []) as T[], resourceVersion: "1" });
  }
  watch<T extends KubeObject>(_rt: ResourceType, _opts: unknown, signal?: AbortSignal): AsyncIterable<WatchEvent<T>> {
    return {
      [Symbol.asyncIterator]: () => ({
        next: () =>
          new Promise<IteratorResult<WatchEvent<T>>>((resolve) => {
            signal?.addEventListener("abort", () => {
              resolve({ done: true, value: undefined });
            });
          }),
      }),
    };
  }
}

const fast = { N: 1024, r: 8, p: 1 };
const NOW = Date.parse("2026-06-01T12:00:00Z");
let clock = NOW;

const user = (name: string, uid: string, spec: User["spec"]): User => ({ apiVersion: API_VERSION, kind: "User", metadata: { name, uid }, spec });
const project = (name: string, uid: string, members: NonNullable<Project["spec"]["members"]>, spec: Project["spec"] = {}): Project => ({
  apiVersion: API_VERSION,
  kind: "Project",
  metadata: { name, uid },
  spec: { ...spec, members },
  status: { namespace: `project-${name}` },
});

let caches: CacheSet;
let identity: IdentityService;
const signer = new TokenSigner([Buffer.alloc(32, 7)]);

beforeAll(async () => {
  const hash = await hashSecret("pw", fast);
  const credentialHash = await hashSecret("s3cret", fast);
  const revocation: TokenRevocation = {
    apiVersion: API_VERSION,
    kind: "TokenRevocation",
    metadata: { name: revocationName("AAAAAAAAAAAAAAAAAAAAAA") },
    spec: { auditId: "AAAAAAAAAAAAAAAAAAAAAA", expiresAt: new Date(NOW + 3_600_000).toISOString() },
  };
  const entries: [string, KubeObject[]][] = [
    [
      userKind.plural,
      [
        user("root", "u-root", { passwordHash: hash }),
        user("alice", "u-alice", { passwordHash: hash, defaultProject: "demo" }),
        user("bob", "u-bob", { passwordHash: hash, enabled: false }),
        user("carol", "u-carol", { passwordHash: hash, passwordChangedAt: new Date(NOW).toISOString() }),
        user("nobody", "u-nobody", { passwordHash: hash }),
      ],
    ],
    [
      projectKind.plural,
      [
        project("admin", "p-admin", [{ user: "root", role: "admin" }]),
        project("demo", "p-demo", [{ user: "alice", role: "member" }, { user: "root", role: "admin" }, { user: "carol", role: "reader" }]),
        project("off", "p-off", [{ user: "alice", role: "member" }], { enabled: false }),
      ],
    ],
    [
      applicationCredentialKind.plural,
      [
        {
          apiVersion: API_VERSION,
          kind: "ApplicationCredential",
          metadata: { name: "alice-ci", uid: "ac-1" },
          spec: { name: "ci", user: "alice", userId: "u-alice", project: "demo", roles: ["reader"], secretHash: credentialHash },
        } satisfies ApplicationCredential as KubeObject,
        {
          apiVersion: API_VERSION,
          kind: "ApplicationCredential",
          metadata: { name: "alice-old", uid: "ac-2" },
          spec: { name: "old", user: "alice", userId: "u-alice", project: "demo", roles: ["member"], secretHash: credentialHash, expiresAt: new Date(NOW - 1000).toISOString() },
        } satisfies ApplicationCredential as KubeObject,
      ],
    ],
    [tokenRevocationKind.plural, [revocation]],
  ];
  const objects = new Map(entries);
  caches = new CacheSet(new StaticListWatch(objects), silentLogger());
  const store = new FacadeStore(caches);
  for (const kind of [userKind, projectKind, applicationCredentialKind, tokenRevocationKind]) store.cache(kind);
  await caches.startAll();
  identity = new IdentityService({
    store,
    client: testClient("http://127.0.0.1:1"),
    signer,
    tokenTtlMs: 3_600_000,
    adminProject: "admin",
    catalog: () => ({ publicUrl: "http://cloud", region: "RegionOne" }),
    logger: silentLogger(),
    now: () => new Date(clock),
  });
});

afterAll(async () => {
  await caches.stopAll();
});

const password = (name: string, secret = "pw", scope?: AuthRequest["auth"]["scope"]): AuthRequest => ({
  auth: { identity: { methods: ["password"], password: { user: { name, domain: { id: "default" }, password: secret } } }, ...(scope === undefined ? {} : { scope }) },
});
const inProject = (name: string) => ({ project: { name, domain: { name: "Default" } } });

async function refused(promise: Promise<unknown>): Promise<ApiError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ApiError);
  return error as ApiError;
}

describe("password authentication", () => {
  it("scopes to a project with the user's roles, implied ones included, and signs a token that validates", async () => {
    clock = NOW;
    const valid = await identity.issue(password("alice", "pw", inProject("demo")));
    expect(valid.project?.metadata.uid).toBe("p-demo");
    expect(valid.roles).toEqual(["member", "reader"]);
    expect(valid.cloudAdmin).toBe(false);
    expect(valid.payload.exp - valid.payload.iat).toBe(3_600_000);
    expect(identity.validate(valid.id).user.metadata.uid).toBe("u-alice");
    const body = identity.view(valid).token;
    expect(body.catalog?.map((c) => c.type)).toContain("compute");
  });

  it("gives the same 401 for a wrong password, an unknown user and a disabled user", async () => {
    for (const request of [password("alice", "nope"), password("mallory"), password("bob")]) {
      const error = await refused(identity.issue(request));
      expect(error.status).toBe(401);
      expect(error.message).toBe("The request you have made requires authentication.");
    }
  });

  it("refuses projects the user has no role in, disabled projects and other domains", async () => {
    expect((await refused(identity.issue(password("nobody", "pw", inProject("demo"))))).status).toBe(401);
    expect((await refused(identity.issue(password("alice", "pw", inProject("off"))))).status).toBe(401);
    expect((await refused(identity.issue(password("alice", "pw", { project: { name: "demo", domain: { name: "Other" } } })))).status).toBe(401);
  });

  it("lands in the default project when no scope is asked for, and stays unscoped when asked", async () => {
    expect((await identity.issue(password("alice"))).project?.metadata.name).toBe("demo");
    const unscoped = await identity.issue(password("alice", "pw", "unscoped"));
    expect(unscoped.project).toBeUndefined();
    expect(identity.view(unscoped).token).not.toHaveProperty("catalog");
  });

  it("makes cloud admins only of admins in the admin project, and lets only them scope to the domain", async () => {
    const root = await identity.issue(password("root", "pw", inProject("admin")));
    expect(root.cloudAdmin).toBe(true);
    const rootElsewhere = await identity.issue(password("root", "pw", inProject("demo")));
    expect(rootElsewhere.cloudAdmin).toBe(false);
    const domain = await identity.issue(password("root", "pw", { domain: { id: "default" } }));
    expect(domain.domainScoped).toBe(true);
    expect((await refused(identity.issue(password("alice", "pw", { domain: { id: "default" } })))).status).toBe(401);
  });

  it("impersonates the user with one group per role in the project (and the cloud-admin group for cloud admins)", async () => {
    const caller = identity.callerOf(await identity.issue(password("alice", "pw", inProject("demo"))));
    expect(caller.kubeUser).toBe("alice");
    expect(caller.project).toEqual({ id: "p-demo", name: "demo", objectName: "demo", namespace: "project-demo" });
    const admin = identity.callerOf(await identity.issue(password("root", "pw", inProject("admin"))));
    expect(admin.cloudAdmin).toBe(true);
    expect(admin.roles).toEqual(["admin", "member", "reader"]);
    expect(CLOUD_ADMIN_GROUP).toBe("altostack:cloud-admin");
  });
});

describe("token and application-credential methods", () => {
  it("rescopes a token keeping its expiry, and chains the audit ids", async () => {
    clock = NOW;
    const first = await identity.issue(password("alice", "pw", "unscoped"));
    clock = NOW + 60_000;
    const second = await identity.issue({ auth: { identity: { methods: ["token"], token: { id: first.id } }, scope: inProject("demo") } });
    expect(second.payload.exp).toBe(first.payload.exp);
    expect(second.payload.c).toBe(first.payload.a);
    expect(second.payload.a).not.toBe(first.payload.a);
    clock = NOW;
  });

  it("authenticates an application credential with its project and only its roles", async () => {
    const valid = await identity.issue({ auth: { identity: { methods: ["application_credential"], application_credential: { id: "ac-1", secret: "s3cret" } } } });
    expect(valid.project?.metadata.name).toBe("demo");
    expect(valid.roles).toEqual(["reader"]);
    const byName = await identity.issue({
      auth: { identity: { methods: ["application_credential"], application_credential: { name: "ci", secret: "s3cret", user: { name: "alice", domain: { id: "default" } } } } },
    });
    expect(byName.applicationCredential?.metadata.uid).toBe("ac-1");
    expect(identity.view(valid).token.application_credential).toEqual({ id: "ac-1", name: "ci", restricted: true });
  });

  it("refuses a wrong secret, an expired credential, a requested scope, and rescoping a credential's token", async () => {
    const credential = (id: string, secret: string) => ({ methods: ["application_credential"], application_credential: { id, secret } });
    expect((await refused(identity.issue({ auth: { identity: credential("ac-1", "nope") } }))).status).toBe(401);
    expect((await refused(identity.issue({ auth: { identity: credential("ac-2", "s3cret") } }))).status).toBe(401);
    expect((await refused(identity.issue({ auth: { identity: credential("ac-1", "s3cret"), scope: inProject("demo") } }))).message).toContain("cannot request a scope");
    const token = await identity.issue({ auth: { identity: credential("ac-1", "s3cret") } });
    expect((await refused(identity.issue({ auth: { identity: { methods: ["token"], token: { id: token.id } } } }))).status).toBe(401);
  });

  it("refuses unknown methods and methods without their data", async () => {
    expect((await refused(identity.issue({ auth: { identity: { methods: ["totp"] } } }))).status).toBe(401);
    expect((await refused(identity.issue({ auth: { identity: { methods: ["password"] } } }))).status).toBe(400);
  });
});

describe("validation later", () => {
  it("refuses expired tokens", async () => {
    clock = NOW;
    const valid = await identity.issue(password("alice", "pw", inProject("demo")));
    clock = NOW + 3_600_001;
    expect(() => identity.validate(valid.id)).toThrow(ApiError);
    clock = NOW;
  });

  it("refuses revoked audit ids", () => {
    const token = signer.sign({ v: 1, u: "u-alice", m: ["password"], p: "p-demo", iat: NOW, exp: NOW + 1000, a: "AAAAAAAAAAAAAAAAAAAAAA" });
    expect(identity.isRevoked("AAAAAAAAAAAAAAAAAAAAAA")).toBe(true);
    expect(() => identity.validate(token)).toThrow("requires authentication");
  });

  it("refuses tokens issued before the user's last password change", () => {
    const before = signer.sign({ v: 1, u: "u-carol", m: ["password"], p: "p-demo", iat: NOW - 1, exp: NOW + 1000, a: "b" });
    const after = signer.sign({ v: 1, u: "u-carol", m: ["password"], p: "p-demo", iat: NOW + 1, exp: NOW + 1000, a: "c" });
    expect(() => identity.validate(before)).toThrow(ApiError);
    expect(identity.validate(after).roles).toEqual(["reader"]);
  });

  it("refuses tokens of deleted users and of projects the user no longer has a role in", () => {
    const gone = signer.sign({ v: 1, u: "u-gone", m: ["password"], iat: NOW, exp: NOW + 1000, a: "d" });
    expect(() => identity.validate(gone)).toThrow(ApiError);
    const noRole = signer.sign({ v: 1, u: "u-nobody", m: ["password"], p: "p-demo", iat: NOW, exp: NOW + 1000, a: "e" });
    expect(() => identity.validate(noRole)).toThrow("has no access to project");
  });
});
