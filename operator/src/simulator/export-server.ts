// virt-controller's export controller and the export server (virt-exportproxy), simulated: a
// VirtualMachineExport of a PVC becomes Ready with links to the simulator's HTTPS server (the one that plays
// cdi-uploadproxy, same certificate and CA), which serves the PVC's data — the file the upload proxy wrote —
// as raw or gzip to requests carrying the export's token (x-kubevirt-export-token, checked against the
// Secret named by spec.tokenSecretRef). A PVC with no stored data (imported by URL in the simulator) is 404:
// the simulator has no bytes to give, and says so rather than inventing them.
import { createReadStream } from "node:fs";
import { stat } from "node:fs/promises";
import type { IncomingMessage, ServerResponse } from "node:http";
import { pipeline } from "node:stream/promises";
import { createGzip } from "node:zlib";
import { Builtin, Upstream, WatchCache, isNotFound, keyOf, objectKey, type Controller, type KubeObject, type Logger } from "../kube/index.js";
import { applyStatus, simController, type SimContext } from "./runtime.js";
import { EXPORT_TOKEN_HEADER, ExportFormat, exportStatus, parseExportPath, tokenMatches, tokenOfRequest, type VMExport } from "./export-state.js";
import { Annotation, Manager } from "./types.js";

interface SecretObject extends KubeObject {
  data?: Record<string, string>;
}

export interface ExportController {
  controller: Controller<VMExport>;
  cache: WatchCache<VMExport>;
}

export function exportController(ctx: SimContext, opts: { baseUrl: string; caPem: string }): ExportController {
  const cache = new WatchCache<VMExport>({ client: ctx.client, resourceType: Upstream.VirtualMachineExport, logger: ctx.log, backoff: { initialMs: 200, maxMs: 5_000 } });
  const byClaim = "exportsByClaim";
  cache.addIndex(byClaim, (e) => (e.spec.source.kind === "PersistentVolumeClaim" ? [objectKey(e.metadata.namespace, e.spec.source.name)] : []));
  const controller = simController<VMExport>(ctx, {
    name: "sim-vm-export",
    cache,
    // A PVC that appears (or goes) changes what its exports report.
    watches: [{ cache: ctx.caches.claims, mapToKeys: (claim) => cache.byIndex(byClaim, keyOf(claim)).map(keyOf) }],
    reconcile: async (_key, rc) => {
      const exportObject = rc.object;
      if (exportObject === undefined || exportObject.metadata.deletionTimestamp !== undefined) return undefined;
      const claimExists = ctx.caches.claims.get(objectKey(exportObject.metadata.namespace, exportObject.spec.source.name)) !== undefined;
      const status = exportStatus({ exportObject, claimExists, baseUrl: opts.baseUrl, caPem: opts.caPem, now: new Date(ctx.clock.now()).toISOString() });
      // lastTransitionTime moves only when the phase does.
      const previous = exportObject.status?.conditions?.find((c) => c.type === "Ready");
      const ready = status.conditions?.[0];
      if (ready !== undefined && previous?.status === ready.status && previous.lastTransitionTime != null) ready.lastTransitionTime = previous.lastTransitionTime;
      await applyStatus(ctx.client, Upstream.VirtualMachineExport, exportObject, status, Manager.virtController);
      return undefined;
    },
  });
  return { controller, cache };
}

/** Serves `GET /export/<ns>/<export>/volumes/<pvc>/disk.img[.gz]`; false when the path is not an export's. */
export async function serveExport(ctx: SimContext, log: Logger, cache: WatchCache<VMExport>, req: IncomingMessage, res: ServerResponse): Promise<boolean> {
  const target = parseExportPath(req.url ?? "/");
  if (target === undefined) return false;
  const fail = (code: number, message: string): true => {
    req.resume();
    res.writeHead(code, { "Content-Type": "text/plain" }).end(message);
    return true;
  };
  if (req.method !== "GET" && req.method !== "HEAD") return fail(405, "method not allowed");
  const exportObject = cache.get(objectKey(target.namespace, target.exportName));
  if (exportObject === undefined || exportObject.status?.phase !== "Ready" || exportObject.spec.source.name !== target.volume) {
    return fail(404, `export ${target.namespace}/${target.exportName} has no volume ${target.volume}`);
  }
  const secretName = exportObject.spec.tokenSecretRef ?? exportObject.status.tokenSecretRef;
  const secret = secretName === undefined ? undefined : await ctx.client.get<SecretObject>(Builtin.Secret, secretName, target.namespace).catch((e: unknown) => {
    if (isNotFound(e)) return undefined;
    throw e;
  });
  const encoded = secret?.data?.token;
  const expected = encoded === undefined ? undefined : Buffer.from(encoded, "base64").toString("utf8");
  if (!tokenMatches(expected, tokenOfRequest(req.url ?? "/", req.headers[EXPORT_TOKEN_HEADER]))) return fail(401, "authentication failed: invalid export token");
  const claim = ctx.caches.claims.get(objectKey(target.namespace, target.volume));
  const file = claim?.metadata.annotations?.[Annotation.simUploadedFile];
  const size = file === undefined ? undefined : await stat(file).then((s) => s.size, () => undefined);
  if (file === undefined || size === undefined) {
    return fail(404, `the simulator holds no data for PVC ${target.namespace}/${target.volume} (only uploaded data is stored; imported data is not)`);
  }
  const headers: Record<string, string> = { "Content-Type": target.format === ExportFormat.raw ? "application/octet-stream" : "application/gzip" };
  if (target.format === ExportFormat.raw) headers["Content-Length"] = String(size);
  res.writeHead(200, headers);
  if (req.method === "HEAD") {
    res.end();
    return true;
  }
  // The socket's backpressure paces the file read; a client gone mid-way ends the read.
  const streams = target.format === ExportFormat.raw ? [createReadStream(file)] : [createReadStream(file), createGzip()];
  await pipeline([...streams, res]).catch((e: unknown) => {
    log.info({ pvc: `${target.namespace}/${target.volume}`, err: e }, "export download ended early");
  });
  return true;
}
