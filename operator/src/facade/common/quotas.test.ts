import { describe, expect, it } from "vitest";
import { namedQuotas } from "./quotas.js";

describe("namedQuotas", () => {
  it("keeps the quotas an update names, -1 (unlimited) and 0 included, and leaves out null and absent ones", () => {
    expect(namedQuotas({ instances: 5, cores: null, ram: undefined })).toEqual({ instances: 5 });
    expect(namedQuotas({ networks: -1, ports: 0 })).toEqual({ networks: -1, ports: 0 });
    expect(namedQuotas({})).toEqual({});
  });
});
