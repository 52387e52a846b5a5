// Kubernetes resource quantities ("10Gi", "1G", "500m", "1e3") as numbers and back. Sizes here stay
// far below 2^53 bytes, so plain numbers are exact.

const BINARY: Record<string, number> = { Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50, Ei: 2 ** 60 };
const DECIMAL: Record<string, number> = { n: 1e-9, u: 1e-6, m: 1e-3, "": 1, k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, E: 1e18 };
const QUANTITY = /^([+-]?(?:\d+\.?\d*|\.\d+))(?:(Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E)|[eE]([+-]?\d+))?$/;

/** The quantity's value in base units, or undefined when the text is not a quantity. */
export function parseQuantity(text: string | number | undefined): number | undefined {
  if (typeof text === "number") return text;
  if (text === undefined) return undefined;
  const match = QUANTITY.exec(text.trim());
  if (match === null) return undefined;
  const [, number, suffix, exponent] = match;
  const value = Number(number);
  if (exponent !== undefined) return value * 10 ** Number(exponent);
  if (suffix === undefined) return value;
  return value * (BINARY[suffix] ?? DECIMAL[suffix] ?? 1);
}

/** Bytes in the canonical form Kubernetes prints for a BinarySI quantity: "10Gi", "1536Mi", "1000". */
export function formatBinaryQuantity(bytes: number): string {
  const whole = Math.ceil(bytes);
  if (whole === 0) return "0";
  for (const suffix of ["Ei", "Pi", "Ti", "Gi", "Mi", "Ki"]) {
    const unit = BINARY[suffix] ?? 1;
    if (whole % unit === 0) return `${whole / unit}${suffix}`;
  }
  return String(whole);
}

/** Whether `a` is strictly larger than `b`; unparseable quantities are never larger. */
export function quantityGreater(a: string | undefined, b: string | undefined): boolean {
  const left = parseQuantity(a);
  const right = parseQuantity(b);
  return left !== undefined && (right === undefined || left > right);
}
