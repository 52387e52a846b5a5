// ApplicationCredential: a Keystone application credential — a secret that authenticates as its user, in one
// project, with a subset of the user's roles. Internal and immutable, as in Keystone; the secret is stored only
// as a salted scrypt hash. Deleting the user or the project makes it useless (the facade checks both).
import { z } from "zod";
import { PROJECT_ROLES } from "./project.js";
import { ageColumn, defineKind, description, idColumn, immutable, objectRef, statusBase, type KindObject } from "./meta.js";
import { passwordHash } from "./user.js";

export const applicationCredentialSpec = immutable(
  z.object({
    name: z.string().min(1).max(255),
    description: description(),
    user: objectRef().meta({ description: "The User (metadata.name) it authenticates as." }),
    userId: z.string().min(1).max(64).meta({ description: "The user's uid: a re-created user of the same name gets nothing." }),
    project: objectRef().meta({ description: "The Project (metadata.name) it is scoped to." }),
    roles: z.array(z.enum(PROJECT_ROLES)).min(1).max(3),
    secretHash: passwordHash(),
    expiresAt: z.string().optional().meta({ format: "date-time" }),
    unrestricted: z.boolean().optional().meta({ description: "May create further credentials. Default false." }),
  }),
  "spec",
);

export const applicationCredentialKind = defineKind({
  kind: "ApplicationCredential",
  plural: "applicationcredentials",
  singular: "applicationcredential",
  shortNames: ["osappcred"],
  scope: "Cluster",
  description: "Internal: a Keystone application credential (salted secret hash only).",
  spec: applicationCredentialSpec,
  status: z.object({ ...statusBase }),
  categories: [],
  printerColumns: [
    { name: "Name", type: "string", jsonPath: ".spec.name" },
    { name: "User", type: "string", jsonPath: ".spec.user" },
    { name: "Project", type: "string", jsonPath: ".spec.project" },
    { name: "Expires", type: "string", jsonPath: ".spec.expiresAt" },
    idColumn,
    ageColumn,
  ],
});

export type ApplicationCredential = KindObject<typeof applicationCredentialKind>;
