// Pure: the order in which one server's actions run — the one place it is decided, for the ServerAction
// controller (which starts them) and the server controller (which takes the running one up).
import { REQUESTED_AT_ANNOTATION, type ServerAction } from "../../api/index.js";

/** Milliseconds since the epoch at which an action was requested: its annotation, else its creation time. */
export function requestedAtOf(action: ServerAction): number {
  const stamped = Date.parse(action.metadata.annotations?.[REQUESTED_AT_ANNOTATION] ?? "");
  if (Number.isFinite(stamped)) return stamped;
  const created = Date.parse(action.metadata.creationTimestamp ?? "");
  return Number.isFinite(created) ? created : 0;
}

/** The order actions of one server run in: requested first, then by name (the one place this is decided). */
export function compareRequests(a: { requestedAt: number; name: string }, b: { requestedAt: number; name: string }): number {
  return a.requestedAt - b.requestedAt || a.name.localeCompare(b.name);
}
