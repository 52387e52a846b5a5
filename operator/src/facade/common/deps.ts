// What every service's route table is built from.
import type { KubeClient, Logger } from "../../kube/index.js";
import type { FacadeConfig } from "../config.js";
import type { ConsoleTokens } from "../console/tokens.js";
import type { IdentityService } from "../keystone/identity.js";
import type { FacadeStore } from "./store.js";

export interface ServiceDeps {
  store: FacadeStore;
  identity: IdentityService;
  /** The facade's own identity: authentication reads and identity bookkeeping only; tenant writes impersonate. */
  client: KubeClient;
  config: FacadeConfig;
  logger: Logger;
  /** Signs and redeems the tokens of remote-console URLs. */
  consoles: ConsoleTokens;
  /** The facade's public base URL, known once it listens. */
  publicUrl: () => string;
}
