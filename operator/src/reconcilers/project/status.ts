// Pure: what a Project's Ready condition says, from what the reconciler observed.
import { Reason } from "../../api/index.js";

export interface ConditionVerdict {
  status: "True" | "False" | "Unknown";
  reason: string;
  message: string;
}

export interface ProjectObservation {
  namespaceName: string;
  /** The namespace exists but belongs to something else (no matching altostack.io/project label). */
  namespaceConflict: boolean;
  deleting: boolean;
  /** Objects still in the project, by kind plural → count. */
  remaining: Record<string, number>;
  cascade: boolean;
}

export function describeRemaining(remaining: Record<string, number>): string {
  return Object.entries(remaining)
    .filter(([, count]) => count > 0)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([plural, count]) => `${count} ${count === 1 ? plural.replace(/s$/, "") : plural}`)
    .join(", ");
}

export function readyCondition(o: ProjectObservation): ConditionVerdict {
  if (o.namespaceConflict) {
    return {
      status: "False",
      reason: Reason.NamespaceConflict,
      message: `namespace ${o.namespaceName} already exists and does not belong to this project; it was left untouched`,
    };
  }
  if (o.deleting) {
    const left = describeRemaining(o.remaining);
    if (left === "") return { status: "False", reason: Reason.Progressing, message: "project is being deleted" };
    if (o.cascade) {
      return { status: "False", reason: Reason.CascadeDeleting, message: `deleting everything in the project: ${left} left` };
    }
    return {
      status: "False",
      reason: Reason.DeletionBlocked,
      message:
        `project still holds ${left}; delete them first, or set spec.deletionPolicy: Cascade ` +
        "to delete the project with everything in it",
    };
  }
  return { status: "True", reason: Reason.Reconciled, message: `namespace ${o.namespaceName} with quota and roles is ready` };
}
