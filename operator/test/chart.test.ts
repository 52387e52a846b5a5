// The Helm chart on the real control plane: lint (with and without the optional parts), every rendered object
// validated by the apiserver (server-side dry run), a real `helm install`, values rejected by values.schema.json,
// the rendered flags accepted by the processes' own config loaders, and the least-privilege proof from the
// other side: what the chart's ServiceAccounts must NOT be able to do. (That they can do everything they need
// is shown by the whole integration suite, which runs the operator and facade as these ServiceAccounts.)
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { inject } from "vitest";
import { parseAllDocuments } from "yaml";
import { projectKind, serverKind, userKind, type Project, type User } from "../src/api/index.js";
import { cloudAdminRbac } from "../src/facade/keystone/bootstrap.js";
import { loadFacadeConfig } from "../src/facade/config.js";
import { Builtin, isForbidden, type KubeClient, type KubeObject, type ResourceType } from "../src/kube/index.js";
import { loadOperatorConfig } from "../src/operator/config.js";
import { startOperator, type RunningOperator } from "../src/operator/operator.js";
import { CHART_NAMESPACE, chartDir, run } from "./chart-rbac.js";
import { TEST_OPERATOR_FLAGS, conditionOf, eventually, facadeClient, operatorClient, testClient, testLogger, unique } from "./helpers.js";

const admin = testClient();
const Deployment: ResourceType = { group: "apps", version: "v1", kind: "Deployment", plural: "deployments", namespaced: true };
const kubeconfig = inject("kubeconfigPath");
const helm = (args: readonly string[]) => run(inject("helm"), [...args, "--kubeconfig", kubeconfig]);
const kubectl = (args: readonly string[], input?: string) => run(inject("kubectl"), ["--kubeconfig", kubeconfig, ...args], input);

/** Every optional part switched on (the ServiceMonitor separately: its CRD is not on this cluster). */
const ALL_OPTIONS = [
  "--set", "facade.ingress.enabled=true",
  "--set", "facade.ingress.className=nginx",
  "--set", "facade.ingress.tlsSecretName=openstack-tls",
  "--set", "facade.publicUrl=https://openstack.example.com",
  "--set", "facade.admin.password=s3cret",
  "--set", "facade.images.cdiUploadProxyCaConfigMap=cdi-ca",
  "--set", "compute.vmStorageClass=rbd",
  "--set", "compute.vmDiskAccessModes={ReadWriteMany}",
  "--set", "compute.imageSizeGiB=4",
  "--set", "networking.mtu=9000",
  "--set", "networking.providerNetworkProjects={admin,infra}",
  "--set-json", 'networking.physnets=[{"name":"physnet1","bridge":"br-ex","vlanRanges":["100-199","300-399"]},{"name":"flat","bridge":"br-flat"}]',
  "--set-json", 'storage.volumeTypes=[{"name":"ssd","storageClass":"fast","snapshotClass":"fast-snap"},{"name":"standard"},{"name":"snaps","snapshotClass":"csi-snap"}]',
];

interface Rendered extends KubeObject {
  spec?: { template?: { spec?: { containers?: { name: string; args?: string[] }[] } }; replicas?: number };
  rules?: unknown[];
}

async function render(args: readonly string[] = []): Promise<Rendered[]> {
  const { stdout } = await run(inject("helm"), ["template", "t", chartDir(), "--namespace", CHART_NAMESPACE, ...args]);
  return parseAllDocuments(stdout)
    .map((d) => d.toJS() as Rendered | null)
    .filter((o): o is Rendered => o !== null);
}

const argsOf = (objs: Rendered[], kind: string, container: string): string[] =>
  objs.find((o) => o.kind === kind && o.spec?.template?.spec?.containers?.some((c) => c.name === container))
    ?.spec?.template?.spec?.containers?.find((c) => c.name === container)?.args ?? [];

/** The KubeApiError of `attempt`, which must fail. */
async function refusal(attempt: () => Promise<unknown>): Promise<Error & { statusCode?: number }> {
  const error = await attempt().then(
    () => undefined,
    (e: unknown) => e as Error,
  );
  if (error === undefined) throw new Error("the request succeeded but must be refused");
  return error;
}

describe("the Helm chart", () => {
  it("lints clean with the defaults and with every optional part on", async () => {
    await helm(["lint", "--strict", chartDir()]);
    await helm(["lint", "--strict", chartDir(), ...ALL_OPTIONS, "--set", "metrics.serviceMonitor.enabled=true", "--set", "podDisruptionBudget.enabled=false"]);
    await helm(["lint", "--strict", chartDir(), "--set", "facade.enabled=false"]);
  });

  it.each([
    ["an MTU below IPv4's minimum", ["--set", "networking.mtu=20"], "mtu"],
    ["a VLAN range that is not min-max", ["--set-json", 'networking.physnets=[{"name":"p","bridge":"br1","vlanRanges":["1000"]}]'], "vlanRanges"],
    ["an unknown key (a typo)", ["--set", "operator.replica=3"], "replica"],
    ["an unknown access mode", ["--set", "compute.vmDiskAccessModes={ReadWriteEverywhere}"], "vmDiskAccessModes"],
  ])("refuses %s with the offending value named", async (_what, args, path) => {
    const error = await refusal(() => helm(["lint", chartDir(), ...args]));
    expect(error.message).toMatch(/values don't meet the specifications of the schema/);
    expect(error.message).toContain(path);
  });

  it("renders the ServiceMonitor only when asked to", async () => {
    expect((await render()).some((o) => o.kind === "ServiceMonitor")).toBe(false);
    const monitor = (await render(["--set", "metrics.serviceMonitor.enabled=true"])).find((o) => o.kind === "ServiceMonitor");
    expect(monitor?.metadata.name).toBe("t-altostack-operator");
  });

  it("renders flags that the operator's and the facade's own config loaders accept, with every value carried over", async () => {
    const objs = await render(ALL_OPTIONS);
    const operator = loadOperatorConfig(argsOf(objs, "Deployment", "operator"), { POD_NAMESPACE: "altostack-system", POD_NAME: "op-0" });
    expect(operator.leaderElection).toBe(true);
    expect(operator.leaseNamespace).toBe("altostack-system");
    expect(operator.identity).toBe("op-0");
    expect(operator.networking).toEqual({
      physnets: [
        { name: "physnet1", bridge: "br-ex", vlanRanges: [{ min: 100, max: 199 }, { min: 300, max: 399 }] },
        { name: "flat", bridge: "br-flat", vlanRanges: [] },
      ],
      defaultMtu: 9000,
      providerProjects: ["admin", "infra"],
    });
    expect(operator.compute).toMatchObject({ storageClassName: "rbd", diskAccessModes: ["ReadWriteMany"], imageSizeGiB: 4 });
    const volumeTypes = [{ name: "ssd", storageClass: "fast", snapshotClass: "fast-snap" }, { name: "standard" }, { name: "snaps", snapshotClass: "csi-snap" }];
    expect(operator.storage.volumeTypes).toEqual(volumeTypes);

    const facade = loadFacadeConfig(argsOf(objs, "Deployment", "facade"), { POD_NAMESPACE: "altostack-system", ALTOSTACK_ADMIN_PASSWORD: "s3cret" });
    expect(facade).toMatchObject({
      publicUrl: "https://openstack.example.com",
      systemNamespace: "altostack-system",
      adminUser: "admin",
      adminProject: "admin",
      volumeTypes,
    });
    const defaults = await render();
    expect(() => loadOperatorConfig(argsOf(defaults, "Deployment", "operator"), {})).not.toThrow();
    expect(() => loadFacadeConfig(argsOf(defaults, "Deployment", "facade"), {})).not.toThrow();
  });

  it("installs the same cloud-admin ClusterRole the facade would create, so the facade only has to read it", async () => {
    const role = (await render()).find((o) => o.kind === "ClusterRole" && o.metadata.name === "altostack:cloud-admin");
    expect(role?.rules).toEqual(cloudAdminRbac().clusterRole.rules);
  });

  it("renders objects the apiserver accepts (server-side dry run of CRDs, RBAC, Deployments, Services, Ingress, PDBs), within the restricted Pod Security profile", async () => {
    const namespace = unique("chart-dry");
    await kubectl(["create", "namespace", namespace]);
    // Pod Security admission warns about workloads whose pods would break the profile.
    await kubectl(["label", "namespace", namespace, "pod-security.kubernetes.io/warn=restricted"]);
    try {
      const violation = /would violate PodSecurity "restricted/;
      // The check is live: a Deployment without the hardening draws the warning.
      const bare = { apiVersion: "apps/v1", kind: "Deployment", metadata: { name: "bare", namespace }, spec: { selector: { matchLabels: { a: "b" } }, template: { metadata: { labels: { a: "b" } }, spec: { containers: [{ name: "c", image: "busybox" }] } } } };
      expect((await kubectl(["apply", "--dry-run=server", "-f", "-"], JSON.stringify(bare))).stderr).toMatch(violation);
      for (const args of [[], ALL_OPTIONS]) {
        const { stdout } = await run(inject("helm"), ["template", "dry", chartDir(), "--namespace", namespace, "--include-crds", ...args]);
        const applied = await kubectl(["apply", "--dry-run=server", "-f", "-"], stdout);
        expect(applied.stdout).toMatch(/deployment\.apps\/dry-altostack-operator (created|configured) \(server dry run\)/);
        expect(applied.stdout).toMatch(/deployment\.apps\/dry-altostack-facade (created|configured) \(server dry run\)/);
        expect(applied.stdout).toMatch(/clusterrole\.rbac\.authorization\.k8s\.io\/dry-altostack-operator (created|configured)/);
        expect(applied.stdout).toMatch(/customresourcedefinition\.apiextensions\.k8s\.io\/servers\.altostack\.io/);
        expect(applied.stderr).not.toMatch(violation);
      }
    } finally {
      await kubectl(["delete", "namespace", namespace, "--wait=false"]);
    }
  });

  it("installs with helm into a fresh namespace (no --wait: no node runs images here)", async () => {
    const namespace = unique("chart-install");
    const release = unique("as");
    // This shared test cluster already has the cluster-wide parts another release would own: the CRDs (from the
    // global setup, under another field manager; the dry run above validated the chart's copy) and the
    // cloud-admin ClusterRole.
    await helm(["install", release, chartDir(), "--namespace", namespace, "--create-namespace", "--skip-crds", "--set", "facade.cloudAdminRbac=false"]);
    try {
      const deployments = await admin.list<Rendered>(Deployment, { namespace });
      expect(deployments.items.map((d) => [d.metadata.name, d.spec?.replicas]).sort()).toEqual([
        [`${release}-altostack-facade`, 2],
        [`${release}-altostack-operator`, 2],
      ]);
      for (const sa of ["operator", "facade"]) expect(await admin.get(Builtin.ServiceAccount, `${release}-altostack-${sa}`, namespace)).toBeDefined();
      expect(await admin.get(Builtin.ClusterRole, `${release}-altostack-operator`)).toBeDefined();
      const status = await helm(["status", release, "--namespace", namespace]);
      expect(status.stdout).toContain("STATUS: deployed");
    } finally {
      await helm(["uninstall", release, "--namespace", namespace]);
      await kubectl(["delete", "namespace", namespace, "--wait=false"]);
    }
  });
});

describe("the chart's ServiceAccounts hold no more than they need", () => {
  let operator: RunningOperator;
  const asOperator = operatorClient();
  const asFacade = facadeClient();
  const expectForbidden = async (attempt: () => Promise<unknown>, message?: RegExp): Promise<void> => {
    const error = await refusal(attempt);
    expect(isForbidden(error), String(error)).toBe(true);
    if (message !== undefined) expect(error.message).toMatch(message);
  };
  const whoAmI = async (client: KubeClient): Promise<{ username?: string; groups?: string[] }> => {
    const review = (await client.requestJson({
      method: "POST",
      path: "/apis/authentication.k8s.io/v1/selfsubjectreviews",
      body: { apiVersion: "authentication.k8s.io/v1", kind: "SelfSubjectReview" },
    })) as { status?: { userInfo?: { username?: string; groups?: string[] } } };
    return review.status?.userInfo ?? {};
  };

  beforeAll(async () => {
    // The operator keeps the facade's impersonation allowlist; run it as its ServiceAccount.
    const config = loadOperatorConfig([...TEST_OPERATOR_FLAGS], {});
    operator = await startOperator({ client: asOperator, logger: testLogger("operator"), config });
  });
  afterAll(async () => {
    await operator.stop();
  });

  it("operator: cannot read or list Secrets outside its namespace (kube-system, a project's namespace)", async () => {
    await expectForbidden(() => asOperator.list(Builtin.Secret, { namespace: "kube-system" }));
    await expectForbidden(() => asOperator.list(Builtin.Secret, {}));
    const project = unique("sec");
    await admin.create<Project>(projectKind, { apiVersion: projectKind.apiVersion, kind: projectKind.kind, metadata: { name: project }, spec: {} });
    await eventually("project ready", async () => conditionOf(await admin.get(projectKind, project))?.status === "True");
    await expectForbidden(() => asOperator.get(Builtin.Secret, "anything", `project-${project}`));
    await expectForbidden(() => asOperator.list(Builtin.Secret, { namespace: `project-${project}` }));
    await admin.delete(projectKind, project);
  });

  it("operator: cannot bind cluster-admin, nor write RBAC it does not hold itself", async () => {
    const binding = {
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "ClusterRoleBinding",
      metadata: { name: unique("escalate") },
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: "cluster-admin" },
      subjects: [{ kind: "ServiceAccount", name: "altostack-operator", namespace: CHART_NAMESPACE }],
    } as KubeObject;
    await expectForbidden(() => asOperator.create(Builtin.ClusterRoleBinding, binding));
    const role = {
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "ClusterRole",
      metadata: { name: unique("escalate") },
      rules: [{ apiGroups: [""], resources: ["secrets"], verbs: ["get", "list"] }],
    } as KubeObject;
    await expectForbidden(() => asOperator.create(Builtin.ClusterRole, role), /attempting to grant RBAC permissions not currently held/);
    await expectForbidden(() => asOperator.delete(Builtin.ClusterRole, "cluster-admin"));
  });

  it("facade: cannot write tenant objects as itself, only as an impersonated caller", async () => {
    const project = unique("fac");
    await admin.create<Project>(projectKind, { apiVersion: projectKind.apiVersion, kind: projectKind.kind, metadata: { name: project }, spec: {} });
    const namespace = `project-${project}`;
    await eventually("project ready", async () => conditionOf(await admin.get(projectKind, project))?.status === "True");
    const server = { apiVersion: serverKind.apiVersion, kind: serverKind.kind, metadata: { name: "s", namespace }, spec: { flavorRef: "m1.tiny", imageRef: "cirros" } } as KubeObject;
    await expectForbidden(() => asFacade.create(serverKind, server), /cannot create resource "servers"/);
    await expectForbidden(() => asFacade.list(Builtin.Secret, { namespace: "kube-system" }));

    // As a member of the project (a Keystone user that exists), the same write is the member's to make.
    const user = unique("member");
    await admin.create<User>(userKind, { apiVersion: userKind.apiVersion, kind: userKind.kind, metadata: { name: user }, spec: {} });
    const member = asFacade.impersonate({ user, groups: [`altostack:project:${project}:member`] });
    const created = await eventually("the allowlist to name the new user", async () =>
      member.create(serverKind, server).catch((e: unknown) => (isForbidden(e) ? undefined : Promise.reject(e as Error))),
    );
    expect(created.metadata.namespace).toBe(namespace);
    expect(await whoAmI(member)).toMatchObject({ username: user, groups: expect.arrayContaining([`altostack:project:${project}:member`]) as unknown });
    await admin.delete(userKind, user);
    await admin.patch(projectKind, project, undefined, { spec: { deletionPolicy: "Cascade" } }, "merge");
    await admin.delete(projectKind, project);
  });

  it("facade: cannot impersonate system:masters, system users, or users that do not exist", async () => {
    const user = unique("known");
    await admin.create<User>(userKind, { apiVersion: userKind.apiVersion, kind: userKind.kind, metadata: { name: user }, spec: {} });
    await eventually("the allowlist to name the new user", async () => (await whoAmI(asFacade.impersonate({ user })).catch(() => undefined))?.username === user);

    const cannotImpersonate = /cannot impersonate resource/;
    await expectForbidden(() => whoAmI(asFacade.impersonate({ user, groups: ["system:masters"] })), cannotImpersonate);
    await expectForbidden(() => whoAmI(asFacade.impersonate({ user: "admin", groups: ["system:masters"] })), cannotImpersonate);
    await expectForbidden(() => whoAmI(asFacade.impersonate({ user: unique("admin") })), cannotImpersonate);
    await expectForbidden(() => whoAmI(asFacade.impersonate({ user: "system:admin" })), cannotImpersonate);
    await expectForbidden(() => whoAmI(asFacade.impersonate({ user: "system:kube-controller-manager" })), cannotImpersonate);
    await expectForbidden(() => whoAmI(asFacade.impersonate({ user: "system:serviceaccount:kube-system:default" })), cannotImpersonate);
    await expectForbidden(() => whoAmI(asFacade.impersonate({ user, groups: ["system:serviceaccounts"] })), cannotImpersonate);
    await expectForbidden(() => whoAmI(asFacade.impersonate({ user, groups: ["altostack:project:no-such-project:admin"] })), cannotImpersonate);
    await admin.delete(userKind, user);
    // Gone from the allowlist with the user.
    await eventually("the allowlist to drop the user", async () =>
      whoAmI(asFacade.impersonate({ user })).then(
        () => false,
        (e: unknown) => isForbidden(e),
      ),
    );
  });
});
