// Pure: Cinder's checks on a volume's status before acting on it, with Cinder's words (the routes turn a
// refusal into 400 InvalidVolume). A declarative Snapshot waits for its volume instead (snapshot/desired.ts).

/** A volume still being made: its Snapshot object waits for it (declarative) rather than being refused. */
const ON_ITS_WAY: ReadonlySet<string> = new Set(["creating", "downloading"]);

/**
 * Why a snapshot of a volume in `status` is refused, or undefined when it may be taken. Cinder takes one
 * only from `available`, or also `in-use` when forced (implied from microversion 3.66); a volume being
 * reserved, attached, detached, extended or deleted, or in error, is refused, not queued. One leniency:
 * Cinder refuses `creating` too, but a volume on its way to available is accepted and the Snapshot waits
 * for it (as before; nothing a client does breaks on it, and a cluster without storage never gets there).
 */
export function snapshotCreateRefusal(volumeId: string, status: string, force: boolean): string | undefined {
  const allowed = force ? ["available", "in-use"] : ["available"];
  if (allowed.includes(status) || ON_ITS_WAY.has(status)) return undefined;
  const hint = status === "in-use" && !force ? " Pass force to snapshot an attached volume." : "";
  return `Invalid volume: Volume ${volumeId} status must be ${allowed.join(" or ")}, but current status is: ${status}.${hint}`;
}
