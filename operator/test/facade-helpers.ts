// Helpers for the facade's integration tests: the operator and the facade in-process against the test control
// plane, the real `openstack` CLI and openstacksdk from the pinned venv (hack/openstack-venv.sh), and raw HTTP.
import { execFile, spawn } from "node:child_process";
import path from "node:path";
import { projectKind, type Project } from "../src/api/index.js";
import { repoRoot } from "../src/devenv/crds.js";
import { loadFacadeConfig } from "../src/facade/config.js";
import { startFacade, type RunningFacade } from "../src/facade/facade.js";
import { loadOperatorConfig } from "../src/operator/config.js";
import { startOperator, type RunningOperator } from "../src/operator/operator.js";
import { startSimulator, uniformDelays, type Simulator } from "../src/simulator/index.js";
import { TEST_OPERATOR_FLAGS, conditionOf, eventually, facadeClient, operatorClient, testClient, testLogger, unique } from "./helpers.js";

export interface FacadeEnv {
  facade: RunningFacade;
  operator: RunningOperator;
  admin: Credentials;
  /** Moves the facade's clock (token issue and expiry). */
  advanceClock(ms: number): void;
  stop(): Promise<void>;
}

export interface Credentials {
  user: string;
  password: string;
  /** Project name to scope to; unscoped when absent. */
  project?: string;
}

let oscBinDir: Promise<string> | undefined;

/** The bin directory of the pinned OpenStack clients venv (created on first use, then cached). */
export function openstackBinDir(): Promise<string> {
  oscBinDir ??= new Promise((resolve, reject) => {
    const script = path.join(repoRoot(), "hack", "openstack-venv.sh");
    const child = spawn("bash", [script], { stdio: ["ignore", "pipe", "inherit"] });
    let out = "";
    child.stdout.setEncoding("utf8");
    child.stdout.on("data", (chunk: string) => (out += chunk));
    child.on("close", (code) => {
      const dir = out.trim().split("\n").pop() ?? "";
      if (code === 0 && dir !== "") resolve(dir);
      else reject(new Error(`${script} failed (exit ${String(code)})`));
    });
  });
  return oscBinDir;
}

/**
 * The operator and the facade; with `simulator`, also the simulated KubeVirt/CDI/CSI so servers really reach
 * ACTIVE (disks ReadWriteMany, as `make run` sets them).
 */
export async function startFacadeEnv(opts: { simulator?: boolean } = {}): Promise<FacadeEnv> {
  const client = testClient();
  const logger = testLogger("facade-test");
  let simulator: Simulator | undefined;
  if (opts.simulator === true) {
    simulator = await startSimulator({ client, log: testLogger("simulator"), config: { delays: uniformDelays(30) } });
  }
  const operator = await startOperator({
    client: operatorClient(),
    logger: testLogger("operator"),
    config: loadOperatorConfig(
      [...TEST_OPERATOR_FLAGS],
      {},
    ),
  });
  // Each test file has its own admin user and project, so files never depend on each other's state.
  const admin: Credentials = { user: unique("admin"), password: unique("pw"), project: unique("adminproject") };
  let offsetMs = 0;
  const facade = await startFacade({
    client: facadeClient(),
    logger,
    config: loadFacadeConfig(
      [
        "--host=127.0.0.1",
        "--port=0",
        `--admin-user=${admin.user}`,
        `--admin-project=${admin.project ?? ""}`,
        // Image data goes to the simulated cdi-uploadproxy.
        ...(simulator?.uploadProxy === undefined
          ? []
          : [`--cdi-upload-proxy-url=${simulator.uploadProxy.url}`, `--cdi-upload-proxy-ca=${simulator.uploadProxy.caFile}`]),
      ],
      { ALTOSTACK_ADMIN_PASSWORD: admin.password },
    ),
    now: () => new Date(Date.now() + offsetMs),
  });
  await waitForProjectReady(admin.project ?? "");
  return {
    facade,
    operator,
    admin,
    advanceClock: (ms) => {
      offsetMs += ms;
    },
    stop: async () => {
      await facade.stop();
      await operator.stop();
      await simulator?.stop();
    },
  };
}

/** Waits until the Project reconciler has made the project's namespace and role bindings. */
export async function waitForProjectReady(name: string): Promise<Project> {
  const client = testClient();
  return eventually(`project ${name} Ready`, async () => {
    const project = await client.get<Project>(projectKind, name);
    if (project !== undefined) return conditionOf(project)?.status === "True" ? project : undefined;
    // Created through the facade with a generated metadata.name: find it by its OpenStack name.
    const all = await client.list<Project>(projectKind);
    const found = all.items.find((p) => p.spec.name === name);
    return found !== undefined && conditionOf(found)?.status === "True" ? found : undefined;
  });
}

export interface HttpResult {
  status: number;
  headers: Headers;
  body: unknown;
  text: string;
}

/** A raw request to the facade (path includes the service prefix, e.g. /compute/v2.1/servers). */
export async function http(
  env: FacadeEnv,
  method: string,
  pathname: string,
  opts: { token?: string; body?: unknown; rawBody?: string; headers?: Record<string, string> } = {},
): Promise<HttpResult> {
  const headers: Record<string, string> = { Accept: "application/json", ...opts.headers };
  if (opts.token !== undefined) headers["X-Auth-Token"] = opts.token;
  let payload: string | undefined = opts.rawBody;
  if (opts.body !== undefined) {
    payload = JSON.stringify(opts.body);
    headers["Content-Type"] ??= "application/json";
  }
  const response = await fetch(`${env.facade.url}${pathname}`, { method, headers, body: payload });
  const text = await response.text();
  let body: unknown;
  try {
    body = text === "" ? undefined : (JSON.parse(text) as unknown);
  } catch {
    body = undefined;
  }
  return { status: response.status, headers: response.headers, body, text };
}

/** A token for the credentials (POST /v3/auth/tokens); throws unless Keystone answers 201. */
export async function issueToken(env: FacadeEnv, creds: Credentials): Promise<string> {
  const result = await http(env, "POST", "/identity/v3/auth/tokens", {
    body: {
      auth: {
        identity: { methods: ["password"], password: { user: { name: creds.user, domain: { id: "default" }, password: creds.password } } },
        ...(creds.project === undefined ? {} : { scope: { project: { name: creds.project, domain: { id: "default" } } } }),
      },
    },
  });
  const token = result.headers.get("x-subject-token");
  if (result.status !== 201 || token === null) throw new Error(`token issue failed: ${result.status} ${result.text}`);
  return token;
}

function osEnvironment(env: FacadeEnv, creds: Credentials): NodeJS.ProcessEnv {
  const environment: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    OS_AUTH_URL: `${env.facade.url}/identity`,
    OS_USERNAME: creds.user,
    OS_PASSWORD: creds.password,
    OS_USER_DOMAIN_NAME: "Default",
    OS_IDENTITY_API_VERSION: "3",
    OS_REGION_NAME: "RegionOne",
    OS_INTERFACE: "public",
  };
  if (creds.project !== undefined) {
    environment.OS_PROJECT_NAME = creds.project;
    environment.OS_PROJECT_DOMAIN_NAME = "Default";
  }
  return environment;
}

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the real `openstack` CLI as `creds` against the facade. */
export async function openstackCli(env: FacadeEnv, creds: Credentials, args: string[], timeoutMs = 90_000): Promise<CliResult> {
  const bin = path.join(await openstackBinDir(), "openstack");
  return new Promise((resolve) => {
    execFile(bin, args, { env: osEnvironment(env, creds), timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      const code = error === null ? 0 : typeof error.code === "number" ? error.code : 1;
      resolve({ code, stdout, stderr });
    });
  });
}

/** `openstack … -f json`, parsed; fails the test with the CLI's stderr when it does not succeed. */
export async function openstackJson<T = Record<string, unknown>>(env: FacadeEnv, creds: Credentials, args: string[]): Promise<T> {
  const result = await openstackCli(env, creds, [...args, "-f", "json"]);
  if (result.code !== 0) throw new Error(`openstack ${args.join(" ")} failed (${result.code}): ${result.stderr}`);
  return JSON.parse(result.stdout) as T;
}

/** `openstack …` that must succeed (no output parsing). */
export async function openstackOk(env: FacadeEnv, creds: Credentials, args: string[]): Promise<string> {
  const result = await openstackCli(env, creds, args);
  if (result.code !== 0) throw new Error(`openstack ${args.join(" ")} failed (${result.code}): ${result.stderr}`);
  return result.stdout;
}

/**
 * Runs Python with openstacksdk connected as `creds` (`conn` is in scope); the script prints JSON on its last
 * line, which is returned parsed.
 */
export async function openstackSdk<T = unknown>(env: FacadeEnv, creds: Credentials, script: string): Promise<T> {
  const python = path.join(await openstackBinDir(), "python");
  const program = [
    "import json, openstack",
    "conn = openstack.connect(auth_url=__import__('os').environ['OS_AUTH_URL'], username=__import__('os').environ['OS_USERNAME'],",
    "    password=__import__('os').environ['OS_PASSWORD'], project_name=__import__('os').environ.get('OS_PROJECT_NAME'),",
    "    user_domain_name='Default', project_domain_name='Default', region_name='RegionOne')",
    script,
  ].join("\n");
  return new Promise((resolve, reject) => {
    execFile(python, ["-c", program], { env: osEnvironment(env, creds), timeout: 90_000, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      if (error !== null) {
        reject(new Error(`openstacksdk script failed: ${stderr}`));
        return;
      }
      const last = stdout.trim().split("\n").pop() ?? "null";
      resolve(JSON.parse(last) as T);
    });
  });
}

/** A project with a user holding `role` in it, made through the facade as the cloud admin. */
export async function projectWithUser(
  env: FacadeEnv,
  opts: { project?: string; user?: string; role?: "admin" | "member" | "reader"; existingProject?: boolean },
): Promise<Credentials & { project: string; projectId: string; userId: string }> {
  const adminToken = await issueToken(env, env.admin);
  const project = opts.project ?? unique("proj");
  let projectId: string;
  if (opts.existingProject === true) {
    const found = await http(env, "GET", `/identity/v3/projects?name=${encodeURIComponent(project)}`, { token: adminToken });
    projectId = ((found.body as { projects: { id: string }[] }).projects[0] as { id: string }).id;
  } else {
    const created = await http(env, "POST", "/identity/v3/projects", { token: adminToken, body: { project: { name: project } } });
    if (created.status !== 201) throw new Error(`project create failed: ${created.text}`);
    projectId = (created.body as { project: { id: string } }).project.id;
  }
  const user = opts.user ?? unique("user");
  const password = unique("pw");
  const createdUser = await http(env, "POST", "/identity/v3/users", { token: adminToken, body: { user: { name: user, password } } });
  if (createdUser.status !== 201) throw new Error(`user create failed: ${createdUser.text}`);
  const userId = (createdUser.body as { user: { id: string } }).user.id;
  const roles = await http(env, "GET", `/identity/v3/roles?name=${opts.role ?? "member"}`, { token: adminToken });
  const roleId = ((roles.body as { roles: { id: string }[] }).roles[0] as { id: string }).id;
  const granted = await http(env, "PUT", `/identity/v3/projects/${projectId}/users/${userId}/roles/${roleId}`, { token: adminToken });
  if (granted.status !== 204) throw new Error(`role grant failed: ${granted.text}`);
  await waitForProjectReady(project);
  return { user, password, project, projectId, userId };
}
