// Console tokens: what a remote-console URL carries. Signed by the Keystone token signer (same keys, a purpose of
// its own, so a console token is never a Keystone token and the reverse), short-lived like Nova's console auth
// tokens, and bound to one server, one protocol and the caller's Keystone identity (user, project, roles at the
// time of use; a revoked Keystone token revokes its console tokens too). The Keystone token itself never goes
// into the URL: only its signed claims do.
import { z } from "zod";
import type { Caller } from "../common/caller.js";
import type { IdentityService, ValidToken } from "../keystone/identity.js";
import { tokenPayloadSchema, type TokenPayload, type TokenSigner } from "../keystone/tokens.js";

export const ConsoleProtocol = { vnc: "vnc", serial: "serial" } as const;
export type ConsoleProtocol = (typeof ConsoleProtocol)[keyof typeof ConsoleProtocol];

/** Nova's `[consoleauth] token_ttl` default. */
export const CONSOLE_TOKEN_TTL_MS = 600_000;
const PURPOSE = "console";

const consolePayloadSchema = z.object({
  /** The Keystone claims of the caller who asked for the console. */
  k: tokenPayloadSchema,
  /** Server id (uid). */
  s: z.string().min(1).max(64),
  /** Protocol. */
  pr: z.enum([ConsoleProtocol.vnc, ConsoleProtocol.serial]),
  exp: z.int().min(0),
});

export type ConsoleGrant = { ok: true; identity: ValidToken; serverId: string; protocol: ConsoleProtocol } | { ok: false; why: string };

/** The Keystone claims behind a request's caller, as its token carried them. */
export function keystoneClaimsOf(caller: Caller): TokenPayload {
  const [audit = "", parent] = caller.token.auditIds;
  return {
    v: 1,
    u: caller.userId,
    m: [...caller.token.methods],
    ...(caller.project === undefined ? {} : { p: caller.project.id }),
    ...(caller.domainId === undefined ? {} : { d: caller.domainId }),
    iat: caller.token.issuedAt.getTime(),
    exp: caller.token.expiresAt.getTime(),
    a: audit,
    ...(parent === undefined ? {} : { c: parent }),
    ...(caller.token.applicationCredentialId === undefined ? {} : { ac: caller.token.applicationCredentialId }),
  };
}

export class ConsoleTokens {
  constructor(
    private readonly signer: TokenSigner,
    private readonly identity: Pick<IdentityService, "currentTime" | "validatePayload">,
    private readonly ttlMs = CONSOLE_TOKEN_TTL_MS,
  ) {}

  /** A token for `caller` to reach `serverId`'s `protocol` console; it expires with the caller's token at the latest. */
  issue(caller: Caller, serverId: string, protocol: ConsoleProtocol): { token: string; expiresAt: Date } {
    const claims = keystoneClaimsOf(caller);
    const exp = Math.min(this.identity.currentTime().getTime() + this.ttlMs, claims.exp);
    const payload: z.infer<typeof consolePayloadSchema> = { k: claims, s: serverId, pr: protocol, exp };
    return { token: this.signer.seal(PURPOSE, payload), expiresAt: new Date(exp) };
  }

  /** Who may use the token, for which console — or why not (forged, expired, identity no longer valid). */
  redeem(token: string): ConsoleGrant {
    const opened = this.signer.open(PURPOSE, consolePayloadSchema, token, this.identity.currentTime().getTime());
    if (!opened.ok) return { ok: false, why: `console token ${opened.reason === "expired" ? "expired" : "invalid"}` };
    const { k, s, pr } = opened.payload;
    try {
      return { ok: true, identity: this.identity.validatePayload("", k), serverId: s, protocol: pr };
    } catch {
      return { ok: false, why: "the identity behind the console token is no longer valid" };
    }
  }
}
