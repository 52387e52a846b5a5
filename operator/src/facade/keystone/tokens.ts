// Keystone tokens: a compact JSON payload signed with HMAC-SHA256 (`<payload>.<mac>`, both base64url). Nothing is
// stored per token: the signature proves the facade issued it, the payload carries its expiry, and revocation
// is a list of audit ids. Keys live in a Secret; the first key signs, every key verifies (rotation).
import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import { z } from "zod";

export const tokenPayloadSchema = z.object({
  v: z.literal(1),
  /** User uid. */
  u: z.string().min(1).max(64),
  /** Authentication methods (password, token, application_credential). */
  m: z.array(z.string().min(1).max(32)).min(1).max(4),
  /** Project uid (project scope). */
  p: z.string().min(1).max(64).optional(),
  /** Domain id (domain scope). */
  d: z.string().min(1).max(64).optional(),
  /** Issued at, ms since the epoch. */
  iat: z.int().min(0),
  /** Expires at, ms since the epoch. */
  exp: z.int().min(0),
  /** Audit id of this token. */
  a: z.string().min(1).max(64),
  /** Audit id of the token this one was obtained with (token method). */
  c: z.string().min(1).max(64).optional(),
  /** Application credential uid (application_credential method). */
  ac: z.string().min(1).max(64).optional(),
});
export type TokenPayload = z.infer<typeof tokenPayloadSchema>;

/** Longer strings are not tokens of ours; refused before any work. */
const MAX_TOKEN_LENGTH = 2048;

export type VerifyResult =
  | { ok: true; payload: TokenPayload }
  | { ok: false; reason: "malformed" | "signature" | "expired" };

export class TokenSigner {
  private readonly keys: readonly Buffer[];

  constructor(keys: readonly Buffer[]) {
    if (keys.length === 0) throw new Error("a token signer needs at least one key");
    if (keys.some((k) => k.length < 32)) throw new Error("token signing keys must be at least 32 bytes");
    this.keys = keys;
  }

  sign(payload: TokenPayload): string {
    return this.seal(KEYSTONE_PURPOSE, payload);
  }

  verify(token: string, nowMs: number): VerifyResult {
    return this.open(KEYSTONE_PURPOSE, tokenPayloadSchema, token, nowMs);
  }

  /**
   * Any other signed, expiring value (console tokens): the same keys and format, with the purpose mixed into the
   * MAC, so a value signed for one purpose never verifies for another (a console token is no Keystone token).
   */
  seal(purpose: string, payload: { exp: number }): string {
    const body = Buffer.from(JSON.stringify(payload), "utf8").toString("base64url");
    const primary = this.keys[0] as Buffer;
    return `${body}.${mac(primary, purpose, body).toString("base64url")}`;
  }

  open<S extends z.ZodType<{ exp: number }>>(
    purpose: string,
    schema: S,
    token: string,
    nowMs: number,
  ): { ok: true; payload: z.output<S> } | { ok: false; reason: "malformed" | "signature" | "expired" } {
    if (token.length > MAX_TOKEN_LENGTH) return { ok: false, reason: "malformed" };
    const dot = token.indexOf(".");
    if (dot <= 0 || dot !== token.lastIndexOf(".")) return { ok: false, reason: "malformed" };
    const body = token.slice(0, dot);
    const given = Buffer.from(token.slice(dot + 1), "base64url");
    const valid = this.keys.some((key) => {
      const expected = mac(key, purpose, body);
      return given.length === expected.length && timingSafeEqual(given, expected);
    });
    if (!valid) return { ok: false, reason: "signature" };
    let json: unknown;
    try {
      json = JSON.parse(Buffer.from(body, "base64url").toString("utf8"));
    } catch {
      return { ok: false, reason: "malformed" };
    }
    const parsed = schema.safeParse(json);
    if (!parsed.success) return { ok: false, reason: "malformed" };
    if (parsed.data.exp <= nowMs) return { ok: false, reason: "expired" };
    return { ok: true, payload: parsed.data };
  }
}

/** Keystone tokens are MACed over the body alone (tokens issued before purposes existed stay valid). */
const KEYSTONE_PURPOSE = "";

function mac(key: Buffer, purpose: string, body: string): Buffer {
  // "." never occurs in base64url, so `purpose.body` is unambiguous.
  return createHmac("sha256", key).update(purpose === KEYSTONE_PURPOSE ? body : `${purpose}.${body}`).digest();
}

/** A Keystone-style audit id: 16 random bytes, base64url (22 characters). */
export function newAuditId(random: (n: number) => Buffer = randomBytes): string {
  return random(16).toString("base64url");
}

/** The TokenRevocation object name for an audit id: DNS-safe and one per audit id. */
export function revocationName(auditId: string): string {
  return `audit-${Buffer.from(auditId, "base64url").toString("hex")}`;
}

/** Keystone's timestamp format: microseconds and a literal Z (Tempest parses `%Y-%m-%dT%H:%M:%S.%fZ`). */
export function keystoneTime(date: Date): string {
  return date.toISOString().replace(/\.(\d{3})Z$/, ".$1000Z");
}

/** Nova/Neutron/Cinder timestamps: seconds and a Z. */
export function isoSeconds(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, "Z");
}

/** A new token signing key (32 random bytes). */
export function newSigningKey(random: (n: number) => Buffer = randomBytes): Buffer {
  return random(32);
}
