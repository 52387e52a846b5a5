// Status conditions (metav1.Condition semantics) as pure functions, plus the equality checks that
// let controllers write status only when something really changed.
import { formatTime } from "./time.js";

export const ConditionStatus = {
  True: "True",
  False: "False",
  Unknown: "Unknown",
} as const;
export type ConditionStatus = (typeof ConditionStatus)[keyof typeof ConditionStatus];

export interface Condition {
  type: string;
  status: ConditionStatus;
  reason: string;
  message: string;
  /** RFC 3339, seconds precision. Changes only when status changes. */
  lastTransitionTime: string;
  observedGeneration?: number;
}

/** What a controller says about a condition; the transition time is worked out by setCondition. */
export type ConditionUpdate = Omit<Condition, "lastTransitionTime">;

/**
 * Returns a new list with `next` set. An existing condition of the same type keeps its position and,
 * unless its status flips, its lastTransitionTime; a new type is appended.
 */
export function setCondition(
  conditions: readonly Condition[] | undefined,
  next: ConditionUpdate,
  now: Date | number,
): Condition[] {
  const nowText = formatTime(typeof now === "number" ? now : now.getTime());
  const list = conditions ?? [];
  const index = list.findIndex((c) => c.type === next.type);
  const previous = index < 0 ? undefined : list[index];
  const lastTransitionTime =
    previous !== undefined && previous.status === next.status ? previous.lastTransitionTime : nowText;
  const updated: Condition = {
    type: next.type,
    status: next.status,
    reason: next.reason,
    message: next.message,
    lastTransitionTime,
    ...(next.observedGeneration === undefined ? {} : { observedGeneration: next.observedGeneration }),
  };
  if (index < 0) return [...list, updated];
  const result = [...list];
  result[index] = updated;
  return result;
}

/**
 * `status` with observedGeneration set to `obj`'s generation and its Ready condition set from `verdict`
 * (transition time kept unless the status flips) — the last step of most reconciles.
 */
export function withReady<S extends object>(
  obj: { metadata: { generation?: number }; status?: { conditions?: readonly Condition[] } },
  status: S,
  verdict: Omit<ConditionUpdate, "type" | "observedGeneration">,
  now: Date | number,
): S & { observedGeneration?: number; conditions: Condition[] } {
  const generation = obj.metadata.generation;
  return {
    ...status,
    observedGeneration: generation,
    conditions: setCondition(
      obj.status?.conditions,
      { type: "Ready", ...verdict, ...(generation === undefined ? {} : { observedGeneration: generation }) },
      now,
    ),
  };
}

export function removeCondition(conditions: readonly Condition[] | undefined, type: string): Condition[] {
  return (conditions ?? []).filter((c) => c.type !== type);
}

export function getCondition(conditions: readonly Condition[] | undefined, type: string): Condition | undefined {
  return conditions?.find((c) => c.type === type);
}

export function isTrue(conditions: readonly Condition[] | undefined, type: string): boolean {
  return getCondition(conditions, type)?.status === ConditionStatus.True;
}

export function isFalse(conditions: readonly Condition[] | undefined, type: string): boolean {
  return getCondition(conditions, type)?.status === ConditionStatus.False;
}

/** Same conditions (every field), in any order. */
export function conditionsEqual(a: readonly Condition[] | undefined, b: readonly Condition[] | undefined): boolean {
  const left = a ?? [];
  const right = b ?? [];
  if (left.length !== right.length) return false;
  const byType = new Map(right.map((c) => [c.type, c]));
  if (byType.size !== right.length) return jsonEqual(left, right);
  return left.every((c) => {
    const other = byType.get(c.type);
    return other !== undefined && jsonEqual(c, other);
  });
}

/**
 * Whether writing `next` would change the status. Compares as JSON does (undefined members are
 * absent), and compares any `conditions` list with conditionsEqual, ignoring order.
 */
export function statusChanged(previous: unknown, next: unknown): boolean {
  // No status and an empty status object mean the same thing to a reader.
  if (isEmptyish(previous) && isEmptyish(next)) return false;
  return !jsonEqual(previous, next);
}

function isEmptyish(v: unknown): boolean {
  return v === undefined || v === null || (isRecord(v) && definedKeys(v).length === 0);
}

function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a) && Array.isArray(b)) {
    return a.length === b.length && a.every((item, i) => jsonEqual(item, b[i]));
  }
  if (isRecord(a) && isRecord(b)) {
    const keysA = definedKeys(a);
    const keysB = definedKeys(b);
    if (keysA.length !== keysB.length) return false;
    return keysA.every((k) => {
      const left = a[k];
      const right = b[k];
      if (k === "conditions" && isConditionList(left) && isConditionList(right)) return conditionsEqual(left, right);
      return jsonEqual(left, right);
    });
  }
  return false;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function definedKeys(v: Record<string, unknown>): string[] {
  return Object.keys(v).filter((k) => v[k] !== undefined);
}

function isConditionList(v: unknown): v is Condition[] {
  return Array.isArray(v) && v.every((c) => isRecord(c) && typeof c.type === "string");
}
