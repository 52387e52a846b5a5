// Shared setup for the compute integration tests: the operator and the simulator in-process against the
// test control plane, a project per test file, and objects built with small option-taking helpers.
import {
  API_VERSION,
  flavorKind,
  imageKind,
  keypairKind,
  projectKind,
  projectNamespace,
  serverActionKind,
  REQUESTED_AT_ANNOTATION,
  serverKind,
  type Flavor,
  type Image,
  type Keypair,
  type Project,
  type Server,
  type ServerAction,
} from "../src/api/index.js";
import type { KubeClient } from "../src/kube/index.js";
import { loadOperatorConfig } from "../src/operator/config.js";
import { startOperator, type RunningOperator } from "../src/operator/operator.js";
import { startSimulator, uniformDelays, type Simulator } from "../src/simulator/index.js";
import { TEST_OPERATOR_FLAGS, conditionOf, eventually, operatorClient, testLogger, unique } from "./helpers.js";

export const ED25519_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIEWZJk3/fCe/JbNc0DfH/XBKy7ZmneQEfroBq+zVu5f0 alice@example";

export interface ComputeEnv {
  operator: RunningOperator;
  simulator: Simulator;
  stop(): Promise<void>;
}

/** The operator (disks ReadWriteMany, so live migration works) and a simulator with short delays. */
export async function startComputeEnv(client: KubeClient, delayMs = 30): Promise<ComputeEnv> {
  const simulator = await startSimulator({ client, log: testLogger("simulator"), config: { delays: uniformDelays(delayMs) } });
  const config = loadOperatorConfig(
    [...TEST_OPERATOR_FLAGS],
    {},
  );
  const operator = await startOperator({ client: operatorClient(), logger: testLogger("operator"), config });
  return {
    operator,
    simulator,
    stop: async () => {
      await operator.stop();
      await simulator.stop();
    },
  };
}

/** A Ready project; returns its namespace. */
export async function readyProject(client: KubeClient, prefix: string, spec: Project["spec"] = {}): Promise<{ name: string; namespace: string }> {
  const name = unique(prefix);
  await client.create<Project>(projectKind, { apiVersion: API_VERSION, kind: "Project", metadata: { name }, spec });
  await eventually(`project ${name} Ready`, async () => conditionOf(await client.get(projectKind, name))?.status === "True");
  return { name, namespace: projectNamespace(name) };
}

export async function createFlavor(client: KubeClient, spec: Flavor["spec"], prefix = "flv"): Promise<string> {
  const name = unique(prefix);
  await client.create<Flavor>(flavorKind, { apiVersion: API_VERSION, kind: "Flavor", metadata: { name }, spec });
  return name;
}

export function imageObject(namespace: string, name: string, spec: Partial<Image["spec"]> = {}): Image {
  return {
    apiVersion: API_VERSION,
    kind: "Image",
    metadata: { name, namespace },
    spec: { source: { http: { url: "https://download.cirros-cloud.net/0.6.2/cirros-0.6.2-x86_64-disk.img" } }, diskFormat: "qcow2", ...spec },
  };
}

export async function activeImage(client: KubeClient, namespace: string, spec: Partial<Image["spec"]> = {}): Promise<string> {
  const name = unique("cirros");
  await client.create(imageKind, imageObject(namespace, name, spec));
  await eventually(`image ${name} active`, async () => (await client.get<Image>(imageKind, name, namespace))?.status?.status === "active");
  return name;
}

export async function createKeypair(client: KubeClient, namespace: string, publicKey = ED25519_KEY): Promise<string> {
  const name = unique("key");
  await client.create<Keypair>(keypairKind, { apiVersion: API_VERSION, kind: "Keypair", metadata: { name, namespace }, spec: { publicKey } });
  return name;
}

export function serverObject(namespace: string, name: string, spec: Server["spec"]): Server {
  return { apiVersion: API_VERSION, kind: "Server", metadata: { name, namespace }, spec };
}

export async function getServer(client: KubeClient, namespace: string, name: string): Promise<Server | undefined> {
  return client.get<Server>(serverKind, name, namespace);
}

/** Waits for a server's Nova status (and, unless asked otherwise, no task in progress). */
export async function serverStatus(
  client: KubeClient,
  namespace: string,
  name: string,
  status: string,
  opts: { settled?: boolean; timeoutMs?: number } = {},
): Promise<Server> {
  return eventually(
    `server ${name} ${status}`,
    async () => {
      const server = await getServer(client, namespace, name);
      const s = server?.status;
      const settled = opts.settled ?? true;
      return s?.status === status && (!settled || s.taskState === undefined) ? server : undefined;
    },
    opts.timeoutMs ?? 30_000,
  );
}

export async function createAction(client: KubeClient, namespace: string, spec: ServerAction["spec"]): Promise<string> {
  const name = unique(spec.action.toLowerCase());
  // Stamped with the request time, as the facade does: two actions in one second keep their order.
  const annotations = { [REQUESTED_AT_ANNOTATION]: new Date().toISOString() };
  await client.create<ServerAction>(serverActionKind, { apiVersion: API_VERSION, kind: "ServerAction", metadata: { name, namespace, annotations }, spec });
  return name;
}

export async function actionPhase(client: KubeClient, namespace: string, name: string, phase: string, timeoutMs = 30_000): Promise<ServerAction> {
  let last: ServerAction | undefined;
  try {
    return await eventually(
      `ServerAction ${name} ${phase}`,
      async () => {
        last = await client.get<ServerAction>(serverActionKind, name, namespace);
        return last?.status?.phase === phase ? last : undefined;
      },
      timeoutMs,
    );
  } catch (error) {
    // Say where it stuck: the action's own status, and what its server was doing.
    const server = last === undefined ? undefined : await client.get<Server>(serverKind, last.spec.serverRef, namespace);
    const seen = { action: last?.status, server: { status: server?.status?.status, taskState: server?.status?.taskState, currentAction: server?.status?.currentAction } };
    throw new Error(`${String(error)}; last seen: ${JSON.stringify(seen)}`, { cause: error });
  }
}

/**
 * Every Nova status a server reports, in the order watch events bring them (consecutive duplicates
 * dropped): how tests see transient states such as REBOOT that a poll could miss.
 */
export async function recordStatuses(
  client: KubeClient,
  namespace: string,
  name: string,
): Promise<{ seen: string[]; stop: (last?: string) => Promise<void> }> {
  const seen: string[] = [];
  const record = (server: Server | undefined): void => {
    const value = server?.status?.status;
    if (value !== undefined && seen.at(-1) !== value) seen.push(value);
  };
  // The current state from a list, then every change after its resourceVersion: a watch that merely starts
  // "now" connects at some later moment and, under load, misses the state the test is about to leave.
  const fieldSelector = `metadata.name=${name}`;
  const current = await client.list<Server>(serverKind, { namespace, fieldSelector });
  record(current.items[0]);
  const abort = new AbortController();
  void (async () => {
    try {
      for await (const event of client.watch<Server>(serverKind, { namespace, fieldSelector, resourceVersion: current.resourceVersion }, abort.signal)) {
        if (event.type === "ERROR" || event.type === "BOOKMARK") continue;
        record(event.object);
      }
    } catch {
      // the test ended the watch
    }
  })();
  return {
    seen,
    /** Stops watching, once the watch has brought `last` (a GET may see it before the watch event arrives). */
    stop: async (last?: string) => {
      if (last !== undefined) await eventually(`watch event for status ${last}`, () => seen.at(-1) === last, 10_000);
      abort.abort();
    },
  };
}
