// Nova generates a keypair when a client sends a name without a public key (microversions before 2.92):
// an RSA key, the private half returned once (PKCS#1 PEM, as Nova does) and never stored.
import { createPublicKey, generateKeyPair } from "node:crypto";

/** SSH wire encoding: uint32 length + bytes. */
function sshString(data: Buffer): Buffer {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  return Buffer.concat([length, data]);
}

/** An SSH mpint: big-endian, with a leading zero byte when the high bit is set (positive numbers). */
function sshMpint(bytes: Buffer): Buffer {
  let start = 0;
  while (start < bytes.length - 1 && bytes[start] === 0) start++;
  const trimmed = bytes.subarray(start);
  const needsZero = ((trimmed[0] ?? 0) & 0x80) !== 0;
  return sshString(needsZero ? Buffer.concat([Buffer.from([0]), trimmed]) : trimmed);
}

/** `ssh-rsa <base64> <comment>` from an RSA public key's modulus and exponent. */
export function opensshRsaLine(modulus: Buffer, exponent: Buffer, comment: string): string {
  const blob = Buffer.concat([sshString(Buffer.from("ssh-rsa")), sshMpint(exponent), sshMpint(modulus)]);
  return `ssh-rsa ${blob.toString("base64")} ${comment}`;
}

export interface GeneratedKeypair {
  publicKey: string;
  privateKey: string;
}

export async function generateRsaKeypair(comment = "Generated-by-Nova"): Promise<GeneratedKeypair> {
  const { publicKey, privateKey } = await new Promise<{ publicKey: string; privateKey: string }>((resolve, reject) => {
    generateKeyPair(
      "rsa",
      {
        modulusLength: 2048,
        publicKeyEncoding: { type: "spki", format: "pem" },
        privateKeyEncoding: { type: "pkcs1", format: "pem" },
      },
      (error, pub, priv) => {
        if (error !== null) reject(error);
        else resolve({ publicKey: pub, privateKey: priv });
      },
    );
  });
  const jwk = createPublicKey(publicKey).export({ format: "jwk" });
  const line = opensshRsaLine(Buffer.from(jwk.n ?? "", "base64url"), Buffer.from(jwk.e ?? "", "base64url"), comment);
  return { publicKey: `${line}\n`, privateKey };
}
