// The operations endpoint: /metrics for Prometheus, /healthz (the process answers) and /readyz
// (the caller decides: caches synced, and leader or a healthy standby).
import http from "node:http";
import type { AddressInfo } from "node:net";
import type { Registry } from "prom-client";
import type { Logger } from "pino";

export interface OpsServerOptions {
  port: number;
  host?: string;
  registry: Registry;
  readiness: () => boolean;
  logger?: Logger;
}

export interface OpsServer {
  /** The bound port (useful with port 0). */
  readonly port: number;
  close(): Promise<void>;
}

export async function startOpsServer(opts: OpsServerOptions): Promise<OpsServer> {
  const server = http.createServer((req, res) => {
    void handle(req, res, opts);
  });
  // Scrapes and probes are short; never let a stuck client hold shutdown.
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port, opts.host ?? "0.0.0.0", () => {
      server.off("error", reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  opts.logger?.info({ port }, "ops server listening");
  return {
    port,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((e) => {
          if (e === undefined) resolve();
          else reject(e);
        });
        server.closeAllConnections();
      }),
  };
}

async function handle(req: http.IncomingMessage, res: http.ServerResponse, opts: OpsServerOptions): Promise<void> {
  const path = new URL(req.url ?? "/", "http://localhost").pathname;
  if (req.method !== "GET" && req.method !== "HEAD") {
    reply(res, 405, "method not allowed\n");
    return;
  }
  try {
    switch (path) {
      case "/metrics":
        reply(res, 200, await opts.registry.metrics(), opts.registry.contentType);
        return;
      case "/healthz":
      case "/livez":
        reply(res, 200, "ok\n");
        return;
      case "/readyz":
        if (opts.readiness()) reply(res, 200, "ok\n");
        else reply(res, 503, "not ready\n");
        return;
      default:
        reply(res, 404, "not found\n");
    }
  } catch (e) {
    opts.logger?.error({ err: e, path }, "ops endpoint failed");
    reply(res, 500, "internal error\n");
  }
}

function reply(res: http.ServerResponse, status: number, body: string, contentType = "text/plain; charset=utf-8"): void {
  res.writeHead(status, { "Content-Type": contentType, "Content-Length": Buffer.byteLength(body) });
  res.end(body);
}

/** Readiness that holds once every cache has synced. */
export function cachesSynced(caches: readonly { hasSynced(): boolean }[]): () => boolean {
  return () => caches.every((c) => c.hasSynced());
}
