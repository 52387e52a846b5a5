import { createPublicKey } from "node:crypto";
import { describe, expect, it } from "vitest";
import { parsePublicKey } from "../../reconcilers/keypair/public-key.js";
import { generateRsaKeypair, opensshRsaLine } from "./keygen.js";

describe("keypair generation (Nova before 2.92)", () => {
  it("makes an RSA key whose public line Nova's own check accepts and whose private half is PKCS#1 PEM", async () => {
    const { publicKey, privateKey } = await generateRsaKeypair();
    expect(privateKey).toMatch(/^-----BEGIN RSA PRIVATE KEY-----\n/);
    const parsed = parsePublicKey(publicKey);
    expect(parsed).toMatchObject({ ok: true, keyType: "ssh-rsa", comment: "Generated-by-Nova" });
    // The public line encodes the same key the PEM does.
    const jwk = createPublicKey(privateKey).export({ format: "jwk" });
    expect(publicKey.trim()).toBe(opensshRsaLine(Buffer.from(jwk.n ?? "", "base64url"), Buffer.from(jwk.e ?? "", "base64url"), "Generated-by-Nova"));
  });

  it("encodes mpints with a leading zero when the high bit is set", () => {
    const line = opensshRsaLine(Buffer.from([0x80, 0x01]), Buffer.from([0x01, 0x00, 0x01]), "c");
    const blob = Buffer.from(line.split(" ")[1] ?? "", "base64");
    // "ssh-rsa" (4 + 7 bytes), then the exponent (4 + 3), then the modulus (4 + a zero byte + 2).
    expect(blob.readUInt32BE(11)).toBe(3);
    expect(blob.subarray(18)).toEqual(Buffer.from([0, 0, 0, 3, 0x00, 0x80, 0x01]));
  });
});
