import { describe, expect, it } from "vitest";
import { parsePublicKey } from "./public-key.js";

// Generated with ssh-keygen; fingerprints from `ssh-keygen -l -E md5`.
const ED25519 = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIEWZJk3/fCe/JbNc0DfH/XBKy7ZmneQEfroBq+zVu5f0 alice@example";
const RSA =
  "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQDNZsFYp3UIc8zpt32Wb8FNl1HHrNCtpeTczAgq0G/XXPGt5Zd0ndIDD0YrfcyV4aUSPgomwyMqGcES0BJmprcxc4aWDYpyBMFgiPOSP3dpV6bwfp1I5Q/TTUjYGjGLaD+UybMYYg5t/N7bdXbarPpFu3VXdGWP54KbJOvos1MJKA6zBvsbmE3APp2n/p99/I4VU/TCj7wi3sx7FsuIwj3dciihVa4vtYavFTM6QoT+ZvNVO5T0KVyalCmPxSlVSGBq9M4tsmwMppaOlkPXzTWET8rkPfG/m3LgKJK4bb7/TSu0AHc3GxZHs6ow8A8OtWqTsB6Xo8PFVwLhd6naJ2ar bob";
const ECDSA =
  "ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBP0O3MjQFcM5lq6X/2xl7KIFdJV1uc7B7/sbfjTpmfKOC4tFTjx+RC5bZ0afT/HqhQg1WA1wDemoX3Bh7eUheBA=";

function sshString(bytes: Buffer | string): Buffer {
  const value = typeof bytes === "string" ? Buffer.from(bytes) : bytes;
  const length = Buffer.alloc(4);
  length.writeUInt32BE(value.length);
  return Buffer.concat([length, value]);
}

describe("public keys", () => {
  it.each([
    ["ed25519", ED25519, "ssh-ed25519", "a4:67:95:d6:be:35:43:6a:c9:02:a1:d7:2c:15:55:83", "alice@example"],
    ["rsa 2048", RSA, "ssh-rsa", "f3:12:3a:26:91:3c:85:f1:68:13:b8:dc:83:66:1c:e2", "bob"],
    ["ecdsa p256, no comment", ECDSA, "ecdsa-sha2-nistp256", "48:3a:ee:8c:01:4b:1c:fa:0c:16:78:70:65:0d:78:b3", undefined],
  ])("%s: type and Nova's MD5 fingerprint", (_name, line, keyType, fingerprint, comment) => {
    expect(parsePublicKey(line)).toEqual({ ok: true, keyType, fingerprint, comment });
  });

  it("tolerates surrounding whitespace and a trailing newline", () => {
    expect(parsePublicKey(`  ${ED25519}\n`).ok).toBe(true);
  });

  const shortRsa = Buffer.concat([sshString("ssh-rsa"), sshString(Buffer.from([1, 0, 1])), sshString(Buffer.alloc(64, 0xff))]);
  const lyingEd25519 = `ssh-ed25519 ${RSA.split(" ")[1] ?? ""}`;
  const truncatedEd25519 = `ssh-ed25519 ${Buffer.concat([sshString("ssh-ed25519"), sshString(Buffer.alloc(16, 1))]).toString("base64")}`;

  it.each([
    ["an unknown type", "ssh-dss AAAAB3NzaC1kc3M=", /key type ssh-dss is not one of/],
    ["no key data", "ssh-ed25519", /not base64/],
    ["data that is not base64", "ssh-ed25519 !!!!", /not base64/],
    ["a type that differs from the key data", lyingEd25519, /the line says ssh-ed25519 but the key data is ssh-rsa/],
    ["an RSA key below 1024 bits", `ssh-rsa ${shortRsa.toString("base64")}`, /at least 1024 bits, this one has 512/],
    ["an Ed25519 key of the wrong length", truncatedEd25519, /32 bytes/],
    ["truncated key data", "ssh-rsa AAAAB3Nz", /truncated/],
  ])("refuses %s with a clear message", (_name, line, message) => {
    const verdict = parsePublicKey(line);
    expect(verdict.ok).toBe(false);
    expect(verdict.ok ? "" : verdict.error).toMatch(message);
  });
});
