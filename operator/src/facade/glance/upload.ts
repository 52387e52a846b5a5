// Glance image data into CDI: the bytes of `PUT /v2/images/{id}/file` are piped (never buffered whole) through
// a digest that counts them and computes md5 (Glance's `checksum`) and sha512 (`os_hash_value`) on the fly,
// into cdi-uploadproxy with a token from upload.cdi.kubevirt.io requested as the caller. The digest's record is
// written on the Image before the last byte leaves, so the image controller finds it when CDI reports the
// data in place. Pure parts (the digest, the fault mapping) are tested on their own.
import { createHash, type Hash } from "node:crypto";
import { readFile } from "node:fs/promises";
import http from "node:http";
import https from "node:https";
import { Transform, type Readable, type TransformCallback } from "node:stream";
import { pipeline } from "node:stream/promises";
import { z } from "zod";
import type { KubeClient, ResourceType } from "../../kube/index.js";
import type { UploadRecord } from "../../reconcilers/image/upload-record.js";
import { ApiError } from "../common/errors.js";

/** Glance's answer to data beyond image_size_cap (glance/api/v2/image_data.py, ImageSizeLimitExceeded). */
export function imageTooLarge(cap: number): ApiError {
  return new ApiError(413, `The incoming image is too large: Denying attempt to upload image larger than ${cap} bytes.`);
}

/** The size and digests of the bytes that flow through; fails the stream past `capBytes`. */
export class UploadDigest extends Transform {
  private bytes = 0;
  private readonly md5: Hash = createHash("md5");
  private readonly sha512: Hash = createHash("sha512");

  /** `beforeEnd` runs with the record once every byte has passed and before the end reaches downstream. */
  constructor(
    private readonly capBytes: number,
    private readonly beforeEnd: (record: UploadRecord) => Promise<void> = () => Promise.resolve(),
  ) {
    super();
  }

  get size(): number {
    return this.bytes;
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    this.bytes += chunk.length;
    if (this.bytes > this.capBytes) {
      done(imageTooLarge(this.capBytes));
      return;
    }
    this.md5.update(chunk);
    this.sha512.update(chunk);
    done(null, chunk);
  }

  override _flush(done: TransformCallback): void {
    const record = { size: this.bytes, md5: this.md5.digest("hex"), sha512: this.sha512.digest("hex") };
    this.beforeEnd(record).then(
      () => {
        done();
      },
      (e: unknown) => {
        done(e instanceof Error ? e : new Error(String(e)));
      },
    );
  }
}

/**
 * What Glance answers when its store refuses the data, from cdi-uploadproxy's status and text: a PVC too
 * small is Glance's "storage media is full" (413); the PVC gone is the image deleted during the upload (409);
 * an upload server not ready, or busy with another upload, is 503 (retry); anything else is the store failing.
 */
export function proxyFault(status: number, text: string, imageId: string): ApiError {
  const detail = text.trim().slice(0, 500);
  if (status === 400 && /larger than the reported available storage|A larger PVC is required/i.test(detail)) {
    return new ApiError(413, `Image storage media is full: ${detail}`);
  }
  if (status === 400) return new ApiError(400, `The image data was refused by the image store: ${detail}`);
  if (status === 404) {
    return new ApiError(409, `Image ${imageId} could not be found after upload. The image may have been deleted during the upload.`);
  }
  if (status === 503 || status === 409) return new ApiError(503, `The image store is not ready to take data for image ${imageId}: ${detail}. Retry the upload.`);
  return new ApiError(500, `The image store failed to store the data of image ${imageId} (upload proxy answered ${status}: ${detail}).`);
}

export const UploadTokenRequestType: ResourceType & { plural: string } = {
  group: "upload.cdi.kubevirt.io",
  version: "v1beta1",
  kind: "UploadTokenRequest",
  plural: "uploadtokenrequests",
  namespaced: true,
};

const tokenAnswerSchema = z.object({ status: z.object({ token: z.string().min(1) }) });

/** An upload token for one PVC, asked for as the caller (the apiserver's RBAC decides). */
export async function requestUploadToken(kube: KubeClient, namespace: string, pvcName: string, requestName: string): Promise<string> {
  const answer = await kube.requestJson({
    method: "POST",
    path: `/apis/${UploadTokenRequestType.group}/${UploadTokenRequestType.version}/namespaces/${encodeURIComponent(namespace)}/${UploadTokenRequestType.plural}`,
    body: {
      apiVersion: `${UploadTokenRequestType.group}/${UploadTokenRequestType.version}`,
      kind: UploadTokenRequestType.kind,
      metadata: { name: requestName, namespace },
      spec: { pvcName },
    },
  });
  const parsed = tokenAnswerSchema.safeParse(answer);
  if (!parsed.success) throw new Error("the UploadTokenRequest answer carries no status.token");
  return parsed.data.status.token;
}

export interface UploadProxyTarget {
  url: string;
  /** PEM of the CA that signed the proxy's certificate; the system CAs when undefined. */
  ca: string | undefined;
}

let caCache: { file: string; pem: Promise<string> } | undefined;

/** The upload proxy from the facade's configuration (the CA file is read once). */
export function uploadProxyTarget(url: string, caFile: string | undefined): Promise<UploadProxyTarget> {
  if (caFile === undefined) return Promise.resolve({ url, ca: undefined });
  if (caCache?.file !== caFile) {
    const entry = { file: caFile, pem: readFile(caFile, "utf8") };
    caCache = entry;
    // A file not readable yet is read again next time.
    entry.pem.catch(() => {
      if (caCache === entry) caCache = undefined;
    });
  }
  return caCache.pem.then((ca) => ({ url, ca }));
}

const MAX_PROXY_ANSWER = 64 * 1024;

/**
 * Pipes `source` to the upload proxy (`POST /v1beta1/upload`, Bearer token), with the stream's backpressure;
 * resolves with the proxy's status and text (also when it refuses before the body is done). Rejects when the stream breaks (client gone, the digest's cap, a write error).
 */
export function streamToUploadProxy(target: UploadProxyTarget, token: string, source: Readable, contentLength: number | undefined): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const url = new URL("/v1beta1/upload", target.url);
    const headers: Record<string, string> = { Authorization: `Bearer ${token}`, "Content-Type": "application/octet-stream" };
    if (contentLength !== undefined) headers["Content-Length"] = String(contentLength);
    const options = { method: "POST", headers, ...(target.ca === undefined ? {} : { ca: target.ca }) };
    const request = url.protocol === "https:" ? https.request(url, options) : http.request(url, options);
    // Once the proxy answers, its answer is the outcome, even if it closes the connection on the rest of the body.
    let responded = false;
    request.on("response", (response) => {
      responded = true;
      const chunks: Buffer[] = [];
      let size = 0;
      response.on("data", (chunk: Buffer) => {
        size += chunk.length;
        if (size <= MAX_PROXY_ANSWER) chunks.push(chunk);
      });
      response.on("end", () => {
        resolve({ status: response.statusCode ?? 0, text: Buffer.concat(chunks).toString("utf8") });
      });
      response.on("error", reject);
    });
    pipeline(source, request).catch((e: unknown) => {
      if (!responded) {
        request.destroy();
        reject(e instanceof Error ? e : new Error(String(e)));
      }
    });
  });
}
