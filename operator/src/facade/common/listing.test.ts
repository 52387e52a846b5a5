import { describe, expect, it } from "vitest";
import { ApiError, notFound } from "./errors.js";
import { filterItems, matchesNamePattern, nextHref, paginate, parsePage, parseSort, selectFields, sortItems } from "./listing.js";

const items = ["a", "b", "c", "d", "e"].map((id, i) => ({ id, name: `n${5 - i}`, size: i * 10, shared: i % 2 === 0, tags: i === 0 ? ["x"] : [] }));

describe("pagination", () => {
  it("pages after the marker, up to the limit, saying whether to link a next page", () => {
    expect(paginate(items, { limit: 2, marker: undefined })).toEqual({ items: items.slice(0, 2), nextMarker: "b" });
    expect(paginate(items, { limit: 2, marker: "b" })).toEqual({ items: items.slice(2, 4), nextMarker: "d" });
    expect(paginate(items, { limit: 2, marker: "d" })).toEqual({ items: items.slice(4), nextMarker: undefined });
    expect(paginate(items, { limit: undefined, marker: "c" }).items.map((i) => i.id)).toEqual(["d", "e"]);
  });

  it("links a full last page for Nova, Cinder and Glance, but not for Neutron", () => {
    expect(paginate(items, { limit: 5, marker: undefined }).nextMarker).toBeUndefined();
    expect(paginate(items, { limit: 5, marker: undefined }, undefined, { linkWhenFull: true }).nextMarker).toBe("e");
    expect(paginate(items, { limit: 5, marker: "a" }, undefined, { linkWhenFull: true }).nextMarker).toBeUndefined();
  });

  it("an unknown marker is the service's error", () => {
    expect(() => paginate(items, { limit: 1, marker: "zz" })).toThrow("marker [zz] not found");
    expect(() => paginate(items, { limit: 1, marker: "zz" }, (m) => notFound(`Marker ${m} could not be found.`))).toThrow(ApiError);
  });

  it("parses limit strictly", () => {
    expect(parsePage(new URLSearchParams("limit=3&marker=b"))).toEqual({ limit: 3, marker: "b" });
    expect(parsePage(new URLSearchParams("limit=99999"), 1000).limit).toBe(1000);
    for (const bad of ["limit=-1", "limit=abc", "limit=1.5"]) expect(() => parsePage(new URLSearchParams(bad)), bad).toThrow(ApiError);
  });

  it("builds the next link with the query kept and the marker replaced", () => {
    expect(nextHref("http://h/network/v2.0/networks", new URLSearchParams("limit=2&marker=a&name=x"), "c")).toBe("http://h/network/v2.0/networks?limit=2&marker=c&name=x");
  });
});

describe("sorting, filtering and fields", () => {
  it("sorts by keys and directions, ties broken by id", () => {
    const byName = sortItems(items, parseSort(new URLSearchParams("sort_key=name&sort_dir=asc"), ["name", "size"], []));
    expect(byName.map((i) => i.name)).toEqual(["n1", "n2", "n3", "n4", "n5"]);
    const glance = sortItems(items, parseSort(new URLSearchParams("sort=size:desc"), ["name", "size"], []));
    expect(glance.map((i) => i.size)).toEqual([40, 30, 20, 10, 0]);
    expect(parseSort(new URLSearchParams(""), ["name"], [{ key: "created_at", dir: "desc" }])).toEqual([{ key: "created_at", dir: "desc" }]);
    expect(() => parseSort(new URLSearchParams("sort_key=secret"), ["name"], [])).toThrow("Invalid sort key");
    expect(() => parseSort(new URLSearchParams("sort_key=name&sort_dir=up"), ["name"], [])).toThrow("Invalid sort direction");
  });

  it("filters on attributes: booleans any case, several values as alternatives, lists by membership", () => {
    expect(filterItems(items, new URLSearchParams("shared=True"), ["shared"]).map((i) => i.id)).toEqual(["a", "c", "e"]);
    expect(filterItems(items, new URLSearchParams("name=n1&name=n2"), ["name"]).map((i) => i.id)).toEqual(["d", "e"]);
    expect(filterItems(items, new URLSearchParams("size=20"), ["size"]).map((i) => i.id)).toEqual(["c"]);
    expect(filterItems(items, new URLSearchParams("tags=x"), ["tags"]).map((i) => i.id)).toEqual(["a"]);
    expect(filterItems(items, new URLSearchParams("other=1"), ["name"])).toHaveLength(5);
  });

  it("matches Nova's name filter: substring, optionally anchored", () => {
    expect(matchesNamePattern("web-1", "web")).toBe(true);
    expect(matchesNamePattern("my-web", "^web")).toBe(false);
    expect(matchesNamePattern("web", "^web$")).toBe(true);
    expect(matchesNamePattern("web-1", "^web$")).toBe(false);
    expect(matchesNamePattern("a.b", "a\\.b")).toBe(true);
  });

  it("selects fields", () => {
    expect(selectFields({ id: "1", name: "x", size: 2 }, ["id", "name", "missing"])).toEqual({ id: "1", name: "x" });
    expect(selectFields({ id: "1" }, [])).toEqual({ id: "1" });
  });
});
