// User: a Keystone user, kept by the facade. Internal (no `altostack` category, no tenant RBAC): only cloud admins
// and the facade itself touch it. The user's Kubernetes identity is its metadata.name, which is what Project
// spec.members[].user names and what the facade impersonates. A password is only ever stored as a salted scrypt
// hash; a CEL rule refuses anything else, so a plaintext password cannot be stored by mistake.
import { z } from "zod";
import { ageColumn, cel, defineKind, description, displayName, idColumn, objectRef, statusBase, type KindObject } from "./meta.js";

/** `scrypt$<N>$<r>$<p>$<salt>$<hash>`, salt and hash base64url. */
export const SCRYPT_HASH_PATTERN = "^scrypt\\$[0-9]{1,8}\\$[0-9]{1,3}\\$[0-9]{1,3}\\$[A-Za-z0-9_-]{16,128}\\$[A-Za-z0-9_-]{32,256}$";

export const passwordHash = () =>
  cel(z.string().max(512), [
    { rule: `self.matches('${SCRYPT_HASH_PATTERN.replaceAll("\\", "\\\\")}')`, message: "must be a salted scrypt hash, never a password" },
  ]);

export const userSpec = z.object({
  name: displayName(),
  description: description(),
  email: z.string().max(255).optional(),
  enabled: z.boolean().optional().meta({ description: "Disabled users cannot authenticate. Default true." }),
  passwordHash: passwordHash().optional(),
  passwordChangedAt: z
    .string()
    .optional()
    .meta({ format: "date-time", description: "Tokens issued before this instant are no longer valid." }),
  defaultProject: objectRef().optional().meta({ description: "Project (metadata.name) an unscoped login lands in." }),
});

export const userKind = defineKind({
  kind: "User",
  plural: "users",
  singular: "user",
  shortNames: ["osuser"],
  scope: "Cluster",
  description: "Internal: a Keystone user of the OpenStack facade (salted password hash only).",
  spec: userSpec,
  status: z.object({ ...statusBase }),
  specOptional: true,
  categories: [],
  printerColumns: [
    { name: "Name", type: "string", jsonPath: ".spec.name" },
    { name: "Enabled", type: "boolean", jsonPath: ".spec.enabled" },
    idColumn,
    ageColumn,
  ],
});

export type User = KindObject<typeof userKind>;
