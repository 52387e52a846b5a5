import { describe, expect, it } from "vitest";
import { SCRYPT_HASH_PATTERN } from "../../api/user.js";
import { hashSecret, newSecret, verifySecret } from "./secrets.js";

const fast = { N: 1024, r: 8, p: 1 };

describe("salted scrypt hashes", () => {
  it("verifies the right secret only, and salts every hash", async () => {
    const hash = await hashSecret("correct horse", fast);
    expect(hash).toMatch(new RegExp(SCRYPT_HASH_PATTERN));
    expect(hash).not.toContain("correct horse");
    expect(await verifySecret("correct horse", hash)).toBe(true);
    expect(await verifySecret("correct hors", hash)).toBe(false);
    expect(await hashSecret("correct horse", fast)).not.toBe(hash);
  });

  it("the default cost makes hashes the CRD accepts", async () => {
    expect(await hashSecret("pw")).toMatch(new RegExp(SCRYPT_HASH_PATTERN));
  });

  it("never throws on stored values it cannot check, and refuses costs that would burn memory", async () => {
    for (const stored of ["", "plaintext", "scrypt$1$8$1$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "scrypt$1073741824$8$1$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"]) {
      expect(await verifySecret("x", stored), stored).toBe(false);
    }
  });

  it("generates long URL-safe secrets", () => {
    expect(newSecret()).toMatch(/^[A-Za-z0-9_-]{86}$/);
  });
});
