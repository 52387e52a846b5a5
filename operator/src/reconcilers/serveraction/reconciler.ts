// ServerAction reconciler (I/O): starts a server's actions one at a time (Nova's state checks), hands
// flavor/image changes of confirmResize and rebuild to the server's spec, carries out what KubeVirt does
// imperatively (soft reboot, reset, migrations) or what becomes a new object (createImage), and reports the
// outcome. Resize, revert, confirm and rebuild are carried out by the server controller, which says in
// `status.currentAction` when its part is done; actions start only once the server has taken them up.
import {
  ConditionType,
  imageKind,
  serverActionKind,
  serverKind,
  type ActionPhase,
  type Image,
  type Server,
  type ServerAction,
  type ServerActionStatus,
} from "../../api/index.js";
import {
  Controller,
  Upstream,
  applyChild,
  formatTime,
  isAlreadyExists,
  isNotFound,
  keyOf,
  objectKey,
  ownerKeysFor,
  ownerReference,
  setCondition,
  watchOf,
  writeStatusIfChanged,
  type ReconcileContext,
  type ReconcileOutcome,
  type EventingControllerDeps,
  WrittenObjects,
} from "../../kube/index.js";
import { migrationName, snapshotImageName, vmNameOf } from "../server/names.js";
import { vmiOperation } from "../server/subresources.js";
import { desiredMigration, desiredSnapshotImage, type MigrationObject } from "./desired.js";
import { actionReady, actionsAhead, isFinal, requestIdOf, startDecision } from "./policy.js";

export const SERVER_ACTION_CONTROLLER = "serveraction";

export type ServerActionControllerDeps = EventingControllerDeps;

const Index = {
  byServer: "serveraction:by-server",
  image: "serveraction:image",
} as const;

interface Outcome {
  phase: ActionPhase;
  message: string;
  code?: number | undefined;
  extra?: Partial<ServerActionStatus>;
}

export function serverActionController(deps: ServerActionControllerDeps): Controller<ServerAction> {
  const { client } = deps;
  const now = deps.now ?? (() => new Date());
  const actions = deps.caches.get<ServerAction>(serverActionKind);
  const servers = deps.caches.get<Server>(serverKind);
  const images = deps.caches.get<Image>(imageKind);
  const migrations = deps.caches.get<MigrationObject>(Upstream.VirtualMachineInstanceMigration, {
    labelSelector: "altostack.io/server-action",
  });

  actions.addIndex(Index.byServer, (a) => [objectKey(a.metadata.namespace, a.spec.serverRef)]);
  actions.addIndex(Index.image, (a) =>
    a.spec.action === "createImage" && a.metadata.uid !== undefined
      ? [objectKey(a.metadata.namespace, snapshotImageName(a.spec.serverRef, a.metadata.uid))]
      : [],
  );
  /**
   * Reboots already requested, by action key (and uid, so a namesake starts afresh). A reboot is not idempotent, and a reconcile may run again
   * before the cache shows the Succeeded this controller wrote; the memo keeps it to one reboot.
   */
  const rebooted = new Map<string, { uid: string; outcome: Outcome }>();
  const written = new WrittenObjects<ServerAction>();
  const unfinishedOf = (serverKey: string): string[] =>
    actions.byIndex(Index.byServer, serverKey).filter((a) => !isFinal(a.status)).map(keyOf);

  const reconcile = async (key: string, ctx: ReconcileContext<ServerAction>): Promise<ReconcileOutcome> => {
    let action = written.current(key, ctx.object);
    if (action === undefined || isFinal(action.status)) {
      rebooted.delete(key);
      return undefined;
    }
    const namespace = action.metadata.namespace ?? "";
    const serverKey = objectKey(namespace, action.spec.serverRef);
    const server = servers.get(serverKey);
    if (server !== undefined && server.metadata.deletionTimestamp === undefined) action = await ensureOwner(action, server, ctx);

    const phase = action.status?.phase ?? "Pending";
    let outcome: Outcome;
    if (phase === "Pending") {
      outcome = await tryStart(action, server, ctx);
    } else if (server === undefined) {
      outcome = { phase: "Failed", code: 404, message: `Instance ${action.spec.serverRef} was deleted before the action finished.` };
    } else if (server.status?.currentAction?.name !== action.metadata.name) {
      outcome = { phase: "Running", message: "waiting for the server to take the action up" };
    } else {
      outcome = await carryOut(action, server, ctx);
    }
    await writeOutcome(action, outcome, ctx);
    return undefined;
  };

  async function tryStart(action: ServerAction, server: Server | undefined, ctx: ReconcileContext<ServerAction>): Promise<Outcome> {
    const siblings = server === undefined ? [] : actions.byIndex(Index.byServer, keyOf(server));
    const decision = startDecision(
      action,
      {
        exists: server !== undefined,
        deleting: server?.metadata.deletionTimestamp !== undefined,
        uid: server?.metadata.uid ?? "",
        locked: server?.spec.locked === true,
        admitted: server?.status?.flavor !== undefined,
        status: server?.status,
      },
      actionsAhead(action, siblings),
    );
    if (decision.kind === "wait") return { phase: "Pending", message: decision.message };
    if (decision.kind === "fail") return { phase: "Failed", code: decision.code, message: decision.message };
    if (server === undefined) return { phase: "Pending", message: "waiting for the server" };
    // Spec changes an action implies, made before the server takes it up so both worlds agree.
    if (action.spec.action === "confirmResize") {
      const flavor = server.status?.flavor?.name;
      if (flavor !== undefined && flavor !== server.spec.flavorRef) await patchServerSpec(server, { flavorRef: flavor }, ctx);
    }
    if (action.spec.action === "rebuild" && action.spec.imageRef !== undefined && action.spec.imageRef !== server.spec.imageRef) {
      await patchServerSpec(server, { imageRef: action.spec.imageRef }, ctx);
    }
    deps.events.normal(action, "Started", `${action.spec.action} of server ${action.spec.serverRef} started`);
    return { phase: "Running", message: "waiting for the server to take the action up", extra: { startTime: formatTime(now().getTime()) } };
  }

  async function carryOut(action: ServerAction, server: Server, ctx: ReconcileContext<ServerAction>): Promise<Outcome> {
    const namespace = action.metadata.namespace ?? "";
    const vmiName = server.status?.virtualMachine ?? vmNameOf(server.metadata.name ?? "");
    switch (action.spec.action) {
      case "reboot": {
        const uid = action.metadata.uid ?? "";
        const key = keyOf(action);
        const earlier = rebooted.get(key);
        if (earlier?.uid === uid) return earlier.outcome;
        const hard = action.spec.type === "HARD";
        const done = await vmiOperation(client, namespace, vmiName, hard ? "reset" : "softreboot");
        ctx.log.info({ type: hard ? "HARD" : "SOFT", accepted: done }, "reboot requested");
        const outcome: Outcome = done
          ? { phase: "Succeeded", message: hard ? "the server was reset (hard reboot)" : "the guest was asked to reboot (soft reboot)" }
          : { phase: "Failed", code: 409, message: "the guest is not running, so it cannot be rebooted" };
        rebooted.set(key, { uid, outcome });
        return outcome;
      }
      case "migrate":
      case "liveMigrate":
        return migrate(action, server, ctx);
      case "createImage":
        return snapshot(action, server, ctx);
      default: {
        // resize, confirmResize, revertResize, rebuild: the server controller reports its result.
        const current = server.status?.currentAction;
        if (current?.result === undefined) return { phase: "Running", message: `${action.spec.action} in progress (server ${server.status?.status ?? ""})` };
        return {
          phase: current.result,
          message: current.message ?? `${action.spec.action} ${current.result === "Succeeded" ? "done" : "failed"}`,
          code: current.code,
        };
      }
    }
  }

  async function migrate(action: ServerAction, server: Server, ctx: ReconcileContext<ServerAction>): Promise<Outcome> {
    if (server.status?.status === "SHUTOFF") {
      // KubeVirt has no cold migration: a stopped VM has no node, and is placed anew when started.
      return { phase: "Succeeded", message: "the server is stopped: it is placed by the scheduler when it starts" };
    }
    const name = migrationName(action.metadata.name ?? "");
    const namespace = action.metadata.namespace ?? "";
    let migration = migrations.get(objectKey(namespace, name));
    if (migration === undefined) {
      ctx.log.info({ migration: name }, "creating VirtualMachineInstanceMigration");
      migration = await applyChild(client, Upstream.VirtualMachineInstanceMigration, desiredMigration(action), action, ctx.fieldManager);
    }
    const extra = { migration: name };
    const phase = migration.status?.phase;
    if (phase === "Succeeded") {
      return { phase: "Succeeded", message: `migrated to ${migration.status?.migrationState?.targetNode ?? "another node"}`, extra };
    }
    if (phase === "Failed") {
      const reason = migration.status?.migrationState?.failureReason ?? "the migration failed";
      return { phase: "Failed", code: 400, message: `Migration failed: ${reason}`, extra };
    }
    return { phase: "Running", message: `migration ${phase ?? "Pending"}`, extra };
  }

  async function snapshot(action: ServerAction, server: Server, ctx: ReconcileContext<ServerAction>): Promise<Outcome> {
    const desired = desiredSnapshotImage(action, server);
    const name = desired.metadata.name ?? "";
    let image = images.get(objectKey(action.metadata.namespace, name));
    if (image === undefined) {
      ctx.log.info({ image: name }, "creating the snapshot Image");
      try {
        // Created, not owned: the image outlives the action and the server, as a Glance snapshot does.
        image = await client.create<Image>(imageKind, desired, { fieldManager: ctx.fieldManager });
      } catch (e) {
        if (!isAlreadyExists(e)) throw e;
      }
    }
    const extra = { image: { name, ...(image?.metadata.uid === undefined ? {} : { id: image.metadata.uid }) } };
    const status = image?.status?.status;
    if (status === "active") return { phase: "Succeeded", message: `image ${desired.spec.name ?? name} is active`, extra };
    if (status === "killed") {
      const why = image?.status?.conditions?.find((c) => c.type === "Ready")?.message ?? "the snapshot failed";
      return { phase: "Failed", code: 500, message: `Snapshot failed: ${why}`, extra };
    }
    return { phase: "Running", message: `image ${desired.spec.name ?? name} is ${status ?? "queued"}`, extra };
  }

  async function patchServerSpec(server: Server, spec: Partial<Server["spec"]>, ctx: ReconcileContext<ServerAction>): Promise<void> {
    ctx.log.info({ server: server.metadata.name, spec }, "updating the server's spec for the action");
    await client.patch(serverKind, server.metadata.name ?? "", server.metadata.namespace, { spec }, "merge", {
      fieldManager: ctx.fieldManager,
    });
  }

  /** Actions go with their server: a non-controlling ownerReference, so garbage collection deletes them. */
  /** Makes the server an owner of the action; returns the action as written (remembered: a status write follows). */
  async function ensureOwner(action: ServerAction, server: Server, ctx: ReconcileContext<ServerAction>): Promise<ServerAction> {
    if ((action.metadata.ownerReferences ?? []).some((r) => r.uid === server.metadata.uid)) return action;
    try {
      // The apiserver answers with the whole object, of which we sent only the owner reference.
      const patched = (await client.apply(
        serverActionKind,
        {
          apiVersion: action.apiVersion,
          kind: "ServerAction",
          metadata: {
            name: action.metadata.name ?? "",
            namespace: action.metadata.namespace ?? "",
            ownerReferences: [ownerReference(server, { controller: false, blockOwnerDeletion: false })],
          },
        },
        { fieldManager: ctx.fieldManager },
      )) as ServerAction;
      written.remember(action, patched);
      return patched;
    } catch (e) {
      if (!isNotFound(e)) throw e;
      return action;
    }
  }

  async function writeOutcome(action: ServerAction, outcome: Outcome, ctx: ReconcileContext<ServerAction>): Promise<void> {
    const final = outcome.phase === "Succeeded" || outcome.phase === "Failed";
    if (final && action.status?.phase !== outcome.phase) {
      ctx.log.info({ phase: outcome.phase, message: outcome.message }, "action finished");
      if (outcome.phase === "Failed") deps.events.warning(action, "Failed", outcome.message);
      else deps.events.normal(action, "Succeeded", outcome.message);
    }
    const status: ServerActionStatus = {
      ...action.status,
      ...outcome.extra,
      observedGeneration: action.metadata.generation,
      phase: outcome.phase,
      message: outcome.message,
      code: outcome.code,
      requestId: requestIdOf(action),
      ...(final ? { finishTime: action.status?.finishTime ?? formatTime(now().getTime()) } : {}),
      ...(final && action.status?.startTime === undefined ? { startTime: formatTime(now().getTime()) } : {}),
      conditions: setCondition(
        action.status?.conditions,
        { type: ConditionType.Ready, ...actionReady(outcome.phase, outcome.message), observedGeneration: action.metadata.generation },
        now(),
      ),
    };
    written.remember(action, await writeStatusIfChanged(client, serverActionKind, action, status, ctx.fieldManager));
  }

  return new Controller<ServerAction>({
    name: SERVER_ACTION_CONTROLLER,
    cache: actions,
    watches: [
      // The server's state decides when actions start and when its part of them is done.
      watchOf(servers, (s) => unfinishedOf(keyOf(s))),
      // An action finishing lets the next one of the same server start.
      watchOf(actions, (a) => unfinishedOf(objectKey(a.metadata.namespace, a.spec.serverRef))),
      watchOf(migrations, ownerKeysFor(serverActionKind)),
      watchOf(images, (i) => actions.byIndex(Index.image, keyOf(i)).map(keyOf)),
    ],
    reconcile,
    logger: deps.logger,
    ...(deps.metrics === undefined ? {} : { metrics: deps.metrics }),
  });
}
