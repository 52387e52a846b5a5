// TokenRevocation: one revoked Keystone token, by audit id. Tokens themselves are never stored (they are signed
// and carry their own expiry); a revocation only needs to live until the token it revokes would have expired,
// after which the facade deletes it.
import { z } from "zod";
import { ageColumn, defineKind, immutable, type KindObject } from "./meta.js";

export const tokenRevocationSpec = immutable(
  z.object({
    auditId: z.string().min(1).max(64).meta({ description: "The revoked token's audit id." }),
    expiresAt: z.string().meta({ format: "date-time", description: "When the revoked token expires anyway." }),
  }),
  "spec",
);

export const tokenRevocationKind = defineKind({
  kind: "TokenRevocation",
  plural: "tokenrevocations",
  singular: "tokenrevocation",
  shortNames: ["osrevocation"],
  scope: "Cluster",
  description: "Internal: a revoked Keystone token (by audit id), kept until the token expires.",
  spec: tokenRevocationSpec,
  status: z.object({}),
  categories: [],
  printerColumns: [
    { name: "Audit-ID", type: "string", jsonPath: ".spec.auditId" },
    { name: "Expires", type: "string", jsonPath: ".spec.expiresAt" },
    ageColumn,
  ],
});

export type TokenRevocation = KindObject<typeof tokenRevocationKind>;
