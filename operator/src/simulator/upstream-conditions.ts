// Conditions in the shapes KubeVirt, CDI and core Kubernetes use (with lastProbeTime or
// lastHeartbeatTime beside lastTransitionTime). Pure: the transition time changes only when the status
// flips, so rewriting the same verdict never changes the object.
import { formatTime } from "../kube/index.js";

export interface UpstreamCondition {
  type: string;
  status: string;
  reason?: string;
  message?: string;
  lastTransitionTime?: string | null;
  lastProbeTime?: string | null;
  lastHeartbeatTime?: string | null;
}

export interface ConditionVerdict {
  type: string;
  status: "True" | "False" | "Unknown";
  reason?: string;
  message?: string;
}

export type TimestampStyle = "probe" | "heartbeat" | "none";

/**
 * The condition as the component would write it: the previous transition time is kept when the
 * status is unchanged; `probe` (KubeVirt) writes lastProbeTime null, `heartbeat` (CDI) sets
 * lastHeartbeatTime to the transition time.
 */
export function toCondition(
  previous: readonly UpstreamCondition[] | null | undefined,
  verdict: ConditionVerdict,
  now: number,
  style: TimestampStyle,
): UpstreamCondition {
  const old = previous?.find((c) => c.type === verdict.type);
  const lastTransitionTime =
    old !== undefined && old.status === verdict.status && typeof old.lastTransitionTime === "string"
      ? old.lastTransitionTime
      : formatTime(now);
  const condition: UpstreamCondition = { type: verdict.type, status: verdict.status, lastTransitionTime };
  if (verdict.reason !== undefined && verdict.reason !== "") condition.reason = verdict.reason;
  if (verdict.message !== undefined && verdict.message !== "") condition.message = verdict.message;
  if (style === "probe") condition.lastProbeTime = null;
  if (style === "heartbeat") {
    const sameAsBefore =
      old !== undefined &&
      old.status === verdict.status &&
      (old.reason ?? "") === (verdict.reason ?? "") &&
      (old.message ?? "") === (verdict.message ?? "");
    condition.lastHeartbeatTime =
      sameAsBefore && typeof old.lastHeartbeatTime === "string" ? old.lastHeartbeatTime : lastTransitionTime;
  }
  return condition;
}

/** Every verdict as a condition, in the verdicts' order. */
export function toConditions(
  previous: readonly UpstreamCondition[] | null | undefined,
  verdicts: readonly ConditionVerdict[],
  now: number,
  style: TimestampStyle,
): UpstreamCondition[] {
  return verdicts.map((v) => toCondition(previous, v, now, style));
}

export function conditionOf(
  conditions: readonly UpstreamCondition[] | null | undefined,
  type: string,
): UpstreamCondition | undefined {
  return conditions?.find((c) => c.type === type);
}

export function hasCondition(
  conditions: readonly UpstreamCondition[] | null | undefined,
  type: string,
  status: string,
  reason?: string,
): boolean {
  const c = conditionOf(conditions, type);
  return c !== undefined && c.status === status && (reason === undefined || c.reason === reason);
}
