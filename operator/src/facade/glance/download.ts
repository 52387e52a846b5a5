// Glance image data out of the cluster: `GET /v2/images/{id}/file` exports the image's PVC with a KubeVirt
// VirtualMachineExport created as the caller (with a token Secret the facade makes up and owns through the
// export, so the garbage collector removes it with the export), waits for the export to be Ready, and streams
// the export server's raw volume (or its gzip form, decompressed on the way) to the client with the socket's
// backpressure. The export is deleted when the stream ends. Pure parts (the objects, the link choice, the
// fault mapping) are tested on their own.
import { randomBytes } from "node:crypto";
import https from "node:https";
import type { IncomingMessage } from "node:http";
import { Readable, pipeline } from "node:stream";
import { createGunzip } from "node:zlib";
import type { VirtualMachineExport, VirtualMachineExportStatus } from "../../generated/index.js";
import { Upstream, apiVersionOf, type KubeClient, type KubeObject } from "../../kube/index.js";
import { ApiError } from "../common/errors.js";

export type ExportObject = VirtualMachineExport & KubeObject;
export interface TokenSecret extends KubeObject {
  type: string;
  data: Record<string, string>;
}

/** The header virt-exportproxy reads the export token from. */
export const EXPORT_TOKEN_HEADER = "x-kubevirt-export-token";
/** A download the facade loses track of (a crash) is cleaned up by KubeVirt after this. */
export const EXPORT_TTL = "1h";
// KubeVirt names the export's Service virt-export-<name>, a DNS label (≤ 63).
const MAX_NAME_PREFIX = 63 - "virt-export-".length - "-download-".length - 8;

/** The export of one image's PVC, named after the image with a random suffix (one per download). */
export function imageExport(opts: { imageName: string; namespace: string; claimName: string; suffix: string }): ExportObject {
  const prefix = opts.imageName.slice(0, MAX_NAME_PREFIX).replace(/[-.]+$/, "");
  const name = `${prefix}-download-${opts.suffix}`;
  return {
    apiVersion: apiVersionOf(Upstream.VirtualMachineExport),
    kind: Upstream.VirtualMachineExport.kind,
    metadata: { name, namespace: opts.namespace, labels: { "altostack.io/image-download": opts.imageName.slice(0, 63).replace(/[-.]+$/, "") } },
    spec: {
      source: { apiGroup: "", kind: "PersistentVolumeClaim", name: opts.claimName },
      tokenSecretRef: `${name}-token`,
      ttlDuration: EXPORT_TTL,
    },
  };
}

/** The token Secret of an export (key `token`), owned by the export so it goes with it. */
export function exportTokenSecret(exportObject: ExportObject, token: string): TokenSecret {
  const { name, namespace, uid } = exportObject.metadata;
  return {
    apiVersion: "v1",
    kind: "Secret",
    metadata: {
      name: exportObject.spec.tokenSecretRef ?? `${name ?? ""}-token`,
      ...(namespace === undefined ? {} : { namespace }),
      ownerReferences: uid === undefined ? [] : [{ apiVersion: apiVersionOf(Upstream.VirtualMachineExport), kind: Upstream.VirtualMachineExport.kind, name: name ?? "", uid }],
    },
    type: "Opaque",
    data: { token: Buffer.from(token).toString("base64") },
  };
}

export function newExportToken(): string {
  return randomBytes(32).toString("base64url");
}

export function newExportSuffix(): string {
  return randomBytes(4).toString("hex");
}

export interface ExportLink {
  url: string;
  /** PEM of the CA that signed the export server's certificate. */
  ca: string | undefined;
  gzip: boolean;
}

/**
 * Where to read a Ready export's volume: the in-cluster (internal) link, raw when offered, else gzip (which the
 * facade decompresses); undefined when the export offers neither (e.g. only `dir`/`tar.gz` for a filesystem PVC).
 */
export function exportLinkOf(status: VirtualMachineExportStatus | undefined, claimName: string): ExportLink | undefined {
  const internal = status?.links?.internal;
  const volume = internal?.volumes?.find((v) => v.name === claimName) ?? (internal?.volumes?.length === 1 ? internal.volumes[0] : undefined);
  const formats = volume?.formats ?? [];
  const raw = formats.find((f) => f.format === "raw");
  const gzip = formats.find((f) => f.format === "gzip");
  const chosen = raw ?? gzip;
  if (chosen === undefined) return undefined;
  return { url: chosen.url, ca: internal?.cert === undefined || internal.cert === "" ? undefined : internal.cert, gzip: chosen === gzip };
}

/** Why an export is not Ready, from its Ready condition (for the fault's message). */
export function exportNotReadyReason(status: VirtualMachineExportStatus | undefined): string {
  const ready = status?.conditions?.find((c) => c.type === "Ready");
  const detail = [ready?.reason, ready?.message].filter((s) => s !== undefined && s !== "").join(": ");
  return `phase ${status?.phase ?? "none yet"}${detail === "" ? "" : ` (${detail})`}`;
}

/** Glance's answer when the export server refuses or fails, from its status. */
export function exportFault(status: number, text: string, imageId: string): ApiError {
  const detail = text.trim().slice(0, 300);
  if (status === 404) return new ApiError(404, `The data of image ${imageId} could not be found in the image store${detail === "" ? "" : ` (${detail})`}.`);
  if (status === 401 || status === 403) return new ApiError(503, `The image store refused to hand out the data of image ${imageId} (export server answered ${status}: ${detail}). Retry the download.`);
  return new ApiError(503, `The image store could not serve the data of image ${imageId} (export server answered ${status}: ${detail}). Retry the download.`);
}

/**
 * Resolves with the export once it reports phase Ready, watched as the caller; undefined when time is up or
 * the export is deleted. One watch from the created object's resourceVersion, no polling.
 */
export async function awaitExportReady(kube: KubeClient, created: ExportObject, timeoutMs: number): Promise<ExportObject | undefined> {
  if (created.status?.phase === "Ready") return created;
  const abort = new AbortController();
  const timer = setTimeout(() => {
    abort.abort();
  }, timeoutMs);
  try {
    const events = kube.watch<ExportObject>(
      Upstream.VirtualMachineExport,
      {
        namespace: created.metadata.namespace,
        fieldSelector: `metadata.name=${created.metadata.name ?? ""}`,
        resourceVersion: created.metadata.resourceVersion,
        timeoutSeconds: Math.ceil(timeoutMs / 1000),
        allowWatchBookmarks: false,
      },
      abort.signal,
    );
    for await (const event of events) {
      if (event.type === "DELETED") return undefined;
      if ((event.type === "ADDED" || event.type === "MODIFIED") && event.object.status?.phase === "Ready") return event.object;
    }
    return undefined;
  } catch (e) {
    if (abort.signal.aborted) return undefined;
    throw e;
  } finally {
    clearTimeout(timer);
    abort.abort();
  }
}

/** GETs the export's URL with its token; resolves with the response (whatever its status) once headers arrive. */
export function openExport(link: ExportLink, token: string): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    const request = https.get(link.url, { headers: { [EXPORT_TOKEN_HEADER]: token, "Accept-Encoding": "identity" }, ...(link.ca === undefined ? {} : { ca: link.ca }) }, resolve);
    request.on("error", reject);
  });
}

const MAX_FAULT_TEXT = 4096;

/** The (short) text of a refusal, read and dropped. */
export async function refusalText(response: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of response as AsyncIterable<Buffer>) {
    if (size < MAX_FAULT_TEXT) chunks.push(chunk);
    size += chunk.length;
  }
  return Buffer.concat(chunks).toString("utf8").slice(0, MAX_FAULT_TEXT);
}

/**
 * The bytes of the image: the export's body (gunzipped when it is the gzip form), cut at `sizeBytes` when the
 * image's size is known (a volume is at least as large as the data put into it). Pull-based, so the client's
 * pace paces the export server; a broken source fails the stream, and ending early closes the source.
 */
export function imageBytes(response: Readable, gzip: boolean, sizeBytes: number | undefined): Readable {
  const decoded: Readable = gzip
    ? pipeline(response, createGunzip(), () => {
        // errors surface through the gunzip stream's iteration
      })
    : response;
  if (sizeBytes === undefined) return decoded;
  return Readable.from(cut(decoded, sizeBytes), { objectMode: false });
}

async function* cut(source: AsyncIterable<Buffer>, limit: number): AsyncGenerator<Buffer> {
  let sent = 0;
  if (limit === 0) return;
  for await (const chunk of source) {
    const room = limit - sent;
    if (chunk.length >= room) {
      yield chunk.subarray(0, room);
      return; // leaving the loop destroys the source
    }
    sent += chunk.length;
    yield chunk;
  }
  if (sent < limit) throw new Error(`the image store sent ${sent} bytes of ${limit}`);
}

/** Content-Length for the client: the image's size when known, else the export's raw length, else none. */
export function downloadLength(sizeBytes: number | undefined, response: Pick<IncomingMessage, "headers">, gzip: boolean): number | undefined {
  const declared = response.headers["content-length"] === undefined ? undefined : Number(response.headers["content-length"]);
  const raw = !gzip && declared !== undefined && Number.isSafeInteger(declared) ? declared : undefined;
  if (sizeBytes !== undefined) return raw === undefined ? sizeBytes : Math.min(sizeBytes, raw);
  return raw;
}
