// When each object entered its current phase, kept in memory: status timestamps have only second
// precision, too coarse for delays of a few hundred milliseconds. After a restart the simulator
// simply starts counting again, so a step then takes its delay once more.

export class PhaseTimeline {
  private readonly entered = new Map<string, { uid: string; phase: string; at: number }>();

  /** When the object (key and UID) entered `phase`; the first call for a new phase or UID records `now`. */
  enteredAt(key: string, uid: string, phase: string, now: number): number {
    const current = this.entered.get(key);
    if (current?.uid === uid && current.phase === phase) return current.at;
    this.entered.set(key, { uid, phase, at: now });
    return now;
  }

  /** Records that we just moved the object to `phase` (our own write is the transition). */
  mark(key: string, uid: string, phase: string, now: number): void {
    this.entered.set(key, { uid, phase, at: now });
  }

  /** Drops what is known about a key (its object is gone). */
  forget(key: string): void {
    this.entered.delete(key);
  }

  get size(): number {
    return this.entered.size;
  }
}

/**
 * What a timed step decides: move on now, or look again after `waitMs` (the queue's addAfter
 * brings the key back; no watch event would).
 */
export type Step<P> = { kind: "advance"; to: P } | { kind: "wait"; waitMs: number } | { kind: "stay" };

/** Advance to `to` once `delayMs` has passed since `enteredAt`; otherwise wait for the rest. */
export function afterDelay<P>(to: P, enteredAt: number, delayMs: number, now: number): Step<P> {
  const remaining = enteredAt + delayMs - now;
  return remaining <= 0 ? { kind: "advance", to } : { kind: "wait", waitMs: remaining };
}
