// The allocation arbiter. One cluster-scoped Allocation per allocated value, named from pool + value and
// created with POST only: when two writers (operator replicas during a leader change, concurrent reconciles,
// user-requested addresses) want the same value, the apiserver lets exactly one create succeed and the other
// receives AlreadyExists. Nothing here keeps state in memory; the Allocation objects are the truth.
//
// A holder (Port, Network) asks for "slots" (its MAC, one address per fixed IP, its segment). For each slot
// the holder keeps, in order of preference: the value its status already names (verified against the live
// Allocation), a value it already holds (an allocation made before a crash or by a concurrent reconcile —
// the lowest, so competing reconcilers agree), a value it asked for, or the first free candidate. Allocations
// it holds but no slot chose are surplus; the caller releases them only after a status write guarded by the
// holder's resourceVersion succeeded, so a value named by any status is never freed underneath it.
import {
  API_VERSION,
  LABELS,
  MANAGED_BY,
  allocationKind,
  type Allocation,
  type AllocationHolder,
  type AllocationType,
} from "../../api/index.js";
import { isAlreadyExists, isConflict, isNotFound, type KubeClient, type WatchCache } from "../../kube/index.js";
import { Index, poolKey } from "../network/sources.js";
import { ipHex, macHex, parseIp } from "./addresses.js";

export const AllocationLabel = {
  type: "altostack.io/allocation-type",
  pool: "altostack.io/allocation-pool",
  holderUid: "altostack.io/holder-uid",
  holderKind: "altostack.io/holder-kind",
} as const;

/** The value of a segment allocation: `vlan:<id>`, or `flat` for a flat network. */
export const segmentValue = (vlan: number | undefined): string => (vlan === undefined ? "flat" : `vlan:${vlan}`);

/** The deterministic object name of a value: the apiserver arbitrates on it. */
export function allocationName(type: AllocationType, pool: string, value: string): string {
  switch (type) {
    case "ip": {
      const ip = parseIp(value);
      if (ip === undefined) throw new Error(`not an IP address: ${value}`);
      return `ip-${pool}-${ipHex(ip)}`;
    }
    case "mac":
      return `mac-${macHex(value)}`;
    case "segment":
      return value === "flat" ? `flat-${pool}` : `vlan-${pool}-${value.replace(/^vlan:/, "")}`;
  }
}

export function allocationObject(type: AllocationType, pool: string, value: string, holder: AllocationHolder): Allocation {
  return {
    apiVersion: API_VERSION,
    kind: allocationKind.kind,
    metadata: {
      name: allocationName(type, pool, value),
      labels: {
        [LABELS.managedBy]: MANAGED_BY,
        [AllocationLabel.type]: type,
        [AllocationLabel.pool]: pool,
        [AllocationLabel.holderUid]: holder.uid,
        [AllocationLabel.holderKind]: holder.kind,
      },
    },
    spec: { type, pool, value, holder },
  };
}

export type ClaimResult = { claimed: true; allocation: Allocation } | { claimed: false; heldBy: AllocationHolder };

/** What the arbiter needs from the client: create-only writes, reads, and precondition deletes. */
export type ArbiterClient = Pick<KubeClient, "create" | "get" | "delete" | "list">;

/**
 * Tries to take `value` for `holder`: POST, and on AlreadyExists look at who has it. A value the holder
 * itself already has (a previous attempt, or a concurrent reconcile of the same holder) counts as claimed.
 */
export async function claim(
  client: ArbiterClient,
  type: AllocationType,
  pool: string,
  value: string,
  holder: AllocationHolder,
  fieldManager: string,
): Promise<ClaimResult> {
  const desired = allocationObject(type, pool, value, holder);
  const name = desired.metadata.name ?? "";
  // The existing allocation may be deleted between our POST and our GET; a few rounds settle it.
  for (let round = 0; round < 3; round++) {
    try {
      return { claimed: true, allocation: await client.create(allocationKind, desired, { fieldManager }) };
    } catch (e) {
      if (!isAlreadyExists(e)) throw e;
    }
    const existing = await client.get<Allocation>(allocationKind, name);
    if (existing === undefined) continue;
    if (existing.spec.holder.uid === holder.uid) return { claimed: true, allocation: existing };
    return { claimed: false, heldBy: existing.spec.holder };
  }
  throw new Error(`allocation ${name} kept changing hands; will retry`);
}

/** Deletes an allocation, but only the very object we saw (a re-created one with the same name is someone else's). */
export async function release(client: ArbiterClient, allocation: Allocation): Promise<void> {
  const { name, uid } = allocation.metadata;
  if (name === undefined) return;
  try {
    await client.delete(allocationKind, name, undefined, uid === undefined ? {} : { preconditions: { uid } });
  } catch (e) {
    // Conflict: the uid precondition failed, i.e. the name now belongs to a newer allocation — not ours.
    if (isNotFound(e) || isConflict(e)) return;
    throw e;
  }
}

/** Every allocation a holder has, read live (not from a cache): for deletion paths that must miss nothing. */
export async function listHeld(client: ArbiterClient, holderUid: string): Promise<Allocation[]> {
  const list = await client.list<Allocation>(allocationKind, { labelSelector: `${AllocationLabel.holderUid}=${holderUid}` });
  return list.items;
}

// ---- slots ----

export interface SlotCandidate {
  pool: string;
  value: string;
}

export interface SlotRequest {
  /** Identifies the slot within its holder, e.g. "mac", "fixed:0", "segment". */
  key: string;
  type: AllocationType;
  /** Pools the slot may take its value from (a slot for "any IPv4 subnet" has several). */
  pools: readonly string[];
  /** What the holder's status names for this slot today. */
  current?: SlotCandidate | undefined;
  /** The user asked for exactly this value. */
  requested?: SlotCandidate | undefined;
  /** Values to try in order when the slot has nothing yet; `taken` holds names allocated to anyone (cache). */
  candidates?: (taken: (candidate: SlotCandidate) => boolean) => Iterable<SlotCandidate>;
  /** How many taken candidates to step over before giving up for this round. Default 64. */
  maxConflicts?: number;
  /** Keep `current` if still held, but never claim anything new (a pool that gives out nothing now). */
  keepOnly?: boolean;
}

export type SlotOutcome =
  | { key: string; ok: true; pool: string; value: string; allocation: Allocation }
  | { key: string; ok: false; why: "taken"; value: string; heldBy: AllocationHolder }
  | { key: string; ok: false; why: "exhausted" }
  | { key: string; ok: false; why: "gone" };

/** A slot that could not get a value: someone else holds the requested one, or the pools are full. */
export type SlotFailure = Extract<SlotOutcome, { why: "taken" | "exhausted" }>;

export interface SlotsResult {
  outcomes: SlotOutcome[];
  /** Allocations the holder has that no slot chose; release them once the holder's status no longer names them. */
  surplus: Allocation[];
}

export interface SlotDeps {
  client: ArbiterClient;
  allocations: Pick<WatchCache<Allocation>, "byIndex" | "get">;
  fieldManager: string;
}

const byName = (a: Allocation, b: Allocation): number => (a.metadata.name ?? "").localeCompare(b.metadata.name ?? "");

/** One holder's allocations during a reconcile: what it holds, and what its slots chose so far. */
export interface SlotSession {
  holder: AllocationHolder;
  held: Map<string, Allocation>;
  chosen: Set<string>;
}

export function openSlots(allocations: SlotDeps["allocations"], holder: AllocationHolder): SlotSession {
  const held = new Map<string, Allocation>();
  for (const a of allocations.byIndex(Index.allocationsByHolder, holder.uid)) held.set(a.metadata.name ?? "", a);
  return { holder, held, chosen: new Set() };
}

/** Allocations the holder has that no slot chose (release only after a guarded status write). */
export function surplusOf(session: SlotSession): Allocation[] {
  return [...session.held.values()].filter((a) => !session.chosen.has(a.metadata.name ?? ""));
}

/** Fills one holder's slots in one go (see the file header for the order of preference). */
export async function ensureSlots(deps: SlotDeps, holder: AllocationHolder, slots: readonly SlotRequest[]): Promise<SlotsResult> {
  const session = openSlots(deps.allocations, holder);
  const outcomes = await fillSlots(deps, session, slots);
  return { outcomes, surplus: surplusOf(session) };
}

/** Fills slots within a session; may be called several times (e.g. MAC first, then addresses derived from it). */
export async function fillSlots(deps: SlotDeps, session: SlotSession, slots: readonly SlotRequest[]): Promise<SlotOutcome[]> {
  const { holder, held, chosen } = session;
  const outcomes: SlotOutcome[] = [];

  const heldLive = async (type: AllocationType, candidate: SlotCandidate): Promise<Allocation | undefined> => {
    const name = allocationName(type, candidate.pool, candidate.value);
    const cached = held.get(name);
    if (cached !== undefined) return cached;
    // Not in our cache (yet): the live object decides.
    const live = await deps.client.get<Allocation>(allocationKind, name);
    if (live?.spec.holder.uid !== holder.uid) return undefined;
    held.set(name, live);
    return live;
  };
  const take = (slot: SlotRequest, allocation: Allocation): SlotOutcome => {
    chosen.add(allocation.metadata.name ?? "");
    return { key: slot.key, ok: true, pool: allocation.spec.pool, value: allocation.spec.value, allocation };
  };
  const matches = (slot: SlotRequest, c: SlotCandidate | undefined): c is SlotCandidate =>
    c !== undefined && slot.pools.includes(c.pool) && (slot.requested === undefined || sameCandidate(c, slot.requested));

  for (const slot of slots) {
    // 1. What the status names, if it is still ours.
    if (matches(slot, slot.current)) {
      const current = await heldLive(slot.type, slot.current);
      if (current !== undefined && !chosen.has(current.metadata.name ?? "")) {
        outcomes.push(take(slot, current));
        continue;
      }
    }
    // 2. Something we already hold for this slot (lowest first, so concurrent reconciles agree).
    const spare = [...held.values()]
      .filter((a) => a.spec.type === slot.type && !chosen.has(a.metadata.name ?? ""))
      .filter((a) => matches(slot, { pool: a.spec.pool, value: a.spec.value }))
      .sort(byName)[0];
    if (spare !== undefined) {
      outcomes.push(take(slot, spare));
      continue;
    }
    if (slot.keepOnly === true) {
      outcomes.push({ key: slot.key, ok: false, why: "gone" });
      continue;
    }
    // 3. The value the user asked for.
    if (slot.requested !== undefined) {
      const result = await claim(deps.client, slot.type, slot.requested.pool, slot.requested.value, holder, deps.fieldManager);
      if (result.claimed) {
        held.set(result.allocation.metadata.name ?? "", result.allocation);
        outcomes.push(take(slot, result.allocation));
      } else {
        outcomes.push({ key: slot.key, ok: false, why: "taken", value: slot.requested.value, heldBy: result.heldBy });
      }
      continue;
    }
    // 4. The first free candidate. The cache lets us skip what is visibly taken; the POST decides.
    outcomes.push(await claimFirstFree(deps, holder, slot, held, take));
  }
  return outcomes;
}

async function claimFirstFree(
  deps: SlotDeps,
  holder: AllocationHolder,
  slot: SlotRequest,
  held: Map<string, Allocation>,
  take: (slot: SlotRequest, allocation: Allocation) => SlotOutcome,
): Promise<SlotOutcome> {
  const taken = (c: SlotCandidate): boolean => deps.allocations.get(allocationName(slot.type, c.pool, c.value)) !== undefined;
  let conflicts = 0;
  const maxConflicts = slot.maxConflicts ?? 64;
  for (const candidate of slot.candidates?.(taken) ?? []) {
    const result = await claim(deps.client, slot.type, candidate.pool, candidate.value, holder, deps.fieldManager);
    if (result.claimed) {
      held.set(result.allocation.metadata.name ?? "", result.allocation);
      return take(slot, result.allocation);
    }
    // Lost a race our cache had not seen yet; move on, but not forever: a retry sees a fresher cache.
    if (++conflicts >= maxConflicts) {
      throw new Error(`lost ${conflicts} allocation races in a row for ${slot.key}; retrying with a fresher view`);
    }
  }
  return { key: slot.key, ok: false, why: "exhausted" };
}

function sameCandidate(a: SlotCandidate, b: SlotCandidate): boolean {
  return a.pool === b.pool && a.value === b.value;
}

/** Allocation counts per pool, for status (e.g. a subnet's `allocated`). */
export function countInPool(allocations: Pick<WatchCache<Allocation>, "byIndex">, type: AllocationType, pool: string): number {
  return allocations.byIndex(Index.allocationsByPool, poolKey(type, pool)).length;
}
