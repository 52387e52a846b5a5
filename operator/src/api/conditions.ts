// Condition types and reasons users see in `kubectl describe` and that Argo CD/Flux read for health.
// Reasons are documented constants so tooling can match them; messages are for humans.

export const ConditionType = {
  /** The object is fully realised and usable. Every kind sets it. */
  Ready: "Ready",
  /** The object is being deleted and waits for something (children, or a user decision). */
  Deleting: "Deleting",
} as const;
export type ConditionType = (typeof ConditionType)[keyof typeof ConditionType];

export const Reason = {
  // Generic
  Reconciled: "Reconciled",
  Progressing: "Progressing",
  InvalidSpec: "InvalidSpec",
  DependencyNotFound: "DependencyNotFound",
  DependencyNotReady: "DependencyNotReady",
  QuotaExceeded: "QuotaExceeded",
  ReconcileError: "ReconcileError",
  WaitingForChildren: "WaitingForChildren",
  // Project
  NamespaceConflict: "NamespaceConflict",
  DeletionBlocked: "DeletionBlocked",
  CascadeDeleting: "CascadeDeleting",
} as const;
export type Reason = (typeof Reason)[keyof typeof Reason];

/** Finalizers, one per controller that must clean up before an object goes. */
export const Finalizer = {
  project: "altostack.io/project",
} as const;
