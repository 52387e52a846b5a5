// Keeps the facade's impersonation allowlist (desired.ts) equal to the Users and Projects that exist. One
// ClusterRole for the whole cloud: every change of a User or Project recomputes it, and an unchanged result
// is not written again.
import { projectKind, userKind, type Project, type User } from "../../api/index.js";
import {
  Builtin,
  Controller,
  watchOf,
  type ReconcileContext,
  type ReconcileOutcome,
  type ControllerDeps,
} from "../../kube/index.js";
import { desiredImpersonationRole } from "./desired.js";

export const IMPERSONATION_CONTROLLER = "facade-impersonation";
/** The one key every change maps to: there is a single allowlist. */
const ALLOWLIST_KEY = "allowlist";

export type ImpersonationControllerDeps = ControllerDeps;

export function impersonationController(deps: ImpersonationControllerDeps): Controller<User> {
  const users = deps.caches.get<User>(userKind);
  const projects = deps.caches.get<Project>(projectKind);
  let lastApplied: string | undefined;
  const reconcile = async (_key: string, ctx: ReconcileContext<User>): Promise<ReconcileOutcome> => {
    const live = (objs: readonly (User | Project)[]) =>
      objs.filter((o) => o.metadata.deletionTimestamp === undefined).map((o) => o.metadata.name ?? "");
    const desired = desiredImpersonationRole(live(users.list()), live(projects.list()));
    const fingerprint = JSON.stringify(desired.rules);
    if (fingerprint === lastApplied) return undefined;
    await deps.client.apply(Builtin.ClusterRole, desired, { fieldManager: ctx.fieldManager, force: true });
    lastApplied = fingerprint;
    ctx.log.debug({ rules: desired.rules.map((r) => `${r.resources.join()}:${String(r.resourceNames.length)}`) }, "impersonation allowlist applied");
    return undefined;
  };
  return new Controller<User>({
    name: IMPERSONATION_CONTROLLER,
    cache: users,
    // Projects add or remove role groups; Users' own events arrive as the primary cache's.
    watches: [watchOf(projects, () => [ALLOWLIST_KEY], { updates: false })],
    reconcile,
    workers: 1,
    logger: deps.logger,
    ...(deps.metrics === undefined ? {} : { metrics: deps.metrics }),
  });
}
