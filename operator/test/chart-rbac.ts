// The chart's RBAC on the test control plane (globalSetup): the ServiceAccounts, ClusterRoles and bindings
// that `helm install` would create, rendered from charts/altostack and applied to namespace altostack-system,
// plus a kubeconfig per ServiceAccount holding a real token (TokenRequest). Tests then run the operator and
// the facade as those ServiceAccounts, so the suite fails on any permission the chart forgot. A real token and
// not an impersonating admin: Kubernetes impersonation does not chain, so only a real ServiceAccount
// identity proves that the facade itself may impersonate its callers.
import { execFile } from "node:child_process";
import { readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { parse, stringify } from "yaml";
import { repoRoot } from "../src/devenv/crds.js";

export const CHART_NAMESPACE = "altostack-system";
/** Release name the suite renders the chart with (its fullname is then "altostack"). */
export const CHART_RELEASE = "altostack";
export const CHART_SERVICE_ACCOUNTS = { operator: "altostack-operator", facade: "altostack-facade" } as const;
export const CHART_RBAC_TEMPLATES = [
  "templates/serviceaccounts.yaml",
  "templates/rbac-operator.yaml",
  "templates/rbac-facade.yaml",
  "templates/rbac-cloud-admin.yaml",
] as const;

export function chartDir(): string {
  return path.join(repoRoot(), "charts", "altostack");
}

export function run(file: string, args: readonly string[], input?: string): Promise<{ stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = execFile(file, args, { maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
      if (error === null) resolve({ stdout, stderr });
      // helm prints lint findings on stdout and the verdict on stderr: keep both in the message.
      else reject(Object.assign(new Error(`${path.basename(file)} ${args.join(" ")} failed: ${[stdout, stderr].join("\n").trim() || error.message}`), { stdout, stderr }));
    });
    if (input !== undefined) child.stdin?.end(input);
  });
}

export interface ChartIdentities {
  operatorKubeconfigPath: string;
  facadeKubeconfigPath: string;
}

/** Applies the chart's RBAC and writes a kubeconfig for each of its ServiceAccounts into `dir`. */
export async function installChartRbac(opts: { kubeconfigPath: string; kubectl: string; helm: string; dir: string }): Promise<ChartIdentities> {
  const kubectl = (args: readonly string[], input?: string) => run(opts.kubectl, ["--kubeconfig", opts.kubeconfigPath, ...args], input);
  const namespace = await kubectl(["create", "namespace", CHART_NAMESPACE, "--dry-run=client", "-o", "yaml"]);
  await kubectl(["apply", "-f", "-"], namespace.stdout);
  const showOnly = CHART_RBAC_TEMPLATES.flatMap((t) => ["--show-only", t]);
  const rendered = await run(opts.helm, ["template", CHART_RELEASE, chartDir(), "--namespace", CHART_NAMESPACE, ...showOnly]);
  await kubectl(["apply", "--server-side", "--field-manager=altostack-test-setup", "--force-conflicts", "-f", "-"], rendered.stdout);

  const admin = parse(await readFile(opts.kubeconfigPath, "utf8")) as {
    clusters: { name: string; cluster: Record<string, unknown> }[];
  };
  const cluster = admin.clusters[0];
  if (cluster === undefined) throw new Error(`${opts.kubeconfigPath} has no cluster`);
  const write = async (serviceAccount: string): Promise<string> => {
    const token = (await kubectl(["create", "token", serviceAccount, "--namespace", CHART_NAMESPACE, "--duration=24h"])).stdout.trim();
    const file = path.join(opts.dir, `${serviceAccount}.kubeconfig`);
    const user = `system:serviceaccount:${CHART_NAMESPACE}:${serviceAccount}`;
    await writeFile(
      file,
      stringify({
        apiVersion: "v1",
        kind: "Config",
        clusters: [cluster],
        users: [{ name: user, user: { token } }],
        contexts: [{ name: serviceAccount, context: { cluster: cluster.name, user } }],
        "current-context": serviceAccount,
      }),
      { mode: 0o600 },
    );
    return file;
  };
  return {
    operatorKubeconfigPath: await write(CHART_SERVICE_ACCOUNTS.operator),
    facadeKubeconfigPath: await write(CHART_SERVICE_ACCOUNTS.facade),
  };
}
