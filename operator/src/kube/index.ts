// The public API of the Kubernetes plumbing. Import from here, not from the modules.
export * from "./resources.js";
export * from "./errors.js";
export * from "./time.js";
export * from "./client.js";
export * from "./cache.js";
export * from "./queue.js";
export * from "./controller.js";
export * from "./conditions.js";
export * from "./apply.js";
export * from "./finalizers.js";
export * from "./leader.js";
export * from "./metrics.js";
export * from "./health.js";
export * from "./log.js";
export * from "./events.js";
export * from "./cache-set.js";
export * from "./shutdown.js";
