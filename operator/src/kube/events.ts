// Kubernetes Events (events.k8s.io/v1) for `kubectl describe`. Repeats of the same event on the
// same object update one Event's series count instead of creating new ones. Recording never throws
// into a reconcile: events are best-effort, failures are logged.
import type { Logger } from "pino";
import type { KubeClient } from "./client.js";
import { isNotFound } from "./errors.js";
import { Builtin, type KubeObject } from "./resources.js";
import { formatMicroTime, systemClock, type Clock } from "./time.js";

export const EventType = {
  Normal: "Normal",
  Warning: "Warning",
} as const;
export type EventType = (typeof EventType)[keyof typeof EventType];

export interface ObjectReference {
  apiVersion?: string;
  kind?: string;
  name?: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
}

export interface KubeEvent extends KubeObject {
  eventTime: string;
  reportingController: string;
  reportingInstance: string;
  action: string;
  reason: string;
  note?: string;
  type: EventType;
  regarding: ObjectReference;
  related?: ObjectReference;
  series?: { count: number; lastObservedTime: string };
}

export interface EventRecorderOptions {
  client: Pick<KubeClient, "create" | "patch">;
  /** The controller name; events report `altostack.io/<controller>`. */
  controller: string;
  /** This replica, e.g. the pod name. */
  instance: string;
  logger: Logger;
  clock?: Clock;
  /** How many distinct events are remembered for series updates. Default 4096. */
  maxTracked?: number;
}

export interface RecordOptions {
  /** What was being done, e.g. "Reconcile", "Delete". Default "Reconcile". */
  action?: string;
  related?: KubeObject;
}

interface Tracked {
  name: string;
  namespace: string;
  count: number;
}

const NOTE_MAX_BYTES = 1024;
const FIELD_MAX = 128;

export class EventRecorder {
  private readonly client: EventRecorderOptions["client"];
  private readonly reportingController: string;
  private readonly instance: string;
  private readonly log: Logger;
  private readonly clock: Clock;
  private readonly maxTracked: number;
  /** Insertion-ordered, so the first entry is the least recently recorded. */
  private readonly tracked = new Map<string, Tracked>();
  /** Writes per event key are serialised so a repeat never races the create it updates. */
  private readonly pending = new Map<string, Promise<void>>();
  private sequence = 0;

  constructor(opts: EventRecorderOptions) {
    this.client = opts.client;
    this.reportingController = truncate(`altostack.io/${opts.controller}`, FIELD_MAX);
    this.instance = truncate(opts.instance, FIELD_MAX);
    this.log = opts.logger.child({ component: "events", controller: opts.controller });
    this.clock = opts.clock ?? systemClock;
    this.maxTracked = opts.maxTracked ?? 4096;
  }

  normal(regarding: KubeObject, reason: string, note: string, opts?: RecordOptions): void {
    this.record(regarding, EventType.Normal, reason, note, opts);
  }

  warning(regarding: KubeObject, reason: string, note: string, opts?: RecordOptions): void {
    this.record(regarding, EventType.Warning, reason, note, opts);
  }

  /** Queues the event and returns at once. */
  record(regarding: KubeObject, type: EventType, reason: string, note: string, opts: RecordOptions = {}): void {
    const ref = referenceTo(regarding);
    const key = [ref.uid ?? `${ref.kind ?? ""}/${ref.namespace ?? ""}/${ref.name ?? ""}`, type, reason, note].join(
      "\u0000",
    );
    // The time of the observation, not of the (possibly queued) write.
    const observedAt = this.clock.now();
    const previous = this.pending.get(key) ?? Promise.resolve();
    const next = previous
      .then(() => this.write(key, observedAt, ref, type, reason, note, opts))
      .catch((e: unknown) => {
        this.log.warn({ err: e, reason, regarding: ref }, "could not record event");
      })
      .finally(() => {
        if (this.pending.get(key) === next) this.pending.delete(key);
      });
    this.pending.set(key, next);
  }

  /** Resolves when every queued event has been written (or failed). For tests and shutdown. */
  async flush(): Promise<void> {
    while (this.pending.size > 0) await Promise.all([...this.pending.values()]);
  }

  private async write(
    key: string,
    now: number,
    regarding: ObjectReference,
    type: EventType,
    reason: string,
    note: string,
    opts: RecordOptions,
  ): Promise<void> {
    const seen = this.tracked.get(key);
    if (seen !== undefined) {
      const count = seen.count + 1;
      try {
        await this.client.patch(
          Builtin.Event,
          seen.name,
          seen.namespace,
          { series: { count, lastObservedTime: formatMicroTime(now) } },
          "merge",
        );
        seen.count = count;
        this.touch(key, seen);
        return;
      } catch (e) {
        // Events expire (1 h by default); start a new one.
        if (!isNotFound(e)) throw e;
        this.tracked.delete(key);
      }
    }
    const namespace = regarding.namespace ?? "default";
    const event: KubeEvent = {
      apiVersion: "events.k8s.io/v1",
      kind: "Event",
      metadata: { name: this.eventName(regarding.name ?? "object", now), namespace },
      eventTime: formatMicroTime(now),
      reportingController: this.reportingController,
      reportingInstance: this.instance,
      action: truncate(opts.action ?? "Reconcile", FIELD_MAX),
      reason: truncate(reason, FIELD_MAX),
      note: truncateBytes(note, NOTE_MAX_BYTES),
      type,
      regarding,
      ...(opts.related === undefined ? {} : { related: referenceTo(opts.related) }),
    };
    const created = await this.client.create<KubeEvent>(Builtin.Event, event);
    this.touch(key, { name: created.metadata.name ?? event.metadata.name ?? "", namespace, count: 1 });
  }

  private touch(key: string, entry: Tracked): void {
    this.tracked.delete(key);
    this.tracked.set(key, entry);
    while (this.tracked.size > this.maxTracked) {
      const oldest = this.tracked.keys().next();
      if (oldest.done === true) break;
      this.tracked.delete(oldest.value);
    }
  }

  /** `<object>.<hex time+sequence>`, like client-go, kept within the 253-character name limit. */
  private eventName(objectName: string, now: number): string {
    const suffix = `${now.toString(16)}${(this.sequence++ % 4096).toString(16).padStart(3, "0")}`;
    return `${objectName.slice(0, 253 - suffix.length - 1)}.${suffix}`;
  }
}

function referenceTo(obj: KubeObject): ObjectReference {
  const ref: ObjectReference = {};
  if (obj.apiVersion !== undefined) ref.apiVersion = obj.apiVersion;
  if (obj.kind !== undefined) ref.kind = obj.kind;
  if (obj.metadata.name !== undefined) ref.name = obj.metadata.name;
  if (obj.metadata.namespace !== undefined) ref.namespace = obj.metadata.namespace;
  if (obj.metadata.uid !== undefined) ref.uid = obj.metadata.uid;
  if (obj.metadata.resourceVersion !== undefined) ref.resourceVersion = obj.metadata.resourceVersion;
  return ref;
}

function truncate(text: string, max: number): string {
  return text.length <= max ? text : text.slice(0, max);
}

function truncateBytes(text: string, maxBytes: number): string {
  if (Buffer.byteLength(text) <= maxBytes) return text;
  let end = Math.min(text.length, maxBytes);
  while (end > 0 && Buffer.byteLength(text.slice(0, end) + "…") > maxBytes) end--;
  // Never cut a surrogate pair in half.
  const last = text.charCodeAt(end - 1);
  if (last >= 0xd800 && last <= 0xdbff) end--;
  return text.slice(0, end) + "…";
}
