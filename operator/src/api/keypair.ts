// Keypair: an SSH public key servers get through the config drive.
import { z } from "zod";
import { ageColumn, cel, defineKind, displayName, idColumn, readyColumn, statusBase, type KindObject } from "./meta.js";

export const SSH_KEY_TYPES = [
  "ssh-rsa",
  "ssh-ed25519",
  "ecdsa-sha2-nistp256",
  "ecdsa-sha2-nistp384",
  "ecdsa-sha2-nistp521",
] as const;

export const keypairSpec = z.object({
  name: displayName(),
  publicKey: cel(z.string().min(1).max(16384), [
    {
      rule: `self.matches('^(${SSH_KEY_TYPES.join("|")}) [A-Za-z0-9+/]+={0,3}( [^\\\\n]*)?\\\\n?$')`,
      message: `publicKey must be an OpenSSH public key line of type ${SSH_KEY_TYPES.join(", ")}`,
    },
  ]),
  type: z.enum(["ssh", "x509"]).optional().meta({ description: "Default ssh." }),
});

export const keypairStatus = z.object({
  ...statusBase,
  fingerprint: z.string().optional().meta({ description: "MD5 fingerprint as Nova shows it." }),
  type: z.string().optional(),
});

export const keypairKind = defineKind({
  kind: "Keypair",
  plural: "keypairs",
  singular: "keypair",
  shortNames: ["kp"],
  scope: "Namespaced",
  description: "A Nova keypair: an SSH public key injected into servers.",
  spec: keypairSpec,
  status: keypairStatus,
  printerColumns: [
    { name: "Fingerprint", type: "string", jsonPath: ".status.fingerprint" },
    { name: "Type", type: "string", jsonPath: ".status.type" },
    readyColumn,
    idColumn,
    ageColumn,
  ],
});

export type Keypair = KindObject<typeof keypairKind>;
