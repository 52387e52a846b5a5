// Keypair reconciler (I/O): checks the public key as Nova does and reports its fingerprint and type.
// Servers copy the key into a Secret of their own when they are built, so a keypair deleted later does
// not change them (Nova keeps the key in the instance too).
import { ConditionType, Reason, keypairKind, type Keypair } from "../../api/index.js";
import {
  Controller,
  setCondition,
  writeStatusIfChanged,
  type ReconcileContext,
  type ReconcileOutcome,
  type EventingControllerDeps,
} from "../../kube/index.js";
import { parsePublicKey } from "./public-key.js";

export const KEYPAIR_CONTROLLER = "keypair";

export type KeypairControllerDeps = EventingControllerDeps;

export function keypairController(deps: KeypairControllerDeps): Controller<Keypair> {
  const now = deps.now ?? (() => new Date());
  const reconcile = async (_key: string, ctx: ReconcileContext<Keypair>): Promise<ReconcileOutcome> => {
    const keypair = ctx.object;
    if (keypair === undefined || keypair.metadata.deletionTimestamp !== undefined) return undefined;
    const parsed = parsePublicKey(keypair.spec.publicKey);
    if (!parsed.ok && keypair.status?.conditions?.find((c) => c.type === ConditionType.Ready)?.message !== parsed.error) {
      deps.events.warning(keypair, Reason.InvalidSpec, parsed.error);
    }
    const verdict = parsed.ok
      ? { status: "True" as const, reason: Reason.Reconciled, message: `${parsed.keyType} key, fingerprint ${parsed.fingerprint}` }
      : { status: "False" as const, reason: Reason.InvalidSpec, message: `${parsed.error}; replace publicKey with a valid OpenSSH public key` };
    await writeStatusIfChanged(
      deps.client,
      keypairKind,
      keypair,
      {
        ...keypair.status,
        observedGeneration: keypair.metadata.generation,
        fingerprint: parsed.ok ? parsed.fingerprint : undefined,
        type: parsed.ok ? (keypair.spec.type ?? "ssh") : undefined,
        conditions: setCondition(
          keypair.status?.conditions,
          { type: ConditionType.Ready, ...verdict, observedGeneration: keypair.metadata.generation },
          now(),
        ),
      },
      ctx.fieldManager,
    );
    return undefined;
  };
  return new Controller<Keypair>({
    name: KEYPAIR_CONTROLLER,
    cache: deps.caches.get<Keypair>(keypairKind),
    reconcile,
    logger: deps.logger,
    ...(deps.metrics === undefined ? {} : { metrics: deps.metrics }),
  });
}
