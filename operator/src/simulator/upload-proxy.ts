// cdi-uploadproxy, simulated: an HTTPS server that takes `POST /v1beta1/upload` with a token from
// upload.cdi.kubevirt.io, streams the body into a file under the simulator's data directory (bounded memory:
// the file stream's backpressure paces the socket), and then marks the PVC the way CDI's upload server does
// (cdi.kubevirt.io/storage.pod.phase: Succeeded), which moves the DataVolume to Succeeded. A broken or
// refused stream leaves nothing: the partial file is removed and the DataVolume stays UploadReady.
// The same server serves VirtualMachineExport downloads of those files (export-server.ts).
import { createWriteStream } from "node:fs";
import { mkdir, readFile, rename, rm } from "node:fs/promises";
import https from "node:https";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { Transform, type TransformCallback } from "node:stream";
import { pipeline } from "node:stream/promises";
import { Builtin, isNotFound, objectKey, type Logger } from "../kube/index.js";
import { exportController, serveExport, type ExportController } from "./export-server.js";
import { parseQuantity } from "./quantity.js";
import type { SimContext } from "./runtime.js";
import { Annotation, Manager } from "./types.js";
import { answerTokenRequest, tooLarge, uploadRefusal, verifyToken, type UploadApiRequest } from "./upload-state.js";
import { uploadApiGroup, uploadApiResourceList } from "./upload-state.js";

const STALLED_UPLOAD_MS = 60_000;

export interface UploadProxy {
  /** Where clients send uploads, e.g. https://127.0.0.1:41234. */
  url: string;
  /** The CA that signed the proxy's certificate (PEM file). */
  caFile: string;
  stop(): Promise<void>;
}

/** The aggregated API's answer (cdi-apiserver): discovery and UploadTokenRequest. */
export function answerUploadApi(ctx: SimContext, request: UploadApiRequest, body: string, secret: Buffer): { code: number; body: unknown } {
  switch (request.kind) {
    case "group":
      return { code: 200, body: uploadApiGroup() };
    case "discovery":
      return { code: 200, body: uploadApiResourceList() };
    case "tokenRequest": {
      let parsed: unknown;
      try {
        parsed = JSON.parse(body) as unknown;
      } catch {
        parsed = undefined;
      }
      const exists = (name: string) => ctx.caches.claims.get(objectKey(request.namespace, name)) !== undefined;
      return answerTokenRequest(parsed, request.namespace, exists, secret, ctx.clock.now());
    }
  }
}

class ByteLimit extends Transform {
  bytes = 0;
  constructor(private readonly limit: number | undefined) {
    super();
  }
  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    this.bytes += chunk.length;
    if (this.limit !== undefined && this.bytes > this.limit) {
      done(new UploadTooLarge(tooLarge(this.bytes, this.limit)));
      return;
    }
    done(null, chunk);
  }
}

class UploadTooLarge extends Error {
  override readonly name = "UploadTooLarge";
}

export async function startUploadProxy(
  ctx: SimContext,
  opts: { cert: string; key: string; caFile: string; dataDir: string; secret: Buffer },
): Promise<UploadProxy> {
  const log = ctx.log.child({ component: "cdi-uploadproxy" });
  await mkdir(opts.dataDir, { recursive: true });
  const busy = new Set<string>();
  // The same server plays KubeVirt's export server (export-server.ts): one loopback address, one CA.
  const exportServer: { current?: ExportController } = {};
  // No whole-request deadline: an upload takes as long as its bytes do.
  const server = https.createServer({ cert: opts.cert, key: opts.key, requestTimeout: 0 }, (req, res) => {
    const exports = exportServer.current;
    const served = exports === undefined ? Promise.resolve(false) : serveExport(ctx, log, exports.cache, req, res);
    served
      .then((done) => (done ? undefined : accept(ctx, log, opts, busy, req, res)))
      .catch((e: unknown) => {
        log.error({ err: e }, "upload or export request failed");
        if (!res.headersSent) res.writeHead(500, { "Content-Type": "text/plain" }).end(e instanceof Error ? e.message : String(e));
      });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const url = `https://127.0.0.1:${port}`;
  const exports = exportController(ctx, { baseUrl: url, caPem: await readFile(opts.caFile, "utf8") });
  exportServer.current = exports;
  // Not awaited: a cluster without the VirtualMachineExport CRD still gets its upload proxy (exports then never sync).
  exports.controller.start().catch((e: unknown) => {
    log.error({ err: e }, "the VirtualMachineExport controller did not start");
  });
  log.info({ port }, "serving cdi-uploadproxy and the VirtualMachineExport server");
  return {
    url,
    caFile: opts.caFile,
    stop: async () => {
      await exports.controller.stop();
      await exports.cache.stop();
      server.closeAllConnections();
      await new Promise<void>((resolve) => {
        server.close(() => {
          resolve();
        });
      });
    },
  };
}

async function accept(
  ctx: SimContext,
  log: Logger,
  opts: { dataDir: string; secret: Buffer },
  busy: Set<string>,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  const authorization = req.headers.authorization;
  const claims = authorization?.startsWith("Bearer ") === true ? verifyToken(opts.secret, authorization.slice(7), ctx.clock.now()) : undefined;
  const key = claims === undefined || "refused" in claims ? "" : objectKey(claims.namespace, claims.pvcName);
  const claim = key === "" ? undefined : ctx.caches.claims.get(key);
  const dv = key === "" ? undefined : ctx.caches.dataVolumes.get(key);
  const declared = req.headers["content-length"] === undefined ? undefined : Number(req.headers["content-length"]);
  const capacity = parseQuantity(claim?.status?.capacity?.storage ?? claim?.spec?.resources?.requests?.storage);
  const refusal = uploadRefusal({
    method: req.method ?? "",
    path: req.url ?? "/",
    authorization,
    claims,
    dataVolumePhase: claim === undefined ? undefined : dv?.spec.source?.upload === undefined ? "" : (dv.status?.phase ?? ""),
    declaredBytes: declared !== undefined && Number.isFinite(declared) ? declared : undefined,
    capacityBytes: capacity,
    busy: busy.has(key),
  });
  if (refusal !== undefined || claim === undefined) {
    req.resume(); // drain what the client already sent
    res.writeHead(refusal?.code ?? 404, { "Content-Type": "text/plain", Connection: "close" }).end(refusal?.message ?? "not found");
    return;
  }
  busy.add(key);
  const namespace = claim.metadata.namespace ?? "";
  const name = claim.metadata.name ?? "";
  const file = path.join(opts.dataDir, `${namespace}_${name}.img`);
  const partial = `${file}.partial`;
  const limit = new ByteLimit(capacity);
  // pipe(), not pipeline(): refusing data that does not fit must leave the connection up for the answer.
  req.once("aborted", () => {
    limit.destroy(new Error("aborted"));
  });
  // As cdi-uploadproxy, a stream that stalls is dropped rather than holding the PVC busy.
  req.setTimeout(STALLED_UPLOAD_MS, () => {
    limit.destroy(new Error(`no data for ${STALLED_UPLOAD_MS / 1000} s`));
    req.destroy();
  });
  req.pipe(limit);
  try {
    await pipeline(limit, createWriteStream(partial));
    await rename(partial, file);
  } catch (e) {
    await rm(partial, { force: true });
    const refused = e instanceof UploadTooLarge;
    log.warn({ pvc: key, bytes: limit.bytes, err: e }, refused ? "upload refused: too large" : "upload aborted");
    req.unpipe(limit);
    if (!req.destroyed) req.resume();
    if (!res.headersSent && !res.destroyed) {
      res.writeHead(refused ? 400 : 500, { "Content-Type": "text/plain", Connection: "close" }).end(e instanceof Error ? e.message : String(e));
    }
    return;
  } finally {
    busy.delete(key);
  }
  const marked = await ctx.client.patch(
    Builtin.PersistentVolumeClaim,
    name,
    namespace,
    {
      metadata: {
        annotations: {
          [Annotation.cdiPodPhase]: "Succeeded",
          [Annotation.simUploadedBytes]: String(limit.bytes),
          [Annotation.simUploadedFile]: file,
        },
      },
    },
    "merge",
    { fieldManager: Manager.cdi },
  ).catch((e: unknown) => {
    if (isNotFound(e)) return undefined; // deleted during the upload
    throw e;
  });
  if (marked === undefined) {
    await rm(file, { force: true });
    res.writeHead(404, { "Content-Type": "text/plain" }).end(`PVC ${key} was deleted during the upload`);
    return;
  }
  log.info({ pvc: key, bytes: limit.bytes }, "upload complete");
  res.writeHead(200, { "Content-Type": "text/plain" }).end();
}
