// CDI's upload path, pure: the aggregated API of cdi-apiserver (upload.cdi.kubevirt.io/v1beta1
// UploadTokenRequest → a short-lived token for one PVC) and what cdi-uploadproxy checks before it accepts
// a stream (a valid token, a PVC of an upload DataVolume that is UploadReady, enough room).
import { createHmac, timingSafeEqual } from "node:crypto";
import { z } from "zod";
import type { UploadTokenRequest } from "../generated/index.js";
import { DvPhase } from "./datavolume-state.js";
import { statusBody } from "./subresources-state.js";

export const UPLOAD_GROUP = "upload.cdi.kubevirt.io";
export const UPLOAD_VERSION = "v1beta1";
/** cdi-apiserver's tokens live five minutes. */
export const UPLOAD_TOKEN_TTL_MS = 5 * 60_000;

export type UploadApiRequest =
  | { kind: "group" }
  | { kind: "discovery" }
  | { kind: "tokenRequest"; namespace: string };

/** Parses the paths of `/apis/upload.cdi.kubevirt.io`; undefined when not one of them. */
export function parseUploadApiPath(method: string, path: string): UploadApiRequest | undefined {
  const clean = path.split("?")[0]?.replace(/\/+$/, "") ?? "";
  const base = `/apis/${UPLOAD_GROUP}`;
  if (method === "GET" && clean === base) return { kind: "group" };
  if (method === "GET" && clean === `${base}/${UPLOAD_VERSION}`) return { kind: "discovery" };
  const match = new RegExp(`^${base}/${UPLOAD_VERSION}/namespaces/([^/]+)/uploadtokenrequests$`).exec(clean);
  if (match === null || method !== "POST") return undefined;
  return { kind: "tokenRequest", namespace: decodeURIComponent(match[1] ?? "") };
}

export function uploadApiGroup() {
  const version = { groupVersion: `${UPLOAD_GROUP}/${UPLOAD_VERSION}`, version: UPLOAD_VERSION };
  return { kind: "APIGroup", apiVersion: "v1", name: UPLOAD_GROUP, versions: [version], preferredVersion: version };
}

export function uploadApiResourceList() {
  return {
    kind: "APIResourceList",
    apiVersion: "v1",
    groupVersion: `${UPLOAD_GROUP}/${UPLOAD_VERSION}`,
    resources: [{ name: "uploadtokenrequests", singularName: "", namespaced: true, kind: "UploadTokenRequest", verbs: ["create"] }],
  };
}

const tokenRequestSchema = z.object({
  metadata: z.object({ name: z.string().optional(), generateName: z.string().optional() }).optional(),
  spec: z.object({ pvcName: z.string().min(1) }),
});

export interface TokenClaims {
  namespace: string;
  pvcName: string;
  expiresAt: number;
}

const claimsSchema = z.object({ namespace: z.string(), pvcName: z.string(), expiresAt: z.number() });

function sign(secret: Buffer, payload: string): string {
  return createHmac("sha256", secret).update(payload).digest("base64url");
}

export function issueToken(secret: Buffer, claims: TokenClaims): string {
  const payload = Buffer.from(JSON.stringify(claims)).toString("base64url");
  return `${payload}.${sign(secret, payload)}`;
}

/** The token's claims, or why it is refused. */
export function verifyToken(secret: Buffer, token: string, now: number): TokenClaims | { refused: string } {
  const [payload = "", signature = ""] = token.split(".", 2);
  const expected = Buffer.from(sign(secret, payload));
  const given = Buffer.from(signature);
  if (expected.length !== given.length || !timingSafeEqual(expected, given)) return { refused: "authentication failed: invalid token" };
  let claims: unknown;
  try {
    claims = JSON.parse(Buffer.from(payload, "base64url").toString("utf8")) as unknown;
  } catch {
    return { refused: "authentication failed: invalid token" };
  }
  const parsed = claimsSchema.safeParse(claims);
  if (!parsed.success) return { refused: "authentication failed: invalid token" };
  if (parsed.data.expiresAt <= now) return { refused: "authentication failed: token expired" };
  return parsed.data;
}

/**
 * cdi-apiserver's answer to an UploadTokenRequest: the request echoed with `status.token`, or a Status
 * refusal (a malformed body, a PVC that does not exist).
 */
export function answerTokenRequest(
  body: unknown,
  namespace: string,
  claimExists: (name: string) => boolean,
  secret: Buffer,
  now: number,
): { code: number; body: unknown } {
  const parsed = tokenRequestSchema.safeParse(body);
  if (!parsed.success) return { code: 400, body: statusBody(400, "BadRequest", "UploadTokenRequest needs spec.pvcName") };
  const { pvcName } = parsed.data.spec;
  if (!claimExists(pvcName)) {
    return { code: 400, body: statusBody(400, "BadRequest", `persistentvolumeclaims "${pvcName}" not found`) };
  }
  const token = issueToken(secret, { namespace, pvcName, expiresAt: now + UPLOAD_TOKEN_TTL_MS });
  const answer: UploadTokenRequest = {
    apiVersion: `${UPLOAD_GROUP}/${UPLOAD_VERSION}`,
    kind: "UploadTokenRequest",
    metadata: { ...(parsed.data.metadata?.name === undefined ? {} : { name: parsed.data.metadata.name }), namespace },
    spec: { pvcName },
    status: { token },
  };
  return { code: 200, body: answer };
}

export type UploadRefusal = { code: 400 | 401 | 404 | 405 | 409 | 503; message: string };

/** What cdi-uploadproxy answers before reading a byte, or undefined when it accepts the stream. */
export function uploadRefusal(opts: {
  method: string;
  path: string;
  authorization: string | undefined;
  claims: TokenClaims | { refused: string } | undefined;
  /** The upload DataVolume's phase ("" when the PVC belongs to none), undefined when the PVC is gone. */
  dataVolumePhase: string | undefined;
  declaredBytes: number | undefined;
  capacityBytes: number | undefined;
  busy: boolean;
}): UploadRefusal | undefined {
  const route = opts.path.split("?")[0];
  if (route !== "/v1beta1/upload" && route !== "/v1beta1/upload-async") return { code: 404, message: "not found" };
  if (opts.method !== "POST" && opts.method !== "PUT") return { code: 405, message: "method not allowed" };
  if (opts.authorization === undefined || !opts.authorization.startsWith("Bearer ")) return { code: 401, message: "authentication failed: no bearer token" };
  if (opts.claims === undefined || "refused" in opts.claims) return { code: 401, message: opts.claims?.refused ?? "authentication failed" };
  const { namespace, pvcName } = opts.claims;
  if (opts.dataVolumePhase === undefined) return { code: 404, message: `PVC ${namespace}/${pvcName} not found` };
  if (opts.dataVolumePhase !== DvPhase.UploadReady) {
    return { code: 503, message: `upload server for PVC ${namespace}/${pvcName} is not ready (DataVolume phase ${opts.dataVolumePhase || "none"})` };
  }
  if (opts.busy) return { code: 503, message: `an upload into PVC ${namespace}/${pvcName} is already in progress` };
  if (opts.declaredBytes !== undefined && opts.capacityBytes !== undefined && opts.declaredBytes > opts.capacityBytes) {
    return { code: 400, message: tooLarge(opts.declaredBytes, opts.capacityBytes) };
  }
  return undefined;
}

/** cdi-uploadserver's refusal of data that does not fit the PVC. */
export function tooLarge(bytes: number, capacity: number): string {
  return `Virtual image size ${bytes} is larger than the reported available storage ${capacity}. A larger PVC is required.`;
}
