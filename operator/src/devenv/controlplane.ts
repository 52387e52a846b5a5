// A real, local Kubernetes control plane (etcd + kube-apiserver + optionally kube-controller-manager)
// for integration tests and `make run`. No nodes, no kubelet: just the API with RBAC, admission,
// garbage collection, namespace deletion and quotas behaving as in a real cluster.
import { spawn, execFile, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { closeSync, openSync } from "node:fs";
import { appendFile, mkdir, open, readFile, writeFile } from "node:fs/promises";
import https from "node:https";
import http from "node:http";
import { createServer, type AddressInfo } from "node:net";
import path from "node:path";
import type { Logger } from "pino";
import { stringify } from "yaml";
import { repoRoot } from "./crds.js";

export interface ControlPlane {
  kubeconfigPath: string;
  /** The apiserver URL, e.g. https://127.0.0.1:41234 */
  server: string;
  dir: string;
  /** Stops the components in reverse start order; resolves once every process has exited. Idempotent. */
  stop(): Promise<void>;
}

export interface StartControlPlaneOptions {
  /** Working directory for certificates, etcd data, kubeconfigs and logs. Created if missing. */
  dir: string;
  /** Directory holding etcd, kube-apiserver, kube-controller-manager (see hack/build-tools.sh). */
  binDir: string;
  /** Run kube-controller-manager (GC, namespace deletion, quota, service accounts). Default true. */
  withControllerManager?: boolean;
  /**
   * Runs once the apiserver is ready, before kube-controller-manager starts: the place to install CRDs.
   * The quota and garbage-collector controllers re-discover resources only every 30 s (hard-coded), so
   * CRDs installed later get no quota usage and no garbage collection for up to 30 s.
   */
  beforeControllerManager?: (kubeconfigPath: string) => Promise<void>;
  log: Logger;
  /** How long each component may take to become ready. Default 90 s. */
  readyTimeoutMs?: number;
}

const SERVICE_CLUSTER_IP_RANGE = "10.96.0.0/16";
/** The CN of the front proxy's client certificate (kubeadm's name). */
const FRONT_PROXY_CLIENT = "front-proxy-client";
const SERVICE_ACCOUNT_ISSUER = "https://kubernetes.default.svc.cluster.local";
const CONTEXT_NAME = "altostack";

/** Controllers that make sense without nodes or a cloud. Everything else stays off (no log noise). */
const CONTROLLERS = [
  "serviceaccount-token-controller",
  "serviceaccount-controller",
  "root-ca-certificate-publisher-controller",
  "namespace-controller",
  "garbage-collector-controller",
  "resourcequota-controller",
  "clusterrole-aggregation-controller",
];

/**
 * Runs hack/build-tools.sh (building the tools on first use; progress is shown on our stderr) and
 * returns the directory it prints, which holds all control-plane binaries, kubectl and helm.
 */
export function resolveToolsBinDir(): Promise<string> {
  const script = path.join(repoRoot(), "hack", "build-tools.sh");
  return new Promise((resolve, reject) => {
    const child = spawn("bash", [script], { stdio: ["ignore", "pipe", "inherit"] });
    let stdout = "";
    child.stdout.setEncoding("utf8");
    child.stdout.on("data", (chunk: string) => (stdout += chunk));
    child.on("error", (error) => {
      reject(new Error(`could not run ${script}: ${error.message}`));
    });
    child.on("close", (code) => {
      const dir = stdout.trim().split("\n").pop() ?? "";
      if (code === 0 && dir !== "") resolve(dir);
      else reject(new Error(`${script} failed (exit ${String(code)}); its error is printed above`));
    });
  });
}

export async function startControlPlane(opts: StartControlPlaneOptions): Promise<ControlPlane> {
  const dir = path.resolve(opts.dir);
  const log = opts.log.child({ component: "controlplane" });
  const started = Date.now();
  await mkdir(dir, { recursive: true });
  const pki = await generatePki(dir);
  for (let attempt = 1; ; attempt++) {
    try {
      const controlPlane = await startAttempt(opts, dir, pki, log);
      log.info(
        { server: controlPlane.server, dir, kubeconfigPath: controlPlane.kubeconfigPath, ms: Date.now() - started },
        "control plane started",
      );
      return controlPlane;
    } catch (error) {
      // Free ports are found by binding and releasing them, so another process may take one before we
      // use it (parallel test runs do). Such a clash is worth a fresh set of ports.
      const portClash = error instanceof Error && error.message.includes("address already in use");
      if (!portClash || attempt >= 3) throw error;
      log.warn({ attempt }, "a port was taken before the control plane could bind it; retrying with new ports");
    }
  }
}

async function startAttempt(opts: StartControlPlaneOptions, dir: string, pki: Pki, log: Logger): Promise<ControlPlane> {
  const readyTimeoutMs = opts.readyTimeoutMs ?? 90_000;
  const { etcdClientPort, etcdPeerPort, apiserverPort } = await freeLoopbackPorts([
    "etcdClientPort",
    "etcdPeerPort",
    "apiserverPort",
  ] as const);
  const server = `https://127.0.0.1:${apiserverPort}`;
  // The watchdog reads the pids file, so it covers components from the moment they start.
  const pidsFile = path.join(dir, "controlplane.pids");
  await writeFile(pidsFile, "");
  const components: Component[] = [startOrphanWatchdog(pidsFile)];
  const stop = onceAsync(async () => {
    await stopComponents(components, log);
  });
  const launchComponent = async (name: string, args: string[]): Promise<Component> => {
    const component = launch(opts.binDir, name, dir, args);
    components.push(component);
    if (component.process.pid !== undefined) await appendFile(pidsFile, `${String(component.process.pid)}\n`);
    return component;
  };

  try {
    const etcd = await launchComponent("etcd", [
      "--name=altostack",
      `--data-dir=${path.join(dir, "etcd-data")}`,
      `--listen-client-urls=http://127.0.0.1:${etcdClientPort}`,
      `--advertise-client-urls=http://127.0.0.1:${etcdClientPort}`,
      `--listen-peer-urls=http://127.0.0.1:${etcdPeerPort}`,
      `--initial-advertise-peer-urls=http://127.0.0.1:${etcdPeerPort}`,
      `--initial-cluster=altostack=http://127.0.0.1:${etcdPeerPort}`,
      "--log-level=warn",
      // Development data only: skipping fsync makes every write (and so every test) much faster.
      "--unsafe-no-fsync",
    ]);
    await waitReady(etcd, readyTimeoutMs, () => etcdHealthy(etcdClientPort));
    log.debug({ port: etcdClientPort }, "etcd ready");

    const apiserver = await launchComponent("kube-apiserver", [
      `--etcd-servers=http://127.0.0.1:${etcdClientPort}`,
      "--bind-address=127.0.0.1",
      "--advertise-address=127.0.0.1",
      `--secure-port=${apiserverPort}`,
      `--cert-dir=${path.join(dir, "apiserver-certs")}`,
      `--tls-cert-file=${pki.apiserverCert}`,
      `--tls-private-key-file=${pki.apiserverKey}`,
      `--client-ca-file=${pki.caCert}`,
      // RBAC only: impersonated users get exactly what their (Cluster)RoleBindings grant.
      "--authorization-mode=RBAC",
      `--service-account-issuer=${SERVICE_ACCOUNT_ISSUER}`,
      `--service-account-key-file=${pki.serviceAccountPublicKey}`,
      `--service-account-signing-key-file=${pki.serviceAccountPrivateKey}`,
      `--service-cluster-ip-range=${SERVICE_CLUSTER_IP_RANGE}`,
      // Added to the default set (which already has most of these) so the intent is explicit.
      "--enable-admission-plugins=NamespaceLifecycle,ServiceAccount,ResourceQuota",
      "--allow-privileged=true",
      // The endpoint reconciler would try to publish 127.0.0.1, which Endpoints validation forbids.
      "--endpoint-reconciler-type=none",
      "--profiling=false",
      // With the default (0) open watches hold the shutdown for the whole 60 s request timeout.
      "--shutdown-watch-termination-grace-period=2s",
      // The aggregation layer (front proxy), as kubeadm sets it up: aggregated APIs such as KubeVirt's
      // subresources.kubevirt.io (served by the simulator) get requests with the caller in X-Remote-*
      // headers from a client certificate they verify against this CA.
      `--requestheader-client-ca-file=${pki.frontProxyCaCert}`,
      `--requestheader-allowed-names=${FRONT_PROXY_CLIENT}`,
      "--requestheader-extra-headers-prefix=X-Remote-Extra-",
      "--requestheader-group-headers=X-Remote-Group",
      "--requestheader-username-headers=X-Remote-User",
      `--proxy-client-cert-file=${pki.frontProxyClientCert}`,
      `--proxy-client-key-file=${pki.frontProxyClientKey}`,
      "--v=1",
    ]);
    const admin = { ca: pki.caCertPem, cert: pki.adminCertPem, key: pki.adminKeyPem };
    await waitReady(apiserver, readyTimeoutMs, async () => (await httpsGet(server, "/readyz", admin)).status === 200);
    log.debug({ server }, "kube-apiserver ready");

    const kubeconfigPath = path.join(dir, "kubeconfig");
    await writeKubeconfig(kubeconfigPath, server, pki.caCertPem, "altostack-admin", pki.adminCertPem, pki.adminKeyPem);

    await opts.beforeControllerManager?.(kubeconfigPath);

    if (opts.withControllerManager ?? true) {
      const controllerManagerKubeconfig = path.join(dir, "kube-controller-manager.kubeconfig");
      await writeKubeconfig(
        controllerManagerKubeconfig,
        server,
        pki.caCertPem,
        "system:kube-controller-manager",
        pki.controllerManagerCertPem,
        pki.controllerManagerKeyPem,
      );
      const controllerManager = await launchComponent("kube-controller-manager", [
        `--kubeconfig=${controllerManagerKubeconfig}`,
        // Each controller acts as its own kube-system ServiceAccount, bound by the bootstrap RBAC policy,
        // exactly as in kubeadm clusters.
        "--use-service-account-credentials=true",
        `--controllers=${CONTROLLERS.join(",")}`,
        "--leader-elect=false",
        `--root-ca-file=${pki.caCert}`,
        `--service-account-private-key-file=${pki.serviceAccountPrivateKey}`,
        // Nothing scrapes it; not serving avoids a port and self-signed certificates.
        "--secure-port=0",
        "--kube-api-qps=100",
        "--kube-api-burst=200",
        "--v=1",
      ]);
      // The default ServiceAccount appearing proves the token and service-account controllers both work.
      await waitReady(
        controllerManager,
        readyTimeoutMs,
        async () => (await httpsGet(server, "/api/v1/namespaces/default/serviceaccounts/default", admin)).status === 200,
      );
      log.debug("kube-controller-manager ready");
    }

    return { kubeconfigPath, server, dir, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

// --- processes --------------------------------------------------------------------------------------------

interface Component {
  name: string;
  process: ChildProcess;
  logFile: string;
  exited?: Promise<void>;
  exitDescription?: string;
}

const liveProcesses = new Set<ChildProcess>();
let exitHandlersInstalled = false;

/** Kill our children when the Node process goes away without calling stop(). */
function installExitHandlers(): void {
  if (exitHandlersInstalled) return;
  exitHandlersInstalled = true;
  process.on("exit", () => {
    for (const child of liveProcesses) child.kill("SIGKILL");
  });
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    const handler = (): void => {
      // Someone else handles the signal (e.g. `make run` stopping gracefully): leave it to them; the
      // exit handler and the watchdog still catch what they miss.
      if (process.listenerCount(signal) > 1) return;
      // Otherwise keep Node's default (terminate) but take the control plane with us.
      for (const child of liveProcesses) child.kill("SIGKILL");
      process.removeListener(signal, handler);
      process.kill(process.pid, signal);
    };
    process.on(signal, handler);
  }
}

function launch(binDir: string, name: string, dir: string, args: string[]): Component {
  const logFile = path.join(dir, `${name}.log`);
  const fd = openSync(logFile, "a");
  try {
    return track(name, spawn(path.join(binDir, name), args, { cwd: dir, stdio: ["ignore", fd, fd] }), logFile);
  } finally {
    closeSync(fd);
  }
}

/** Registers a child for cleanup on exit and records how it ended. */
function track(name: string, child: ChildProcess, logFile: string): Component {
  installExitHandlers();
  liveProcesses.add(child);
  const component: Component = { name, process: child, logFile };
  component.exited = new Promise((resolve) => {
    child.once("error", (error) => {
      component.exitDescription = `could not be started: ${error.message}`;
      liveProcesses.delete(child);
      resolve();
    });
    child.once("exit", (code, signal) => {
      component.exitDescription = signal !== null ? `was killed by ${signal}` : `exited with code ${String(code)}`;
      liveProcesses.delete(child);
      resolve();
    });
  });
  return component;
}

/** Polls `ready` until it returns true; fails early (with the log tail) if the process exits. */
async function waitReady(component: Component, timeoutMs: number, ready: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastError = "";
  while (Date.now() < deadline) {
    if (component.exitDescription !== undefined) {
      throw new Error(
        `${component.name} ${component.exitDescription} during startup; end of ${component.logFile}:\n${await logTail(component.logFile)}`,
      );
    }
    try {
      if (await ready()) return;
    } catch (error) {
      lastError = error instanceof Error ? error.message : String(error);
    }
    await sleep(200);
  }
  throw new Error(
    `${component.name} was not ready after ${timeoutMs} ms${lastError !== "" ? ` (last probe error: ${lastError})` : ""}; ` +
      `end of ${component.logFile}:\n${await logTail(component.logFile)}`,
  );
}

async function stopComponents(components: Component[], log: Logger, graceMs = 10_000): Promise<void> {
  for (const component of [...components].reverse()) {
    if (component.exitDescription !== undefined) continue;
    component.process.kill("SIGTERM");
    if (!(await settlesWithin(component.exited, graceMs))) {
      log.warn({ component: component.name }, `did not exit within ${graceMs} ms of SIGTERM; sending SIGKILL`);
      component.process.kill("SIGKILL");
      await component.exited;
    }
  }
}

/**
 * A tiny shell process that SIGKILLs the pids listed in pidsFile if this Node process dies without
 * running its exit handlers (e.g. SIGKILL). It is first in the component list, so stop() ends it last.
 */
function startOrphanWatchdog(pidsFile: string): Component {
  // `sleep & wait` so a SIGTERM from stop() is handled at once and takes the sleep with it.
  const script =
    `trap 'kill $! 2>/dev/null; exit 0' TERM; ` +
    `while kill -0 "$1" 2>/dev/null; do sleep 1 & wait $!; done; kill -KILL $(cat "$2") 2>/dev/null`;
  // Own process group: a Ctrl-C aimed at us must not take the watchdog down before it has done its job.
  const watchdog = spawn("sh", ["-c", script, "orphan-watchdog", String(process.pid), pidsFile], {
    stdio: "ignore",
    detached: true,
  });
  watchdog.unref();
  return track("orphan-watchdog", watchdog, "");
}

async function logTail(file: string, lines = 40): Promise<string> {
  try {
    const handle = await open(file, "r");
    try {
      const { size } = await handle.stat();
      const length = Math.min(size, 64 * 1024);
      const buffer = Buffer.alloc(length);
      await handle.read(buffer, 0, length, size - length);
      return buffer.toString("utf8").split("\n").slice(-lines - 1).join("\n");
    } finally {
      await handle.close();
    }
  } catch {
    return "(no log)";
  }
}

// --- readiness probes -------------------------------------------------------------------------------------

interface ClientTls {
  ca: string;
  cert: string;
  key: string;
}

function httpsGet(server: string, urlPath: string, tls: ClientTls): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const request = https.get(
      new URL(urlPath, server),
      { ca: tls.ca, cert: tls.cert, key: tls.key, timeout: 5_000, agent: false },
      (response) => {
        let body = "";
        response.setEncoding("utf8");
        response.on("data", (chunk: string) => (body += chunk));
        response.on("end", () => {
          resolve({ status: response.statusCode ?? 0, body });
        });
      },
    );
    request.on("timeout", () => request.destroy(new Error("timed out")));
    request.on("error", reject);
  });
}

function etcdHealthy(port: number): Promise<boolean> {
  return new Promise((resolve, reject) => {
    const request = http.get({ host: "127.0.0.1", port, path: "/health", timeout: 5_000, agent: false }, (response) => {
      let body = "";
      response.setEncoding("utf8");
      response.on("data", (chunk: string) => (body += chunk));
      response.on("end", () => {
        resolve(response.statusCode === 200 && body.includes('"health":"true"'));
      });
    });
    request.on("timeout", () => request.destroy(new Error("timed out")));
    request.on("error", reject);
  });
}

// --- ports ------------------------------------------------------------------------------------------------

/** Distinct free loopback ports, one per name: all listeners stay open until every port is known. */
async function freeLoopbackPorts<Name extends string>(names: readonly Name[]): Promise<Record<Name, number>> {
  const servers = await Promise.all(
    names.map(
      () =>
        new Promise<ReturnType<typeof createServer>>((resolve, reject) => {
          const listener = createServer();
          listener.once("error", reject);
          listener.listen(0, "127.0.0.1", () => {
            resolve(listener);
          });
        }),
    ),
  );
  const ports = Object.fromEntries(names.map((name, i) => [name, (servers[i]?.address() as AddressInfo).port]));
  await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
  return ports as Record<Name, number>;
}

// --- certificates -----------------------------------------------------------------------------------------

interface Pki {
  caCert: string;
  caCertPem: string;
  apiserverCert: string;
  apiserverKey: string;
  adminCertPem: string;
  adminKeyPem: string;
  controllerManagerCertPem: string;
  controllerManagerKeyPem: string;
  serviceAccountPrivateKey: string;
  serviceAccountPublicKey: string;
  frontProxyCaCert: string;
  frontProxyClientCert: string;
  frontProxyClientKey: string;
}

/** Own OpenSSL config so results do not depend on the system's openssl.cnf defaults. */
const OPENSSL_CONFIG = `
[req]
distinguished_name = dn
prompt = no
[dn]
CN = unused
[ca]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign, digitalSignature
subjectKeyIdentifier = hash
[server]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
authorityKeyIdentifier = keyid
subjectAltName = IP:127.0.0.1, IP:::1, DNS:localhost, DNS:kubernetes, DNS:kubernetes.default, DNS:kubernetes.default.svc, DNS:kubernetes.default.svc.cluster.local, IP:10.96.0.1
[client]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = clientAuth
authorityKeyIdentifier = keyid
`;

async function generatePki(dir: string): Promise<Pki> {
  const pkiDir = path.join(dir, "pki");
  await mkdir(pkiDir, { recursive: true, mode: 0o700 });
  const file = (name: string): string => path.join(pkiDir, name);
  const config = file("openssl.cnf");
  await writeFile(config, OPENSSL_CONFIG);
  const ecKey = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];

  await openssl(["req", "-x509", ...ecKey, "-config", config, "-extensions", "ca", "-subj", "/CN=altostack-devenv-ca",
    "-days", "3650", "-keyout", file("ca.key"), "-out", file("ca.crt")]);

  // A CA of its own for the front proxy, so its certificate is not a valid client certificate to the apiserver.
  await openssl(["req", "-x509", ...ecKey, "-config", config, "-extensions", "ca", "-subj", "/CN=altostack-front-proxy-ca",
    "-days", "3650", "-keyout", file("front-proxy-ca.key"), "-out", file("front-proxy-ca.crt")]);

  const issue = async (name: string, subject: string, extensions: "server" | "client", ca = "ca"): Promise<void> => {
    await openssl(["req", "-new", ...ecKey, "-config", config, "-subj", subject, "-keyout", file(`${name}.key`),
      "-out", file(`${name}.csr`)]);
    await openssl(["x509", "-req", "-in", file(`${name}.csr`), "-CA", file(`${ca}.crt`), "-CAkey", file(`${ca}.key`),
      "-set_serial", `0x${randomSerial()}`, "-days", "3650", "-extfile", config, "-extensions", extensions,
      "-out", file(`${name}.crt`)]);
  };
  await Promise.all([
    issue("apiserver", "/CN=kube-apiserver", "server"),
    issue("admin", "/O=system:masters/CN=altostack-admin", "client"),
    issue("kube-controller-manager", "/CN=system:kube-controller-manager", "client"),
    issue("front-proxy-client", `/CN=${FRONT_PROXY_CLIENT}`, "client", "front-proxy-ca"),
    openssl(["genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", file("sa.key")]).then(() =>
      openssl(["pkey", "-in", file("sa.key"), "-pubout", "-out", file("sa.pub")]),
    ),
  ]);

  const read = (name: string): Promise<string> => readFile(file(name), "utf8");
  return {
    caCert: file("ca.crt"),
    caCertPem: await read("ca.crt"),
    apiserverCert: file("apiserver.crt"),
    apiserverKey: file("apiserver.key"),
    adminCertPem: await read("admin.crt"),
    adminKeyPem: await read("admin.key"),
    controllerManagerCertPem: await read("kube-controller-manager.crt"),
    controllerManagerKeyPem: await read("kube-controller-manager.key"),
    serviceAccountPrivateKey: file("sa.key"),
    serviceAccountPublicKey: file("sa.pub"),
    frontProxyCaCert: file("front-proxy-ca.crt"),
    frontProxyClientCert: file("front-proxy-client.crt"),
    frontProxyClientKey: file("front-proxy-client.key"),
  };
}

/** Positive 64-bit serial (the top bit cleared so it is never read as negative). */
function randomSerial(): string {
  const bytes = randomBytes(8);
  bytes[0] = ((bytes[0] ?? 0) & 0x7f) | 0x01;
  return bytes.toString("hex");
}

function openssl(args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile("openssl", args, (error, _stdout, stderr) => {
      if (error === null) resolve();
      else reject(new Error(`openssl ${args.slice(0, 2).join(" ")} failed: ${stderr.trim() || error.message}`));
    });
  });
}

async function writeKubeconfig(
  file: string,
  server: string,
  caPem: string,
  user: string,
  certPem: string,
  keyPem: string,
): Promise<void> {
  const b64 = (pem: string): string => Buffer.from(pem).toString("base64");
  const kubeconfig = {
    apiVersion: "v1",
    kind: "Config",
    clusters: [{ name: CONTEXT_NAME, cluster: { server, "certificate-authority-data": b64(caPem) } }],
    users: [{ name: user, user: { "client-certificate-data": b64(certPem), "client-key-data": b64(keyPem) } }],
    contexts: [{ name: CONTEXT_NAME, context: { cluster: CONTEXT_NAME, user } }],
    "current-context": CONTEXT_NAME,
  };
  await writeFile(file, stringify(kubeconfig), { mode: 0o600 });
}

// --- small helpers ------------------------------------------------------------------------------------------

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Whether the promise settles within ms; the timer is cleared so it never holds the process open. */
async function settlesWithin(promise: Promise<void> | undefined, ms: number): Promise<boolean> {
  if (promise === undefined) return true;
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<false>((resolve) => {
    timer = setTimeout(() => {
      resolve(false);
    }, ms);
  });
  try {
    return await Promise.race([promise.then(() => true as const), timedOut]);
  } finally {
    clearTimeout(timer);
  }
}

function onceAsync(fn: () => Promise<void>): () => Promise<void> {
  let running: Promise<void> | undefined;
  return () => (running ??= fn());
}
