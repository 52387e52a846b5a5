// Path matching for a service's route table: `{param}` segments, literal segments win over params (so
// `/servers/detail` is not `/servers/{id}`), 405 when the path exists for other methods only.
import { badRequest } from "./errors.js";
import type { HttpMethod, Route } from "./http.js";

type Segment = { literal: string } | { param: string };

interface CompiledRoute {
  route: Route;
  segments: readonly Segment[];
  /** Literal segments count more: the most specific route wins. */
  specificity: number;
}

export type RouteMatch =
  | { kind: "found"; route: Route; params: Record<string, string> }
  | { kind: "method-not-allowed"; allowed: HttpMethod[] }
  | { kind: "not-found" };

export function splitPath(path: string): string[] {
  return path.split("/").filter((s) => s !== "");
}

export class Router {
  private readonly compiled: CompiledRoute[];

  constructor(routes: readonly Route[]) {
    this.compiled = routes.map((route) => {
      const segments = splitPath(route.path).map((s): Segment =>
        s.startsWith("{") && s.endsWith("}") ? { param: s.slice(1, -1) } : { literal: s },
      );
      return { route, segments, specificity: segments.filter((s) => "literal" in s).length };
    });
    this.compiled.sort((a, b) => b.specificity - a.specificity);
  }

  match(method: HttpMethod, path: string): RouteMatch {
    let segments: string[];
    try {
      segments = splitPath(path).map(decodeURIComponent);
    } catch {
      throw badRequest(`malformed URL path ${path}`);
    }
    const candidates: { route: Route; params: Record<string, string> }[] = [];
    for (const c of this.compiled) {
      const params = matchSegments(c.segments, segments);
      if (params !== undefined) candidates.push({ route: c.route, params });
    }
    if (candidates.length === 0) return { kind: "not-found" };
    // The most specific path first (candidates keep the specificity order); then the method.
    const best = candidates.filter((c) => sameShape(c.route, candidates[0]?.route));
    const exact = best.find((c) => c.route.method === method) ?? (method === "HEAD" ? best.find((c) => c.route.method === "GET") : undefined);
    if (exact !== undefined) return { kind: "found", route: exact.route, params: exact.params };
    const anyMethod = candidates.find((c) => c.route.method === method);
    if (anyMethod !== undefined) return { kind: "found", route: anyMethod.route, params: anyMethod.params };
    return { kind: "method-not-allowed", allowed: [...new Set(candidates.map((c) => c.route.method))] };
  }
}

function sameShape(a: Route, b: Route | undefined): boolean {
  return b !== undefined && a.path === b.path;
}

function matchSegments(
  pattern: readonly Segment[],
  actual: readonly string[],
): Record<string, string> | undefined {
  if (pattern.length !== actual.length) return undefined;
  const params: Record<string, string> = {};
  for (let i = 0; i < pattern.length; i++) {
    const p = pattern[i];
    const a = actual[i];
    if (p === undefined || a === undefined) return undefined;
    if ("literal" in p) {
      if (p.literal !== a) return undefined;
    } else {
      if (a === "") return undefined;
      params[p.param] = a;
    }
  }
  return params;
}
