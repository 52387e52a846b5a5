import { describe, expect, it } from "vitest";
import { TokenSigner, keystoneTime, newAuditId, revocationName, type TokenPayload } from "./tokens.js";

const key = (fill: number) => Buffer.alloc(32, fill);
const payload = (overrides: Partial<TokenPayload> = {}): TokenPayload => ({
  v: 1,
  u: "user-uid",
  m: ["password"],
  p: "project-uid",
  iat: 1_000,
  exp: 10_000,
  a: "audit",
  ...overrides,
});

describe("token signing", () => {
  it("verifies what it signed, until it expires", () => {
    const signer = new TokenSigner([key(1)]);
    const token = signer.sign(payload());
    expect(signer.verify(token, 5_000)).toEqual({ ok: true, payload: payload() });
    expect(signer.verify(token, 10_000)).toEqual({ ok: false, reason: "expired" });
  });

  it("refuses tampered payloads, foreign keys and garbage", () => {
    const signer = new TokenSigner([key(1)]);
    const token = signer.sign(payload());
    const [body, mac] = token.split(".") as [string, string];
    const forged = Buffer.from(JSON.stringify({ ...payload(), u: "admin-uid" })).toString("base64url");
    expect(signer.verify(`${forged}.${mac}`, 5_000)).toEqual({ ok: false, reason: "signature" });
    expect(new TokenSigner([key(2)]).verify(token, 5_000)).toEqual({ ok: false, reason: "signature" });
    for (const junk of ["", "abc", body, `${body}.${mac}.x`, "x".repeat(5000)]) {
      expect(signer.verify(junk, 5_000).ok, junk.slice(0, 20)).toBe(false);
    }
  });

  it("refuses a correctly signed payload of the wrong shape", () => {
    const signer = new TokenSigner([key(1)]);
    const token = signer.sign({ ...payload(), m: [] });
    expect(signer.verify(token, 5_000)).toEqual({ ok: false, reason: "malformed" });
  });

  it("signs with the first key and verifies with any (rotation)", () => {
    const old = new TokenSigner([key(1)]).sign(payload());
    const rotated = new TokenSigner([key(2), key(1)]);
    expect(rotated.verify(old, 5_000).ok).toBe(true);
    expect(new TokenSigner([key(1)]).verify(rotated.sign(payload()), 5_000).ok).toBe(false);
  });

  it("refuses short or missing keys", () => {
    expect(() => new TokenSigner([])).toThrow();
    expect(() => new TokenSigner([Buffer.alloc(16)])).toThrow("at least 32 bytes");
  });

  it("stores nothing secret in a revocation name and formats times as Keystone", () => {
    const audit = newAuditId();
    expect(audit).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(revocationName(audit)).toMatch(/^audit-[0-9a-f]{32}$/);
    expect(keystoneTime(new Date("2026-01-02T03:04:05.678Z"))).toBe("2026-01-02T03:04:05.678000Z");
  });
});
