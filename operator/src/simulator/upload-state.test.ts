import { describe, expect, it } from "vitest";
import { answerTokenRequest, issueToken, parseUploadApiPath, uploadRefusal, verifyToken, UPLOAD_TOKEN_TTL_MS } from "./upload-state.js";

const secret = Buffer.alloc(32, 7);
const T0 = 1_000_000;

describe("upload.cdi.kubevirt.io", () => {
  it.each([
    ["GET", "/apis/upload.cdi.kubevirt.io", { kind: "group" }],
    ["GET", "/apis/upload.cdi.kubevirt.io/v1beta1", { kind: "discovery" }],
    ["POST", "/apis/upload.cdi.kubevirt.io/v1beta1/namespaces/project-a/uploadtokenrequests", { kind: "tokenRequest", namespace: "project-a" }],
    ["GET", "/apis/upload.cdi.kubevirt.io/v1beta1/namespaces/project-a/uploadtokenrequests", undefined],
    ["POST", "/apis/subresources.kubevirt.io/v1", undefined],
  ])("%s %s", (method, path, expected) => {
    expect(parseUploadApiPath(method, path)).toEqual(expected);
  });

  it("answers a token for an existing PVC, refuses a missing one or a malformed body", () => {
    const ok = answerTokenRequest({ spec: { pvcName: "img-x" } }, "ns", (n) => n === "img-x", secret, T0);
    expect(ok.code).toBe(200);
    const token = (ok.body as { status: { token: string } }).status.token;
    expect(verifyToken(secret, token, T0 + 1)).toEqual({ namespace: "ns", pvcName: "img-x", expiresAt: T0 + UPLOAD_TOKEN_TTL_MS });
    expect(answerTokenRequest({ spec: { pvcName: "nope" } }, "ns", () => false, secret, T0).code).toBe(400);
    expect(answerTokenRequest({ spec: {} }, "ns", () => true, secret, T0).code).toBe(400);
  });

  it("tokens: forged, expired and foreign ones are refused", () => {
    const token = issueToken(secret, { namespace: "ns", pvcName: "p", expiresAt: T0 + 10 });
    expect(verifyToken(secret, token, T0)).toMatchObject({ pvcName: "p" });
    expect(verifyToken(secret, token, T0 + 10)).toEqual({ refused: "authentication failed: token expired" });
    expect(verifyToken(Buffer.alloc(32, 8), token, T0)).toEqual({ refused: "authentication failed: invalid token" });
    const [payload = ""] = token.split(".");
    const tampered = Buffer.from(JSON.stringify({ namespace: "other", pvcName: "p", expiresAt: T0 + 10 })).toString("base64url");
    expect(verifyToken(secret, token.replace(payload, tampered), T0)).toEqual({ refused: "authentication failed: invalid token" });
    expect(verifyToken(secret, "garbage", T0)).toEqual({ refused: "authentication failed: invalid token" });
  });
});

describe("cdi-uploadproxy admission", () => {
  const claims = { namespace: "ns", pvcName: "p", expiresAt: T0 + 10 };
  type Input = Parameters<typeof uploadRefusal>[0];
  const base: Input = {
    method: "POST",
    path: "/v1beta1/upload",
    authorization: "Bearer t",
    claims,
    dataVolumePhase: "UploadReady",
    declaredBytes: 100,
    capacityBytes: 1000,
    busy: false,
  };
  it.each<[string, Partial<Input>, number | undefined]>([
    ["accepted", {}, undefined],
    ["async path accepted", { path: "/v1beta1/upload-async" }, undefined],
    ["unknown path", { path: "/v1beta1/nope" }, 404],
    ["GET", { method: "GET" }, 405],
    ["no token", { authorization: undefined, claims: undefined }, 401],
    ["bad token", { claims: { refused: "authentication failed: token expired" } }, 401],
    ["PVC gone", { dataVolumePhase: undefined }, 404],
    ["not ready yet", { dataVolumePhase: "UploadScheduled" }, 503],
    ["already done", { dataVolumePhase: "Succeeded" }, 503],
    ["busy", { busy: true }, 503],
    ["too large for the PVC", { declaredBytes: 1001 }, 400],
    ["chunked (no length)", { declaredBytes: undefined }, undefined],
  ])("%s → %s", (_name, over, code) => {
    expect(uploadRefusal({ ...base, ...over })?.code).toBe(code);
  });
});
