// The registry of every Altostack kind. Everything that needs "all kinds" (CRD generation, the operator's
// caches, the facade, tests) iterates this one list.
import { allocationKind } from "./allocation.js";
import { applicationCredentialKind } from "./applicationcredential.js";
import { containerKind } from "./container.js";
import { flavorKind } from "./flavor.js";
import { imageKind } from "./image.js";
import { keypairKind } from "./keypair.js";
import { networkKind } from "./network.js";
import { portKind } from "./port.js";
import { projectKind } from "./project.js";
import { securityGroupKind } from "./securitygroup.js";
import { serverKind } from "./server.js";
import { serverActionKind } from "./serveraction.js";
import { snapshotKind } from "./snapshot.js";
import { subnetKind } from "./subnet.js";
import { tokenRevocationKind } from "./tokenrevocation.js";
import { userKind } from "./user.js";
import { volumeKind } from "./volume.js";

export const ALL_KINDS = [
  projectKind,
  flavorKind,
  keypairKind,
  imageKind,
  serverKind,
  serverActionKind,
  networkKind,
  subnetKind,
  portKind,
  securityGroupKind,
  volumeKind,
  snapshotKind,
  containerKind,
] as const;

export type AnyKind = (typeof ALL_KINDS)[number];

/** The operator's own bookkeeping kinds: CRDs like the rest, but not user-facing (no category, no tenant RBAC). */
export const INTERNAL_KINDS = [allocationKind, userKind, applicationCredentialKind, tokenRevocationKind] as const;

/** Kinds that live in a project's namespace (everything but Project and Flavor). */
export const PROJECT_SCOPED_KINDS = ALL_KINDS.filter((k) => k.namespaced);

export * from "./conditions.js";
export * from "./meta.js";
export * from "./allocation.js";
export * from "./applicationcredential.js";
export * from "./container.js";
export * from "./flavor.js";
export * from "./image.js";
export * from "./keypair.js";
export * from "./network.js";
export * from "./port.js";
export * from "./project.js";
export * from "./securitygroup.js";
export * from "./server.js";
export * from "./serveraction.js";
export * from "./snapshot.js";
export * from "./subnet.js";
export * from "./tokenrevocation.js";
export * from "./user.js";
export * from "./volume.js";
