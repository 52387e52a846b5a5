// The operator as a replicated, crash-prone process: only the Lease holder reconciles, a standby takes
// over when the leader goes, and a replica killed mid-reconcile converges on restart without duplicates.
import { spawn, type ChildProcess } from "node:child_process";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { inject } from "vitest";
import { API_VERSION, projectKind, type Project } from "../src/api/index.js";
import { Builtin, type KubeObject } from "../src/kube/index.js";
import { loadOperatorConfig } from "../src/operator/config.js";
import { startOperator, type RunningOperator } from "../src/operator/operator.js";
import { TEST_OPERATOR_FLAGS, allowOperatorLeases, conditionOf, eventually, operatorClient, testClient, testLogger, unique } from "./helpers.js";

const client = testClient();
const leaseNamespace = unique("altostack-ha");
const REPO = path.resolve(import.meta.dirname, "..", "..");

async function createProject(name: string): Promise<void> {
  await client.create<Project>(projectKind, { apiVersion: API_VERSION, kind: "Project", metadata: { name }, spec: {} });
}

async function isReady(name: string): Promise<boolean> {
  return conditionOf(await client.get<Project>(projectKind, name))?.status === "True";
}

function replica(identity: string): Promise<RunningOperator> {
  const config = loadOperatorConfig(
    [`--identity=${identity}`, `--lease-namespace=${leaseNamespace}`, "--lease-name=ha-test", "--ops-port=0", "--ops-host=127.0.0.1"],
    {},
  );
  return startOperator({ client: operatorClient(), logger: testLogger(identity), config });
}

beforeAll(async () => {
  await client.create(Builtin.Namespace, { apiVersion: "v1", kind: "Namespace", metadata: { name: leaseNamespace } });
  await allowOperatorLeases(leaseNamespace);
});
afterAll(async () => {
  await client.delete(Builtin.Namespace, leaseNamespace, undefined);
});

describe("leader election", () => {
  it("lets only the leader reconcile and hands over when it stops", async () => {
    const first = await replica("replica-a");
    const second = await replica("replica-b");
    try {
      const leader = await eventually("a leader", () => (first.isLeader() ? first : second.isLeader() ? second : undefined));
      const standby = leader === first ? second : first;
      expect(standby.isLeader()).toBe(false);

      const lease = await client.get<KubeObject & { spec: { holderIdentity?: string } }>(Builtin.Lease, "ha-test", leaseNamespace);
      expect(lease?.spec.holderIdentity).toBe(leader === first ? "replica-a" : "replica-b");

      const before = unique("ha-before");
      await createProject(before);
      await eventually("project reconciled by the leader", () => isReady(before));
      const managers = (await client.get(projectKind, before))?.metadata.managedFields?.length ?? 0;
      expect(managers).toBeGreaterThan(0);

      // Graceful stop releases the lease, so the standby takes over at once rather than after expiry.
      await leader.stop();
      await eventually("standby leads", () => standby.isLeader(), 20_000);
      const after = unique("ha-after");
      await createProject(after);
      await eventually("project reconciled by the new leader", () => isReady(after));
    } finally {
      await first.stop();
      await second.stop();
    }
  });
});

describe("crash and restart", () => {
  let child: ChildProcess | undefined;
  const start = (): ChildProcess =>
    spawn(
      process.execPath,
      [
        // tsx as a loader in this very process (its CLI would fork a child that a SIGKILL leaves behind).
        "--import",
        "tsx",
        path.join(REPO, "operator", "src", "main.ts"),
        `--kubeconfig=${inject("kubeconfigPath")}`,
        ...TEST_OPERATOR_FLAGS,
      ],
      { cwd: REPO, stdio: ["ignore", "ignore", "inherit"], env: { ...process.env, LOG_LEVEL: "warn" } },
    );
  afterAll(() => {
    child?.kill("SIGKILL");
  });

  it("converges after SIGKILL mid-reconcile with exactly one set of children per project", async () => {
    const names = Array.from({ length: 6 }, () => unique("crash"));
    child = start();
    for (const name of names) await createProject(name);
    // Kill as soon as the first project has a namespace: the others are mid-flight or untouched.
    await eventually("first namespace", async () => (await client.get(Builtin.Namespace, `project-${names[0] ?? ""}`)) !== undefined);
    child.kill("SIGKILL");
    await new Promise((resolve) => child?.once("exit", resolve));

    child = start();
    for (const name of names) await eventually(`${name} Ready after restart`, () => isReady(name), 60_000);

    for (const name of names) {
      const namespace = `project-${name}`;
      const selector = `altostack.io/project=${name}`;
      const count = async (rt: typeof Builtin.Role) =>
        (await client.list(rt, { namespace, labelSelector: selector })).items.length;
      expect(await count(Builtin.Role)).toBe(3);
      expect(await count(Builtin.RoleBinding)).toBe(3);
      expect(await count(Builtin.ResourceQuota)).toBe(1);
      const project = await client.get<Project>(projectKind, name);
      expect(project?.metadata.finalizers).toEqual(["altostack.io/project"]);
    }
    child.kill("SIGTERM");
  });
});
