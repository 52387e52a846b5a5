// The simulator as a process: `npx tsx operator/src/simulator/main.ts --kubeconfig <path> [options]`
// (see --help). Runs until SIGINT/SIGTERM, then stops its controllers and watches cleanly.
import { rename, writeFile } from "node:fs/promises";
import { KubeClient, rootLogger } from "../kube/index.js";
import { parseCli, SimulatorConfigError, USAGE, type CliOptions } from "./config.js";
import { startSimulator } from "./index.js";

async function main(): Promise<number> {
  let cli: CliOptions;
  try {
    cli = parseCli(process.argv.slice(2), process.env);
  } catch (e) {
    if (!(e instanceof SimulatorConfigError)) throw e;
    process.stderr.write(`${e.message}\n\n${USAGE}\n`);
    return 2;
  }
  if (cli.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const log = rootLogger({ name: "simulator" });
  const clientOptions = { logger: log, userAgent: "altostack-simulator" };
  const client =
    cli.kubeconfig === undefined ? KubeClient.fromDefault(clientOptions) : KubeClient.fromFile(cli.kubeconfig, clientOptions);
  const simulator = await startSimulator({ client, log, config: cli.config });
  // `make run` learns where the simulated cdi-uploadproxy listens (and its CA) from this file, for the facade.
  const infoFile = process.env.SIM_UPLOAD_PROXY_INFO;
  if (infoFile !== undefined && infoFile !== "" && simulator.uploadProxy !== undefined) {
    await writeFile(`${infoFile}.tmp`, JSON.stringify(simulator.uploadProxy));
    await rename(`${infoFile}.tmp`, infoFile);
  }
  await new Promise<void>((resolve) => {
    process.once("SIGINT", resolve);
    process.once("SIGTERM", resolve);
  });
  log.info("signal received; stopping");
  await simulator.stop();
  client.close();
  return 0;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    process.stderr.write(`simulator failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exitCode = 1;
  },
);
