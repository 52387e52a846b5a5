// Project reconcile on the real apiserver: namespace, quota and roles; updates; RBAC really fences tenants;
// deletion refused while the project holds resources, cascade on request; a taken namespace is left alone.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { API_VERSION, keypairKind, projectKind, serverKind, type Project } from "../src/api/index.js";
import { Builtin, KubeApiError, type KubeObject } from "../src/kube/index.js";
import { loadOperatorConfig } from "../src/operator/config.js";
import { startOperator, type RunningOperator } from "../src/operator/operator.js";
import { TEST_OPERATOR_FLAGS, conditionOf, eventually, operatorClient, testClient, testLogger, unique } from "./helpers.js";

const client = testClient();
let operator: RunningOperator;

const KEY =
  "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJ1bm8uZXhhbXBsZS5rZXkuZm9yLnRlc3Rpbmcub25seQ test@example";

async function createProject(name: string, spec: Project["spec"] = {}): Promise<Project> {
  return client.create<Project>(projectKind, { apiVersion: API_VERSION, kind: "Project", metadata: { name }, spec });
}

async function readyProject(name: string, status = "True"): Promise<Project> {
  return eventually(`project ${name} Ready=${status}`, async () => {
    const p = await client.get<Project>(projectKind, name);
    return conditionOf(p)?.status === status ? p : undefined;
  });
}

function keypair(namespace: string, name: string): KubeObject & { spec: unknown } {
  return { apiVersion: API_VERSION, kind: "Keypair", metadata: { name, namespace }, spec: { publicKey: KEY } };
}

beforeAll(async () => {
  const config = loadOperatorConfig([...TEST_OPERATOR_FLAGS], {});
  operator = await startOperator({ client: operatorClient(), logger: testLogger("operator"), config });
});
afterAll(async () => {
  await operator.stop();
});

describe("Project", () => {
  it("becomes Ready with its namespace, quota, roles and bindings", async () => {
    const name = unique("alpha");
    await createProject(name, { quotas: { instances: 3, gigabytes: 50 }, members: [{ user: "alice", role: "admin" }] });
    const project = await readyProject(name);
    const namespace = `project-${name}`;
    expect(project.status?.namespace).toBe(namespace);
    expect(project.status?.observedGeneration).toBe(project.metadata.generation);
    expect(project.status?.quotas?.instances).toBe(3);

    const ns = await client.get(Builtin.Namespace, namespace);
    expect(ns?.metadata.labels?.["altostack.io/project"]).toBe(name);
    expect(ns?.metadata.ownerReferences?.[0]?.uid).toBe(project.metadata.uid);

    const quota = await client.get<KubeObject & { spec: { hard: Record<string, string> } }>(
      Builtin.ResourceQuota,
      "altostack-quota",
      namespace,
    );
    expect(quota?.spec.hard).toMatchObject({ "count/servers.altostack.io": "3", "requests.storage": "50Gi" });

    const roles = await client.list(Builtin.Role, { namespace, labelSelector: `altostack.io/project=${name}` });
    const bindings = await client.list<KubeObject & { subjects: { name: string }[] }>(Builtin.RoleBinding, {
      namespace,
      labelSelector: `altostack.io/project=${name}`,
    });
    expect(roles.items.map((r) => r.metadata.name).sort()).toEqual(["altostack:admin", "altostack:member", "altostack:reader"]);
    const admin = bindings.items.find((b) => b.metadata.name === "altostack:admin");
    expect(admin?.subjects.map((s) => s.name)).toEqual([`altostack:project:${name}:admin`, "alice"]);

    // The ResourceQuota's usage flows back into the project's status.
    await eventually("quota usage in status", async () => (await client.get<Project>(projectKind, name))?.status?.usage);
  });

  it("applies spec updates and records the generation it saw", async () => {
    const name = unique("beta");
    await createProject(name, { quotas: { instances: 2 } });
    await readyProject(name);
    await client.patch(projectKind, name, undefined, { spec: { quotas: { instances: 7 } } }, "merge");
    await eventually("quota raised to 7", async () => {
      const quota = await client.get<KubeObject & { spec: { hard: Record<string, string> } }>(
        Builtin.ResourceQuota,
        "altostack-quota",
        `project-${name}`,
      );
      return quota?.spec.hard["count/servers.altostack.io"] === "7";
    });
    const project = await eventually("observedGeneration 2", async () => {
      const p = await client.get<Project>(projectKind, name);
      return p?.status?.observedGeneration === 2 ? p : undefined;
    });
    expect(conditionOf(project)?.status).toBe("True");
  });

  it("enforces the instances quota in the apiserver itself", async () => {
    const name = unique("quota");
    await createProject(name, { quotas: { instances: 1 } });
    await readyProject(name);
    const namespace = `project-${name}`;
    const server = (n: string) => ({
      apiVersion: API_VERSION,
      kind: "Server",
      metadata: { name: n, namespace },
      spec: { flavorRef: "m1.tiny", imageRef: "cirros" },
    });
    // The quota controller must have computed usage before the apiserver enforces it.
    await eventually("quota status", async () => {
      const q = await client.get<KubeObject & { status?: { used?: Record<string, string> } }>(
        Builtin.ResourceQuota,
        "altostack-quota",
        namespace,
      );
      return q?.status?.used?.["count/servers.altostack.io"] !== undefined;
    });
    await client.create(serverKind, server("one"));
    const error = await client.create(serverKind, server("two")).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(KubeApiError);
    expect((error as KubeApiError).message).toContain("exceeded quota");
    await client.delete(serverKind, "one", namespace);
  });

  it("lets RBAC fence tenants: readers read, members write, other projects see nothing", async () => {
    const a = unique("tenant-a");
    const b = unique("tenant-b");
    await createProject(a);
    await createProject(b);
    await readyProject(a);
    await readyProject(b);
    const nsA = `project-${a}`;
    const as = (project: string, role: string) =>
      client.impersonate({ user: `${role}-of-${project}`, groups: [`altostack:project:${project}:${role}`] });

    await eventually("member of A may create", async () => {
      await as(a, "member").create(keypairKind, keypair(nsA, "k1"));
      return true;
    });
    expect((await as(a, "reader").list(keypairKind, { namespace: nsA })).items).toHaveLength(1);
    const readerWrite = await as(a, "reader").create(keypairKind, keypair(nsA, "k2")).catch((e: unknown) => e);
    expect((readerWrite as KubeApiError).statusCode).toBe(403);
    const otherRead = await as(b, "admin").list(keypairKind, { namespace: nsA }).catch((e: unknown) => e);
    expect((otherRead as KubeApiError).statusCode).toBe(403);
    const otherProject = await as(b, "admin").get(projectKind, a).catch((e: unknown) => e);
    expect((otherProject as KubeApiError).statusCode).toBe(403);
    expect((await as(b, "admin").get<Project>(projectKind, b))?.metadata.name).toBe(b);
    const statusWrite = await as(a, "admin")
      .patch(keypairKind, "k1", nsA, { status: { fingerprint: "forged" } }, "merge", { subresource: "status" })
      .catch((e: unknown) => e);
    expect((statusWrite as KubeApiError).statusCode).toBe(403);
  });

  it("refuses deletion while the project holds resources, then finishes once it is empty", async () => {
    const name = unique("keep");
    await createProject(name);
    await readyProject(name);
    const namespace = `project-${name}`;
    await client.create(keypairKind, keypair(namespace, "mine"));
    await client.delete(projectKind, name, undefined);

    const blocked = await eventually("DeletionBlocked", async () => {
      const p = await client.get<Project>(projectKind, name);
      return conditionOf(p)?.reason === "DeletionBlocked" ? p : undefined;
    });
    expect(conditionOf(blocked)?.message).toContain("1 keypair");
    expect(conditionOf(blocked)?.message).toContain("deletionPolicy: Cascade");
    expect(await client.get(keypairKind, "mine", namespace)).toBeDefined();

    await client.delete(keypairKind, "mine", namespace);
    await eventually("project gone", async () => (await client.get(projectKind, name)) === undefined);
    await eventually("namespace going", async () => {
      const ns = await client.get(Builtin.Namespace, namespace);
      return ns === undefined || ns.metadata.deletionTimestamp !== undefined;
    });
  });

  it("deletes everything in the project when asked to cascade", async () => {
    const name = unique("cascade");
    await createProject(name, { deletionPolicy: "Cascade" });
    await readyProject(name);
    const namespace = `project-${name}`;
    await client.create(keypairKind, keypair(namespace, "one"));
    await client.create(keypairKind, keypair(namespace, "two"));
    await client.delete(projectKind, name, undefined);
    await eventually("project gone", async () => (await client.get(projectKind, name)) === undefined);
    expect((await client.list(keypairKind, { namespace })).items).toHaveLength(0);
  });

  it("leaves a namespace that belongs to someone else untouched and says so", async () => {
    const name = unique("taken");
    const namespace = `project-${name}`;
    await client.create(Builtin.Namespace, { apiVersion: "v1", kind: "Namespace", metadata: { name: namespace } });
    await createProject(name);
    const project = await eventually("NamespaceConflict", async () => {
      const p = await client.get<Project>(projectKind, name);
      return conditionOf(p)?.reason === "NamespaceConflict" ? p : undefined;
    });
    expect(conditionOf(project)?.status).toBe("False");
    const ns = await client.get(Builtin.Namespace, namespace);
    expect(ns?.metadata.labels?.["altostack.io/project"]).toBeUndefined();
    expect(ns?.metadata.ownerReferences).toBeUndefined();
  });
});
