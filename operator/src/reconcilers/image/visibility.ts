// Pure: Glance's visibility rules — who may boot from an image — and how `imageRef` names an image.
import { projectNamespace, projectOfNamespace, type Image } from "../../api/index.js";
import type { RbacSubject } from "./desired.js";

/** Where an imageRef points: `name` in the server's own project, `project/name` in another one. */
export function resolveImageRef(ref: string, consumerNamespace: string): { namespace: string; name: string } {
  const slash = ref.indexOf("/");
  if (slash < 0) return { namespace: consumerNamespace, name: ref };
  return { namespace: projectNamespace(ref.slice(0, slash)), name: ref.slice(slash + 1) };
}

/** Glance's default visibility for an image that does not say (private unless members are added). */
export function visibilityOf(image: Image): "public" | "private" | "shared" | "community" {
  return image.spec.visibility ?? "shared";
}

/** Projects an image is shared with (Glance members; a rejected membership still grants nothing here). */
export function memberProjects(image: Image): string[] {
  if (visibilityOf(image) !== "shared") return [];
  return (image.spec.members ?? []).filter((m) => m.status !== "rejected").map((m) => m.project);
}

/**
 * Whether a server in `consumerNamespace` may boot from the image: its own project always; public and
 * community images from anywhere; shared images from member projects; private ones from nowhere else.
 */
export function imageUsableFrom(image: Image, consumerNamespace: string): boolean {
  if (image.metadata.namespace === consumerNamespace) return true;
  const visibility = visibilityOf(image);
  if (visibility === "public" || visibility === "community") return true;
  const consumer = projectOfNamespace(consumerNamespace);
  return consumer !== undefined && memberProjects(image).includes(consumer);
}

/**
 * Who may clone the image's volume into their namespace (CDI checks `create` on `datavolumes/source` in the
 * image's namespace for the `default` ServiceAccount of the namespace the clone goes to). Undefined: nobody
 * outside the image's project.
 */
export function cloneSubjects(image: Image): RbacSubject[] | undefined {
  const visibility = visibilityOf(image);
  if (visibility === "public" || visibility === "community") {
    return [{ kind: "Group", apiGroup: "rbac.authorization.k8s.io", name: "system:serviceaccounts" }];
  }
  const members = memberProjects(image);
  if (members.length === 0) return undefined;
  return members.map((project) => ({ kind: "ServiceAccount", name: "default", namespace: projectNamespace(project) }));
}
