// A project's quotas as OpenStack updates them: Nova, Neutron and Cinder each set their own keys of the
// one Project object, as the caller (RBAC decides who may), and answer once the cache has the write.
import { projectKind, type Project } from "../../api/index.js";
import type { Caller } from "./caller.js";
import type { FacadeStore } from "./store.js";
import { FACADE_MANAGER } from "./tenant.js";

export type ProjectQuotas = NonNullable<Project["spec"]["quotas"]>;

/** The quotas an update names: null or absent leaves a quota as it is. */
export function namedQuotas(input: { [K in keyof ProjectQuotas]?: number | null | undefined }): ProjectQuotas {
  const named: ProjectQuotas = {};
  for (const key of Object.keys(input) as (keyof ProjectQuotas)[]) {
    const value = input[key];
    if (value != null) named[key] = value;
  }
  return named;
}

/** Merges `quotas` into the project's spec (keys left out keep their values). */
export function writeProjectQuotas(caller: Caller, store: FacadeStore, project: Project, quotas: ProjectQuotas): Promise<Project> {
  return store.write(projectKind, () =>
    caller.kube.patch<Project>(projectKind, project.metadata.name ?? "", undefined, { spec: { quotas } }, "merge", { fieldManager: FACADE_MANAGER }),
  );
}
