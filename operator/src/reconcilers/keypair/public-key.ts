// Pure: an OpenSSH public key line checked the way Nova checks it (the blob must decode and carry the same
// key type it claims), and its fingerprint as Nova shows it (MD5, colon-separated hex).
import { createHash } from "node:crypto";
import { SSH_KEY_TYPES } from "../../api/index.js";

export type PublicKeyVerdict =
  | { ok: true; keyType: (typeof SSH_KEY_TYPES)[number]; fingerprint: string; comment: string | undefined }
  | { ok: false; error: string };

/** Reads one SSH wire-format string (uint32 length + bytes) at `offset`. */
function readString(blob: Buffer, offset: number): { value: Buffer; next: number } | undefined {
  if (offset + 4 > blob.length) return undefined;
  const length = blob.readUInt32BE(offset);
  const start = offset + 4;
  if (start + length > blob.length) return undefined;
  return { value: blob.subarray(start, start + length), next: start + length };
}

/** Minimum RSA modulus: Nova (through cryptography/OpenSSH) refuses keys below 1024 bits. */
const MIN_RSA_BITS = 1024;

function rsaBits(blob: Buffer, afterType: number): number | undefined {
  const exponent = readString(blob, afterType);
  if (exponent === undefined) return undefined;
  const modulus = readString(blob, exponent.next);
  if (modulus === undefined) return undefined;
  let bytes = modulus.value;
  while (bytes.length > 0 && bytes[0] === 0) bytes = bytes.subarray(1);
  if (bytes.length === 0) return 0;
  return (bytes.length - 1) * 8 + Math.floor(Math.log2(bytes[0] ?? 1)) + 1;
}

export function parsePublicKey(line: string): PublicKeyVerdict {
  const parts = line.trim().split(/\s+/);
  const [type, data, ...rest] = parts;
  const types: readonly string[] = SSH_KEY_TYPES;
  if (type === undefined || !types.includes(type)) {
    return { ok: false, error: `Keypair data is invalid: key type ${type ?? "(none)"} is not one of ${SSH_KEY_TYPES.join(", ")}` };
  }
  if (data === undefined || !/^[A-Za-z0-9+/]+={0,3}$/.test(data)) {
    return { ok: false, error: "Keypair data is invalid: the key is not base64" };
  }
  const blob = Buffer.from(data, "base64");
  const embedded = readString(blob, 0);
  if (embedded === undefined) return { ok: false, error: "Keypair data is invalid: the key data is truncated" };
  const embeddedType = embedded.value.toString("latin1");
  if (embeddedType !== type) {
    return { ok: false, error: `Keypair data is invalid: the line says ${type} but the key data is ${embeddedType || "unreadable"}` };
  }
  if (type === "ssh-rsa") {
    const bits = rsaBits(blob, embedded.next);
    if (bits === undefined) return { ok: false, error: "Keypair data is invalid: the RSA key data is truncated" };
    if (bits < MIN_RSA_BITS) return { ok: false, error: `Keypair data is invalid: RSA keys need at least ${MIN_RSA_BITS} bits, this one has ${bits}` };
  } else if (type === "ssh-ed25519") {
    const key = readString(blob, embedded.next);
    if (key?.value.length !== 32) return { ok: false, error: "Keypair data is invalid: an Ed25519 key has 32 bytes" };
  } else {
    const curve = readString(blob, embedded.next);
    const point = curve === undefined ? undefined : readString(blob, curve.next);
    if (point === undefined || !type.endsWith(curve?.value.toString("latin1") ?? "")) {
      return { ok: false, error: "Keypair data is invalid: the ECDSA key data does not match its curve" };
    }
  }
  const digest = createHash("md5").update(blob).digest("hex");
  const fingerprint = (digest.match(/../g) ?? []).join(":");
  const comment = rest.length > 0 ? rest.join(" ") : undefined;
  return { ok: true, keyType: type as (typeof SSH_KEY_TYPES)[number], fingerprint, comment };
}
