// Graceful shutdown of a long-running process (operator, facade): the first SIGTERM/SIGINT stops it once,
// closes the client's connections and exits 0; a failed stop exits 1.
import type { Logger } from "pino";

export function stopOnSignals(logger: Logger, stop: () => Promise<void>, close: () => void): void {
  let stopping = false;
  const shutdown = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, "shutting down");
    stop()
      .then(() => {
        close();
        process.exit(0);
      })
      .catch((e: unknown) => {
        logger.error({ err: e }, "unclean shutdown");
        process.exit(1);
      });
  };
  process.on("SIGTERM", () => {
    shutdown("SIGTERM");
  });
  process.on("SIGINT", () => {
    shutdown("SIGINT");
  });
}
