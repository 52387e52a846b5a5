// Pure: Cinder's checks on a volume's status before acting on it, with Cinder's words (the routes turn a
// refusal into 400 InvalidVolume). A declarative Snapshot waits for its volume instead (snapshot/desired.ts).

/**
 * Why a snapshot of a volume in `status` is refused, or undefined when it may be taken. Cinder takes one
 * only from `available`, or also `in-use` when forced (implied from microversion 3.66); a volume being
 * created or downloaded, reserved, attached, detached, extended or deleted, or in error, is refused, not
 * queued (cinder/volume/api.py, _create_snapshot).
 */
export function snapshotCreateRefusal(volumeId: string, status: string, force: boolean): string | undefined {
  const allowed = force ? ["available", "in-use"] : ["available"];
  if (allowed.includes(status)) return undefined;
  const hint = status === "in-use" && !force ? " Pass force to snapshot an attached volume." : "";
  return `Invalid volume: Volume ${volumeId} status must be ${allowed.join(" or ")}, but current status is: ${status}.${hint}`;
}
