import { Registry } from "prom-client";
import { afterEach, describe, expect, it } from "vitest";
import { cachesSynced, startOpsServer, type OpsServer } from "./health.js";
import { createOperatorMetrics, queueMetricsFor } from "./metrics.js";

let server: OpsServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

async function get(path: string): Promise<{ status: number; body: string; contentType: string | null }> {
  const res = await fetch(`http://127.0.0.1:${server?.port ?? 0}${path}`);
  return { status: res.status, body: await res.text(), contentType: res.headers.get("content-type") };
}

describe("ops server", () => {
  it("serves /healthz, /readyz from the readiness function, and 404 elsewhere", async () => {
    let ready = false;
    server = await startOpsServer({ port: 0, host: "127.0.0.1", registry: new Registry(), readiness: () => ready });
    expect(await get("/healthz")).toMatchObject({ status: 200, body: "ok\n" });
    expect((await get("/readyz")).status).toBe(503);
    ready = true;
    expect(await get("/readyz")).toMatchObject({ status: 200, body: "ok\n" });
    expect((await get("/nope")).status).toBe(404);
  });

  it("serves the operator metrics from its own registry", async () => {
    const registry = new Registry();
    const metrics = createOperatorMetrics(registry);
    metrics.reconcileTotal.inc({ controller: "server", result: "success" });
    metrics.reconcileDuration.observe({ controller: "server" }, 0.2);
    queueMetricsFor(metrics, "server").depth(3);
    queueMetricsFor(metrics, "server").retry();
    metrics.leader.set({ identity: "pod-0" }, 1);
    server = await startOpsServer({ port: 0, host: "127.0.0.1", registry, readiness: () => true });
    const res = await get("/metrics");
    expect(res.status).toBe(200);
    expect(res.contentType).toContain("text/plain");
    for (const line of [
      'altostack_reconcile_total{controller="server",result="success"} 1',
      'altostack_reconcile_duration_seconds_count{controller="server"} 1',
      'altostack_workqueue_depth{controller="server"} 3',
      'altostack_workqueue_retries_total{controller="server"} 1',
      'altostack_leader{identity="pod-0"} 1',
      "# TYPE altostack_reconcile_errors_total counter",
    ]) {
      expect(res.body).toContain(line);
    }
    // Not the global registry: nothing else leaks in.
    expect(res.body).not.toContain("process_cpu");
  });

  it("cachesSynced is true only when every cache has synced", () => {
    const caches = [{ hasSynced: () => true }, { hasSynced: () => false }];
    expect(cachesSynced(caches)()).toBe(false);
    expect(cachesSynced(caches.slice(0, 1))()).toBe(true);
  });
});
