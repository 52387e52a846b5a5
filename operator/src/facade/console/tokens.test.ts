import { describe, expect, it } from "vitest";
import type { Caller } from "../common/caller.js";
import type { ValidToken } from "../keystone/identity.js";
import { TokenSigner, type TokenPayload } from "../keystone/tokens.js";
import { ConsoleTokens, keystoneClaimsOf } from "./tokens.js";

const T0 = Date.parse("2026-11-22T10:00:00Z");
const claims: TokenPayload = { v: 1, u: "user-1", m: ["password"], p: "project-1", iat: T0, exp: T0 + 3_600_000, a: "audit-1" };

function setup(opts: { revoked?: boolean } = {}) {
  const signer = new TokenSigner([Buffer.alloc(32, 7)]);
  let now = T0;
  const seen: TokenPayload[] = [];
  const identity = {
    currentTime: () => new Date(now),
    validatePayload: (_token: string, payload: TokenPayload): ValidToken => {
      if (opts.revoked === true || payload.exp <= now) throw new Error("401");
      seen.push(payload);
      return { payload } as ValidToken;
    },
  };
  const caller = {
    userId: claims.u,
    project: { id: "project-1", name: "p", objectName: "p", namespace: "project-p" },
    domainId: undefined,
    token: { id: "t", methods: claims.m, auditIds: [claims.a], issuedAt: new Date(claims.iat), expiresAt: new Date(claims.exp), applicationCredentialId: undefined },
  } as unknown as Caller;
  return { signer, consoles: new ConsoleTokens(signer, identity), caller, seen, advance: (ms: number) => (now += ms) };
}

describe("console tokens", () => {
  it("carry the caller's Keystone claims, the server and the protocol", () => {
    const { consoles, caller, seen } = setup();
    expect(keystoneClaimsOf(caller)).toEqual(claims);
    const { token, expiresAt } = consoles.issue(caller, "server-1", "vnc");
    expect(expiresAt.getTime()).toBe(T0 + 600_000);
    expect(consoles.redeem(token)).toMatchObject({ ok: true, serverId: "server-1", protocol: "vnc" });
    expect(seen).toEqual([claims]);
  });

  it("expire after ten minutes, or with the Keystone token if that goes first", () => {
    const { consoles, caller, advance } = setup();
    const { token } = consoles.issue(caller, "server-1", "serial");
    advance(600_000);
    expect(consoles.redeem(token)).toEqual({ ok: false, why: "console token expired" });
    const late = setup();
    late.advance(3_500_000);
    expect(late.consoles.issue(late.caller, "server-1", "vnc").expiresAt.getTime()).toBe(claims.exp);
  });

  it("refuse a tampered token, and an identity that is no longer valid", () => {
    const { consoles, caller } = setup();
    const { token } = consoles.issue(caller, "server-1", "vnc");
    const [body = "", mac = ""] = token.split(".");
    const forged = JSON.parse(Buffer.from(body, "base64url").toString()) as Record<string, unknown>;
    forged.s = "server-2";
    expect(consoles.redeem(`${Buffer.from(JSON.stringify(forged)).toString("base64url")}.${mac}`)).toEqual({ ok: false, why: "console token invalid" });
    const revoked = setup({ revoked: true });
    expect(revoked.consoles.redeem(revoked.consoles.issue(revoked.caller, "server-1", "vnc").token)).toMatchObject({ ok: false });
  });

  it("are never Keystone tokens, nor Keystone tokens console tokens (same keys, separate purposes)", () => {
    const { signer, consoles, caller } = setup();
    const { token } = consoles.issue(caller, "server-1", "vnc");
    expect(signer.verify(token, T0)).toEqual({ ok: false, reason: "signature" });
    expect(consoles.redeem(signer.sign(claims))).toEqual({ ok: false, why: "console token invalid" });
  });
});
