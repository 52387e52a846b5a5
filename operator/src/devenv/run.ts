// `make run`: the whole of Altostack on this machine — a real control plane (etcd, kube-apiserver,
// kube-controller-manager), our CRDs and the upstream ones, the operator and the simulator as separate
// processes, the m1.* flavors — until Ctrl-C.
//
// With ALTOSTACK_TARGET_KUBECONFIG=<path>, it instead installs our CRDs into that existing cluster and runs
// the operator against it (no control plane, no simulator: the cluster has the real KubeVirt/CDI/Multus).
import { spawn, type ChildProcess } from "node:child_process";
import { copyFile, mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { openSync } from "node:fs";
import path from "node:path";
import { stringify } from "yaml";
import { z } from "zod";
import { API_VERSION, STANDARD_FLAVORS, flavorKind } from "../api/index.js";
import { Builtin, KubeClient, rootLogger } from "../kube/index.js";
import { resolveToolsBinDir, startControlPlane, type ControlPlane } from "./controlplane.js";
import { findSharedUpstreamDir, installCrds, repoRoot } from "./crds.js";

const SYSTEM_NAMESPACE = "altostack-system";
const SEED_MANAGER = "altostack-seed";
const FACADE_PORT = 5000;

const log = rootLogger({ name: "make-run" });
const root = repoRoot();
const stateDir = path.join(root, ".altostack");
const children: { name: string; process: ChildProcess }[] = [];
let controlPlane: ControlPlane | undefined;

function startProcess(name: string, script: string, args: string[], extraEnv: NodeJS.ProcessEnv = {}): ChildProcess {
  const logFile = path.join(stateDir, "logs", `${name}.log`);
  const out = openSync(logFile, "a");
  // tsx as a loader in the child itself, so signals reach the operator directly (no intermediate process).
  const child = spawn(process.execPath, ["--import", "tsx", script, ...args], {
    cwd: root,
    stdio: ["ignore", out, out],
    env: { ...process.env, ...extraEnv },
  });
  child.on("exit", (code, signal) => {
    if (!shuttingDown) log.error({ name, code, signal, logFile }, `${name} exited; see its log`);
  });
  children.push({ name, process: child });
  return child;
}

const uploadProxyInfoSchema = z.object({ url: z.string().min(1), caFile: z.string().min(1) });
type UploadProxyInfo = z.infer<typeof uploadProxyInfoSchema>;

/** The simulator's cdi-uploadproxy address, once it has written it (a startup wait for another process). */
async function readUploadProxyInfo(file: string, timeoutMs: number): Promise<UploadProxyInfo | undefined> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline && !shuttingDown) {
    const text = await readFile(file, "utf8").catch(() => undefined);
    if (text !== undefined) {
      const parsed = uploadProxyInfoSchema.safeParse(JSON.parse(text) as unknown);
      return parsed.success ? parsed.data : undefined;
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  return undefined;
}

async function seedFlavors(client: KubeClient): Promise<void> {
  for (const flavor of STANDARD_FLAVORS) {
    await client.apply(
      flavorKind,
      {
        apiVersion: API_VERSION,
        kind: "Flavor",
        metadata: { name: flavor.name },
        spec: { vcpus: flavor.vcpus, ram: flavor.ram, disk: flavor.disk, isPublic: true },
      },
      { fieldManager: SEED_MANAGER },
    );
  }
}

let shuttingDown = false;
async function shutdown(code: number): Promise<never> {
  shuttingDown = true;
  log.info("stopping");
  await Promise.all(
    children.map(
      ({ process: child }) =>
        new Promise<void>((resolve) => {
          if (child.exitCode !== null || child.signalCode !== null) {
            resolve();
            return;
          }
          const killer = setTimeout(() => child.kill("SIGKILL"), 10_000);
          child.once("exit", () => {
            clearTimeout(killer);
            resolve();
          });
          child.kill("SIGTERM");
        }),
    ),
  );
  await controlPlane?.stop();
  process.exit(code);
}

async function main(): Promise<void> {
  process.on("SIGINT", () => void shutdown(0));
  process.on("SIGTERM", () => void shutdown(0));
  await mkdir(path.join(stateDir, "logs"), { recursive: true });
  const kubeconfigPath = path.join(stateDir, "kubeconfig");
  const target = process.env.ALTOSTACK_TARGET_KUBECONFIG;
  const binDir = await resolveToolsBinDir();
  const kubectl = path.join(binDir, "kubectl");

  if (target !== undefined && target !== "") {
    await copyFile(path.resolve(target), kubeconfigPath);
    await installCrds({ kubeconfigPath, kubectl, ourCrdsDir: path.join(root, "crds"), upstreamDir: undefined, log, onlyOurs: true });
  } else {
    // A fresh cluster every run: the state of a previous run is not carried over.
    const clusterDir = path.join(stateDir, "cluster");
    await rm(clusterDir, { recursive: true, force: true });
    const upstreamDir = findSharedUpstreamDir(root);
    controlPlane = await startControlPlane({
      dir: clusterDir,
      binDir,
      withControllerManager: true,
      log,
      // Before the controller manager starts, so quota and garbage collection know our kinds at once.
      beforeControllerManager: (adminKubeconfig) =>
        installCrds({ kubeconfigPath: adminKubeconfig, kubectl, ourCrdsDir: path.join(root, "crds"), upstreamDir, log }).then(
          () => undefined,
        ),
    });
    await copyFile(controlPlane.kubeconfigPath, kubeconfigPath);
  }

  const client = KubeClient.fromFile(kubeconfigPath);
  const existing = await client.get(Builtin.Namespace, SYSTEM_NAMESPACE);
  if (existing === undefined) {
    await client.create(Builtin.Namespace, { apiVersion: "v1", kind: "Namespace", metadata: { name: SYSTEM_NAMESPACE } });
  }
  await seedFlavors(client);

  startProcess("operator", path.join(root, "operator", "src", "main.ts"), [
    `--kubeconfig=${kubeconfigPath}`,
    `--lease-namespace=${SYSTEM_NAMESPACE}`,
    "--ops-host=127.0.0.1",
    "--ops-port=8080",
    // The simulated CSI driver shares every volume, so servers can live-migrate (KubeVirt needs RWX disks).
    ...(controlPlane === undefined ? [] : ["--vm-disk-access-modes=ReadWriteMany"]),
  ]);
  let uploadProxy: UploadProxyInfo | undefined;
  if (controlPlane !== undefined) {
    const infoFile = path.join(stateDir, "cdi-uploadproxy.json");
    await rm(infoFile, { force: true });
    startProcess("simulator", path.join(root, "operator", "src", "simulator", "main.ts"), [`--kubeconfig=${kubeconfigPath}`], {
      SIM_UPLOAD_PROXY_INFO: infoFile,
    });
    // The facade streams image uploads to the simulated cdi-uploadproxy: wait for its address.
    uploadProxy = await readUploadProxyInfo(infoFile, 120_000);
    if (uploadProxy === undefined) log.warn({ infoFile }, "the simulator did not report its cdi-uploadproxy; image upload is off");
  }
  // The OpenStack facade; it bootstraps the admin user and project with this password (local use only).
  startProcess(
    "facade",
    path.join(root, "operator", "src", "facade", "main.ts"),
    [
      `--kubeconfig=${kubeconfigPath}`,
      `--system-namespace=${SYSTEM_NAMESPACE}`,
      "--host=127.0.0.1",
      `--port=${FACADE_PORT}`,
      ...(uploadProxy === undefined ? [] : [`--cdi-upload-proxy-url=${uploadProxy.url}`, `--cdi-upload-proxy-ca=${uploadProxy.caFile}`]),
    ],
    { ALTOSTACK_ADMIN_PASSWORD: process.env.ALTOSTACK_ADMIN_PASSWORD ?? "admin" },
  );

  const cloudsPath = path.join(stateDir, "clouds.yaml");
  await writeFile(
    cloudsPath,
    stringify({
      clouds: {
        altostack: {
          auth: { auth_url: `http://127.0.0.1:${FACADE_PORT}/identity`, username: "admin", password: process.env.ALTOSTACK_ADMIN_PASSWORD ?? "admin", project_name: "admin", user_domain_name: "Default", project_domain_name: "Default" },
          region_name: "RegionOne",
          interface: "public",
          identity_api_version: 3,
        },
      },
    }),
  );

  const rel = (p: string) => path.relative(process.cwd(), p) || p;
  process.stdout.write(
    [
      "",
      "Altostack is running." + (controlPlane === undefined ? ` (operator against ${target ?? ""})` : " (embedded control plane + simulator)"),
      "",
      "  kubectl:",
      `    export KUBECONFIG=${kubeconfigPath}`,
      `    export PATH=${binDir}:$PATH     # kubectl and helm built for this cluster`,
      "    kubectl apply -f examples/project.yaml && kubectl get altostack",
      "",
      `  openstack (the facade at http://127.0.0.1:${FACADE_PORT}; CLI: pip install python-openstackclient, or hack/openstack-venv.sh):`,
      `    export OS_CLIENT_CONFIG_FILE=${rel(cloudsPath)}`,
      "    openstack --os-cloud altostack server list",
      "",
      `  logs:  ${rel(path.join(stateDir, "logs"))}/{operator,simulator,facade}.log   metrics: http://127.0.0.1:8080/metrics`,
      "  Ctrl-C stops everything.",
      "",
    ].join("\n"),
  );
}

main().catch((e: unknown) => {
  log.fatal({ err: e }, "make run failed");
  void shutdown(1);
});
