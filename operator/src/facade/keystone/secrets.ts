// Passwords and application-credential secrets are stored only as salted scrypt hashes:
// `scrypt$<N>$<r>$<p>$<salt>$<hash>` (base64url), the format the User CRD's CEL rule insists on.
import { randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from "node:crypto";

export interface ScryptParams {
  N: number;
  r: number;
  p: number;
}

/** OWASP's scrypt minimum (N=2^17 would cost ~130 MiB per concurrent login; 2^15 keeps logins fast and safe). */
export const DEFAULT_SCRYPT: ScryptParams = { N: 32768, r: 8, p: 1 };
const KEY_LENGTH = 32;
const SALT_LENGTH = 16;
const HASH_FORMAT = /^scrypt\$(\d{1,8})\$(\d{1,3})\$(\d{1,3})\$([A-Za-z0-9_-]{16,128})\$([A-Za-z0-9_-]{32,256})$/;

function derive(secret: string, salt: Buffer, params: ScryptParams): Promise<Buffer> {
  const options: ScryptOptions = { N: params.N, r: params.r, p: params.p, maxmem: 256 * params.N * params.r + 1024 * 1024 };
  return new Promise((resolve, reject) => {
    scrypt(secret.normalize("NFC"), salt, KEY_LENGTH, options, (error, key) => {
      if (error !== null) reject(error);
      else resolve(key);
    });
  });
}

export async function hashSecret(secret: string, params: ScryptParams = DEFAULT_SCRYPT): Promise<string> {
  const salt = randomBytes(SALT_LENGTH);
  const key = await derive(secret, salt, params);
  return `scrypt$${params.N}$${params.r}$${params.p}$${salt.toString("base64url")}$${key.toString("base64url")}`;
}

/** False for a wrong secret and for anything that is not a hash we can check (never throws on bad input). */
export async function verifySecret(secret: string, stored: string): Promise<boolean> {
  const match = HASH_FORMAT.exec(stored);
  if (match === null) return false;
  const params: ScryptParams = { N: Number(match[1]), r: Number(match[2]), p: Number(match[3]) };
  // Guard against a hash that would make us burn memory: N a power of two, sane bounds.
  if (params.N < 1024 || params.N > 1 << 20 || (params.N & (params.N - 1)) !== 0 || params.r > 32 || params.p > 16) {
    return false;
  }
  const salt = Buffer.from(match[4] ?? "", "base64url");
  const expected = Buffer.from(match[5] ?? "", "base64url");
  const actual = await derive(secret, salt, params);
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}

/** A generated application-credential secret (as Keystone: 64 random bytes, URL-safe). */
export function newSecret(): string {
  return randomBytes(64).toString("base64url");
}
