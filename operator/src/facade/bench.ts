// Benchmark (not a test): p50/p99 of `GET /compute/v2.1/servers/detail` over 1,000 servers and of token issue,
// against a real control plane. `npx tsx operator/src/facade/bench.ts [servers] [requests]`.
//
// The servers are plain Server objects (no operator, no simulator): what is measured is the facade's read path —
// token validation, the access review (cached), the cache read and the Nova mapping of every server — at
// microversion 2.79, as the cloud admin listing all projects (`all_tenants`, the largest listing there is).
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { API_VERSION, flavorKind, projectKind, serverKind } from "../api/index.js";
import { findSharedUpstreamDir, installCrds, repoRoot } from "../devenv/crds.js";
import { resolveToolsBinDir, startControlPlane } from "../devenv/controlplane.js";
import { Builtin, KubeClient, rootLogger, silentLogger } from "../kube/index.js";
import { loadFacadeConfig } from "./config.js";
import { startFacade } from "./facade.js";

const SERVERS = Number(process.argv[2] ?? 1000);
const REQUESTS = Number(process.argv[3] ?? 200);
const log = rootLogger({ name: "bench", level: "info" });

function percentile(samples: readonly number[], p: number): number {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? NaN;
}

async function timed(count: number, run: () => Promise<void>): Promise<number[]> {
  const samples: number[] = [];
  for (let i = 0; i < count; i++) {
    const started = process.hrtime.bigint();
    await run();
    samples.push(Number(process.hrtime.bigint() - started) / 1e6);
  }
  return samples;
}

const report = (what: string, samples: readonly number[]) => {
  process.stdout.write(`${what}: n=${samples.length} p50=${percentile(samples, 50).toFixed(1)} ms p99=${percentile(samples, 99).toFixed(1)} ms\n`);
};

async function main(): Promise<void> {
  const dir = await mkdtemp(path.join(os.tmpdir(), "altostack-bench-"));
  const binDir = await resolveToolsBinDir();
  const root = repoRoot();
  const controlPlane = await startControlPlane({
    dir,
    binDir,
    withControllerManager: false,
    log,
    beforeControllerManager: async (kubeconfig) => {
      await installCrds({ kubeconfigPath: kubeconfig, kubectl: path.join(binDir, "kubectl"), ourCrdsDir: path.join(root, "crds"), upstreamDir: findSharedUpstreamDir(root), log });
    },
  });
  try {
    const client = KubeClient.fromFile(controlPlane.kubeconfigPath);
    const namespace = "project-bench";
    await client.create(Builtin.Namespace, { apiVersion: "v1", kind: "Namespace", metadata: { name: namespace } });
    await client.create(projectKind, { apiVersion: API_VERSION, kind: "Project", metadata: { name: "bench" }, spec: {} });
    await client.create(flavorKind, { apiVersion: API_VERSION, kind: "Flavor", metadata: { name: "m1.small" }, spec: { vcpus: 1, ram: 2048, disk: 20 } });
    const started = Date.now();
    for (let i = 0; i < SERVERS; i += 25) {
      await Promise.all(
        Array.from({ length: Math.min(25, SERVERS - i) }, (_, j) =>
          client.create(serverKind, {
            apiVersion: API_VERSION,
            kind: "Server",
            metadata: { name: `vm-${i + j}`, namespace },
            spec: { flavorRef: "m1.small", imageRef: "cirros", networks: [{ networkRef: "net" }], metadata: { index: String(i + j) } },
          }),
        ),
      );
    }
    log.info({ servers: SERVERS, ms: Date.now() - started }, "servers created");

    const password = "bench-password";
    const facade = await startFacade({
      client,
      logger: silentLogger(),
      config: loadFacadeConfig(["--host=127.0.0.1", "--port=0"], { ALTOSTACK_ADMIN_PASSWORD: password }),
    });
    const issue = async (): Promise<string> => {
      const response = await fetch(`${facade.url}/identity/v3/auth/tokens`, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({
          auth: { identity: { methods: ["password"], password: { user: { name: "admin", domain: { id: "default" }, password } } }, scope: { project: { name: "admin", domain: { id: "default" } } } },
        }),
      });
      await response.text();
      const token = response.headers.get("x-subject-token");
      if (response.status !== 201 || token === null) throw new Error(`token issue failed: ${response.status}`);
      return token;
    };
    const token = await issue();
    let bytes = 0;
    let listed = 0;
    const detail = async (): Promise<void> => {
      const response = await fetch(`${facade.url}/compute/v2.1/servers/detail?all_tenants=1`, {
        headers: { "X-Auth-Token": token, "OpenStack-API-Version": "compute 2.79" },
      });
      const text = await response.text();
      if (response.status !== 200) throw new Error(`servers/detail failed: ${response.status} ${text.slice(0, 200)}`);
      bytes = text.length;
      listed = (JSON.parse(text) as { servers: unknown[] }).servers.length;
    };
    await timed(20, detail); // warm-up: caches, JIT, keep-alive
    const detailSamples = await timed(REQUESTS, detail);
    const tokenSamples = await timed(Math.min(REQUESTS, 100), async () => {
      await issue();
    });
    report(`GET /compute/v2.1/servers/detail (${listed} servers, ${(bytes / 1024).toFixed(0)} KiB)`, detailSamples);
    report("POST /identity/v3/auth/tokens (password, scrypt N=32768)", tokenSamples);
    await facade.stop();
    client.close();
  } finally {
    await controlPlane.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

main().catch((e: unknown) => {
  log.fatal({ err: e }, "bench failed");
  process.exit(1);
});
