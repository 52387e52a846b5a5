// ServerAction: one Nova server action (os-instance-actions), a one-shot request against a Server, like
// KubeVirt's VirtualMachineInstanceMigration. Declarative state (power, lock, flavor, image) lives in the
// Server's spec; what has no declarative form (reboot, migrations, snapshots, Nova's confirm/revert resize
// flow, a rebuild onto the same image) is a ServerAction. Actions of one server run one at a time, in the
// order they were requested (REQUESTED_AT_ANNOTATION, else creation time; then name), and go with their
// server (ownerReference).
import { z } from "zod";
import {
  ageColumn,
  cel,
  defineKind,
  objectRef,
  readyColumn,
  statusBase,
  stringMap,
  type KindObject,
} from "./meta.js";
import { imageRef } from "./server.js";

/** Nova's action names, camelCased (`os-migrateLive` → liveMigrate, `confirmResize`, …). */
export const SERVER_ACTIONS = [
  "reboot",
  "resize",
  "confirmResize",
  "revertResize",
  "rebuild",
  "migrate",
  "liveMigrate",
  "createImage",
] as const;
export type ServerActionName = (typeof SERVER_ACTIONS)[number];

export const REBOOT_TYPES = ["SOFT", "HARD"] as const;

/**
 * When the action was requested, as an RFC 3339 time with milliseconds. creationTimestamp has whole seconds,
 * so two requests in one second (a reboot, then a hard reboot) would otherwise be ordered by name; the facade
 * stamps this, and so may anyone creating actions in quick succession.
 */
export const REQUESTED_AT_ANNOTATION = "altostack.io/requested-at";

export const ACTION_PHASES = ["Pending", "Running", "Succeeded", "Failed"] as const;
export type ActionPhase = (typeof ACTION_PHASES)[number];

/** Which parameter belongs to which action; everything else is refused by CEL. */
const PARAMETER_RULES: { field: string; actions: readonly ServerActionName[]; required?: boolean }[] = [
  { field: "type", actions: ["reboot"] },
  { field: "flavorRef", actions: ["resize"], required: true },
  { field: "imageRef", actions: ["rebuild"] },
  { field: "imageName", actions: ["createImage"], required: true },
  { field: "imageMetadata", actions: ["createImage"] },
  { field: "host", actions: ["migrate", "liveMigrate"] },
];

const inList = (actions: readonly string[]) => `self.action in ${JSON.stringify(actions)}`;

export const serverActionSpec = cel(
  z.object({
    serverRef: objectRef().meta({ description: "Name of the Server (same project)." }),
    action: z.enum(SERVER_ACTIONS),
    type: z.enum(REBOOT_TYPES).optional().meta({ description: "reboot: SOFT (ACPI, guest agent) or HARD (reset). Default SOFT." }),
    flavorRef: objectRef().optional().meta({ description: "resize: the new Flavor." }),
    imageRef: imageRef()
      .optional()
      .meta({ description: "rebuild: the image to rebuild onto; default the server's current image." }),
    imageName: z.string().min(1).max(255).optional().meta({ description: "createImage: the new image's name." }),
    imageMetadata: stringMap().optional().meta({ description: "createImage: properties of the new image." }),
    host: z
      .string()
      .min(1)
      .max(253)
      .optional()
      .meta({ description: "migrate, liveMigrate: the node to move to (default: the scheduler chooses)." }),
  }),
  [
    { rule: "self == oldSelf", message: "a ServerAction is a one-shot request: its spec cannot be changed" },
    ...PARAMETER_RULES.map(({ field, actions, required }) => ({
      rule: required === true ? `has(self.${field}) == (${inList(actions)})` : `!has(self.${field}) || ${inList(actions)}`,
      message:
        required === true
          ? `${field} is required for ${actions.join(", ")} and only allowed there`
          : `${field} is only allowed for ${actions.join(", ")}`,
      fieldPath: `.${field}`,
    })),
  ],
);

export const serverActionStatus = z.object({
  ...statusBase,
  phase: z.enum(ACTION_PHASES).optional(),
  message: z.string().max(4096).optional().meta({ description: "What happened, or why the action failed." }),
  code: z.int().optional().meta({ description: "The HTTP code Nova would answer a failed action with (404, 409, …)." }),
  requestId: z.string().optional().meta({ description: "Nova's request id (req-<uid>), as os-instance-actions lists it." }),
  startTime: z.string().optional().meta({ format: "date-time" }),
  finishTime: z.string().optional().meta({ format: "date-time" }),
  migration: z.string().optional().meta({ description: "migrate, liveMigrate: the VirtualMachineInstanceMigration." }),
  image: z
    .object({ name: z.string(), id: z.string().optional() })
    .optional()
    .meta({ description: "createImage: the Image (metadata.name, and its id once created)." }),
});

export const serverActionKind = defineKind({
  kind: "ServerAction",
  plural: "serveractions",
  singular: "serveraction",
  shortNames: ["sa", "osaction"],
  scope: "Namespaced",
  description:
    "A one-shot Nova server action (reboot, resize/confirm/revert, rebuild, migrate, live-migrate, createImage). " +
    "Actions of a server run one at a time in creation order.",
  spec: serverActionSpec,
  status: serverActionStatus,
  printerColumns: [
    { name: "Server", type: "string", jsonPath: ".spec.serverRef" },
    { name: "Action", type: "string", jsonPath: ".spec.action" },
    { name: "Phase", type: "string", jsonPath: ".status.phase" },
    { name: "Message", type: "string", jsonPath: ".status.message", priority: 1 },
    { ...readyColumn, priority: 1 },
    ageColumn,
  ],
});

export type ServerAction = KindObject<typeof serverActionKind>;
export type ServerActionSpec = z.output<typeof serverActionSpec>;
export type ServerActionStatus = z.output<typeof serverActionStatus>;
