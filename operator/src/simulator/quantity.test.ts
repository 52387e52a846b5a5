import { describe, expect, it } from "vitest";
import { formatBinaryQuantity, parseQuantity, quantityGreater } from "./quantity.js";

describe("quantities", () => {
  it.each<[string, number | undefined]>([
    ["10Gi", 10 * 2 ** 30],
    ["1.5Gi", 1.5 * 2 ** 30],
    ["1G", 1e9],
    ["500m", 0.5],
    ["1e3", 1000],
    ["2048", 2048],
    ["10 Gi", undefined],
    ["ten", undefined],
  ])("parses %s", (text, value) => {
    expect(parseQuantity(text)).toBe(value);
  });

  it.each<[number, string]>([
    [10 * 2 ** 30, "10Gi"],
    [1536 * 2 ** 20, "1536Mi"],
    [1000, "1000"],
    [0, "0"],
  ])("formats %d bytes as %s", (bytes, text) => {
    expect(formatBinaryQuantity(bytes)).toBe(text);
  });

  it("compares across units", () => {
    expect(quantityGreater("2Gi", "2000Mi")).toBe(true);
    expect(quantityGreater("1024Mi", "1Gi")).toBe(false);
    expect(quantityGreater("1Gi", undefined)).toBe(true);
    expect(quantityGreater("junk", "1Gi")).toBe(false);
  });
});
