// Pure: the label patch that brings a running server's VMI and virt-launcher pod to the security labels its
// ports want now. KubeVirt copies the VM template's labels to the VMI and its pod only when the VMI is
// created (kubevirt#4711, #7584, #11819), so without this a group change on a running server would wait for
// its next start — and the MultiNetworkPolicies would keep filtering it by its old groups.
import { isSecurityLabelKey } from "../securitygroup/labels.js";

/** `metadata.labels` of a JSON merge patch: a string sets the label, null removes it. */
export type LabelPatch = Record<string, string | null>;

/**
 * Adds or replaces every wanted security label, removes every security label that is no longer wanted, and
 * touches no other label (KubeVirt's, the user's). Undefined when the labels already agree, so nothing is
 * written.
 */
export function securityLabelPatch(
  current: Readonly<Record<string, string>> | undefined,
  wanted: Readonly<Record<string, string>>,
): LabelPatch | undefined {
  const patch: LabelPatch = {};
  for (const [key, value] of Object.entries(wanted)) {
    if (isSecurityLabelKey(key) && current?.[key] !== value) patch[key] = value;
  }
  for (const key of Object.keys(current ?? {})) {
    if (isSecurityLabelKey(key) && !Object.hasOwn(wanted, key)) patch[key] = null;
  }
  return Object.keys(patch).length === 0 ? undefined : patch;
}

/** KubeVirt's label on a virt-launcher pod: the uid of the VMI it runs. */
export const VIRT_LAUNCHER_CREATED_BY = "kubevirt.io/created-by";

interface LauncherPodView {
  metadata: { namespace?: string | undefined; deletionTimestamp?: string | undefined; labels?: Record<string, string> | undefined };
  status?: { phase?: string | undefined } | undefined;
}

/**
 * The virt-launcher pods of a VMI that still run it: in its namespace (a pod elsewhere naming the uid is
 * not its pod), not on their way out, not finished (the source pod of a completed migration). During a
 * migration there are two.
 */
export function launcherPodsToLabel<P extends LauncherPodView>(pods: readonly P[], vmi: { namespace: string; uid: string }): P[] {
  return pods.filter(
    (pod) =>
      pod.metadata.namespace === vmi.namespace &&
      pod.metadata.labels?.[VIRT_LAUNCHER_CREATED_BY] === vmi.uid &&
      pod.metadata.deletionTimestamp === undefined &&
      pod.status?.phase !== "Succeeded" &&
      pod.status?.phase !== "Failed",
  );
}
