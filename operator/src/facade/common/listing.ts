// List semantics shared by the services: limit/marker pagination, sorting, attribute filters, Neutron's
// `fields`. They work on the OpenStack JSON a mapper produced, so every service filters and sorts on the names
// its clients use.
import { ApiError, badRequest } from "./errors.js";

export type JsonObject = Record<string, unknown>;

export interface PageRequest {
  limit: number | undefined;
  marker: string | undefined;
}

/** `limit` and `marker` from a query; a limit that is not a non-negative integer is a 400. */
export function parsePage(query: URLSearchParams, maxLimit = 1000): PageRequest {
  const rawLimit = query.get("limit");
  let limit: number | undefined;
  if (rawLimit !== null) {
    if (!/^\d+$/.test(rawLimit.trim())) {
      throw badRequest(`limit param must be an integer, got ${JSON.stringify(rawLimit)}`);
    }
    limit = Math.min(Number(rawLimit), maxLimit);
  }
  const marker = query.get("marker") ?? undefined;
  return { limit, marker: marker === "" ? undefined : marker };
}

export interface Page<T> {
  items: T[];
  /** The id to pass as the next marker, when there may be more. */
  nextMarker: string | undefined;
}

/**
 * The page after `marker` (exclusive) of at most `limit` items. An unknown marker is an error built by
 * `markerNotFound` (Nova and Glance say 400, Neutron 404). Nova, Cinder and Glance link to a next page whenever
 * a page is full (`linkWhenFull`), Neutron only when more items follow.
 */
export function paginate<T extends { id: string }>(
  items: readonly T[],
  page: PageRequest,
  markerNotFound: (marker: string) => ApiError = (m) => badRequest(`marker [${m}] not found`),
  opts: { linkWhenFull?: boolean } = {},
): Page<T> {
  let start = 0;
  if (page.marker !== undefined) {
    const at = items.findIndex((item) => item.id === page.marker);
    if (at < 0) throw markerNotFound(page.marker);
    start = at + 1;
  }
  if (page.limit === undefined) return { items: items.slice(start), nextMarker: undefined };
  const slice = items.slice(start, start + page.limit);
  const more = opts.linkWhenFull === true ? slice.length === page.limit : start + page.limit < items.length;
  return { items: slice, nextMarker: more && slice.length > 0 ? slice[slice.length - 1]?.id : undefined };
}

/** `href` with the query's marker replaced: the `next` link of a page. */
export function nextHref(href: string, query: URLSearchParams, marker: string): string {
  const next = new URLSearchParams(query);
  next.set("marker", marker);
  return `${href}?${next.toString()}`;
}

export type SortDirection = "asc" | "desc";
export interface SortKey {
  key: string;
  dir: SortDirection;
}

/** `sort_key`/`sort_dir` pairs (Nova, Neutron, Cinder style) or Glance's `sort=key:dir,…`. */
export function parseSort(query: URLSearchParams, allowed: readonly string[], fallback: readonly SortKey[]): SortKey[] {
  const keys: SortKey[] = [];
  const sort = query.get("sort");
  if (sort !== null && sort !== "") {
    for (const part of sort.split(",")) {
      const [key = "", dir = "desc"] = part.split(":").map((s) => s.trim());
      keys.push({ key, dir: parseDirection(dir) });
    }
  } else {
    const sortKeys = query.getAll("sort_key");
    const sortDirs = query.getAll("sort_dir");
    sortKeys.forEach((key, i) => {
      keys.push({ key, dir: parseDirection(sortDirs[i] ?? sortDirs[0] ?? "desc") });
    });
  }
  for (const { key } of keys) {
    if (!allowed.includes(key)) throw badRequest(`Invalid sort key: ${key}. Sortable keys: ${allowed.join(", ")}`);
  }
  return keys.length > 0 ? keys : [...fallback];
}

function parseDirection(dir: string): SortDirection {
  const lower = dir.toLowerCase();
  if (lower !== "asc" && lower !== "desc") throw badRequest(`Invalid sort direction: ${dir}. It must be asc or desc`);
  return lower;
}

/** A JSON value as text for comparisons: strings as they are, anything else as its JSON. */
const asText = (value: unknown): string => (typeof value === "string" ? value : JSON.stringify(value));

function compareValues(a: unknown, b: unknown): number {
  if (a === b) return 0;
  if (a === undefined || a === null) return -1;
  if (b === undefined || b === null) return 1;
  if (typeof a === "number" && typeof b === "number") return a - b;
  return asText(a).localeCompare(asText(b));
}

/** Stable sort by the keys in order; ties end with `id` so pages never overlap. */
export function sortItems<T extends JsonObject>(items: readonly T[], keys: readonly SortKey[]): T[] {
  const all = [...keys, { key: "id", dir: keys[keys.length - 1]?.dir ?? "asc" }];
  return [...items].sort((a, b) => {
    for (const { key, dir } of all) {
      const c = compareValues(a[key], b[key]);
      if (c !== 0) return dir === "asc" ? c : -c;
    }
    return 0;
  });
}

/** A query value as the JSON value it is compared with ("true"/"True" → true, digits → number). */
function sameValue(actual: unknown, wanted: string): boolean {
  if (typeof actual === "boolean") return String(actual) === wanted.toLowerCase();
  if (typeof actual === "number") return String(actual) === wanted;
  if (actual === null || actual === undefined) return wanted === "" || wanted.toLowerCase() === "none";
  if (Array.isArray(actual)) return actual.some((v) => sameValue(v, wanted));
  return asText(actual) === wanted;
}

/**
 * Items whose attributes equal the query's values for each of `keys` present in the query (several values of
 * one key: any of them, as Neutron).
 */
export function filterItems<T extends JsonObject>(items: readonly T[], query: URLSearchParams, keys: readonly string[]): T[] {
  const wanted = keys
    .map((key) => ({ key, values: query.getAll(key) }))
    .filter(({ values }) => values.length > 0);
  if (wanted.length === 0) return [...items];
  return items.filter((item) => wanted.every(({ key, values }) => values.some((v) => sameValue(item[key], v))));
}

/**
 * Nova's `name` filter is a regular expression search. We support its common subset safely (no user-supplied
 * regex engine input): a substring, optionally anchored with ^ and/or $.
 */
export function matchesNamePattern(name: string, pattern: string): boolean {
  const anchoredStart = pattern.startsWith("^");
  const anchoredEnd = pattern.endsWith("$") && !pattern.endsWith("\\$");
  const core = pattern.slice(anchoredStart ? 1 : 0, anchoredEnd ? -1 : undefined).replace(/\\(.)/g, "$1");
  if (anchoredStart && anchoredEnd) return name === core;
  if (anchoredStart) return name.startsWith(core);
  if (anchoredEnd) return name.endsWith(core);
  return name.includes(core);
}

/** Neutron's `fields=a&fields=b`: only those attributes (all when none asked for). */
export function selectFields(item: JsonObject, fields: readonly string[]): JsonObject {
  if (fields.length === 0) return item;
  const out: JsonObject = {};
  for (const field of fields) if (field in item) out[field] = item[field];
  return out;
}
