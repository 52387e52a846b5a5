// OpenStack names are free text and may repeat; Kubernetes names are DNS labels and unique. An object created
// through the facade keeps its OpenStack name as metadata.name when it can (readable for kubectl users), and
// otherwise gets a slug of it plus a random suffix, with the real name in spec.name.
import { randomBytes } from "node:crypto";

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const SUFFIX_ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789";

export function isDnsLabel(name: string, maxLength = 63): boolean {
  return name.length <= maxLength && DNS_LABEL.test(name);
}

export function isDnsSubdomain(name: string, maxLength = 253): boolean {
  return name.length <= maxLength && DNS_SUBDOMAIN.test(name);
}

/** `web server #1` → `web-server-1`; empty when nothing usable is left. */
export function slugOf(name: string, maxLength: number): string {
  return name
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, "-")
    .replace(/-+/g, "-")
    .slice(0, maxLength)
    .replace(/^-+|-+$/g, "");
}

export function randomSuffix(length = 5, random: (n: number) => Buffer = randomBytes): string {
  return [...random(length)].map((b) => SUFFIX_ALPHABET[b % SUFFIX_ALPHABET.length]).join("");
}

export interface NameChoice {
  /** metadata.name to create with. */
  objectName: string;
  /** spec.name to set: only when metadata.name is not the OpenStack name itself. */
  specName: string | undefined;
}

/** The spec fields a choice implies: `{ name }` when the OpenStack name is not the object's own name, else none. */
export function specNameOf(choice: NameChoice): { name?: string } {
  return choice.specName === undefined ? {} : { name: choice.specName };
}

/**
 * The metadata.name for an object whose OpenStack name is `name`: the name itself when it is a DNS label of at
 * most `maxLength` characters and `taken` says it is free, else `<slug>-<random>` (or `<fallback>-<random>`).
 */
export function chooseObjectName(
  name: string,
  opts: {
    fallback: string;
    maxLength?: number | undefined;
    /** Allow dots (cluster-scoped kinds such as Flavor, e.g. `m1.tiny`). */
    subdomain?: boolean;
    taken?: (candidate: string) => boolean;
    random?: (n: number) => Buffer;
  },
): NameChoice {
  const maxLength = opts.maxLength ?? 63;
  const valid = opts.subdomain === true ? isDnsSubdomain(name, maxLength) : isDnsLabel(name, maxLength);
  if (valid && opts.taken?.(name) !== true) return { objectName: name, specName: undefined };
  const slug = slugOf(name, maxLength - 6);
  const base = slug === "" ? opts.fallback : slug;
  return { objectName: `${base}-${randomSuffix(5, opts.random)}`, specName: name };
}
