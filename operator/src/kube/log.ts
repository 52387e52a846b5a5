// Structured logging: one pino root logger, and children that carry the object they are about so
// every line about a Server says which one.
import { pino, type DestinationStream, type Logger } from "pino";
import { z } from "zod";
import type { KubeObject } from "./resources.js";

export type { Logger } from "pino";

const levelSchema = z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]);
export type LogLevel = z.infer<typeof levelSchema>;

export interface RootLoggerOptions {
  /** Defaults to $LOG_LEVEL, else "info". */
  level?: LogLevel;
  /**
   * The component ("operator", "facade"), logged as `component`: the `name` field belongs to the
   * object a line is about (see objectLogger).
   */
  name?: string;
  /** Where lines go; stdout when omitted. */
  destination?: DestinationStream;
  env?: Readonly<Record<string, string | undefined>>;
}

export function rootLogger(opts: RootLoggerOptions = {}): Logger {
  const env = opts.env ?? process.env;
  const fromEnv = levelSchema.safeParse(env.LOG_LEVEL?.toLowerCase());
  const level = opts.level ?? (fromEnv.success ? fromEnv.data : "info");
  const options = { level, base: opts.name === undefined ? {} : { component: opts.name } };
  const log = opts.destination === undefined ? pino(options) : pino(options, opts.destination);
  if (env.LOG_LEVEL !== undefined && env.LOG_LEVEL !== "" && !fromEnv.success && opts.level === undefined) {
    log.warn({ LOG_LEVEL: env.LOG_LEVEL }, "unknown LOG_LEVEL; using info");
  }
  return log;
}

/** A child logger for one object: kind, namespace (when namespaced) and name. */
export function objectLogger(log: Logger, kind: string, obj: KubeObject): Logger {
  const bindings: Record<string, string> = { kind, name: obj.metadata.name ?? "" };
  if (obj.metadata.namespace !== undefined) bindings.namespace = obj.metadata.namespace;
  return log.child(bindings);
}

/** A logger that drops everything, for tests. */
export function silentLogger(): Logger {
  return pino({ level: "silent" });
}
