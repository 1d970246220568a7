// Resource quantities (k8s.io/apimachinery/pkg/api/resource): "1Mi", "500M",
// "1.5Gi", "2e3". The API server stores them in canonical form, so a claim
// asking for "1024Mi" shows "1Gi", and printers show that form too.

const BINARY: Record<string, number> = { '': 0, Ki: 1, Mi: 2, Gi: 3, Ti: 4, Pi: 5, Ei: 6 };
const DECIMAL: Record<string, number> = { n: -9, u: -6, m: -3, '': 0, k: 3, M: 6, G: 9, T: 12, P: 15, E: 18 };
const DECIMAL_SUFFIX = new Map(Object.entries(DECIMAL).map(([suffix, exponent]) => [exponent, suffix]));
const BINARY_SUFFIX = ['', 'Ki', 'Mi', 'Gi', 'Ti', 'Pi', 'Ei'];

/** The grammar of resource.ParseQuantity: a signed decimal number and an optional suffix. */
const QUANTITY = /^([+-]?)(\d+\.?\d*|\.\d+)(Ki|Mi|Gi|Ti|Pi|Ei|[numkMGTPE]|[eE][+-]?\d+)?$/;

export interface Quantity {
  /** The value in nano-units (10^-9), rounded up as Kubernetes rounds to its smallest scale. */
  nanos: bigint;
  format: 'BinarySI' | 'DecimalSI' | 'DecimalExponent';
}

export function parseQuantity(text: string): Quantity | undefined {
  const match = QUANTITY.exec(text);
  if (!match) return undefined;
  const [, sign, number, suffix = ''] = match;
  const [whole = '', fraction = ''] = number!.split('.');
  const digits = BigInt(`${whole}${fraction}` || '0');
  const scale = 10n ** BigInt(fraction.length);
  let numerator: bigint;
  let format: Quantity['format'];
  if (suffix in BINARY) {
    numerator = digits * 1024n ** BigInt(BINARY[suffix]!) * 10n ** 9n;
    format = suffix === '' ? 'DecimalSI' : 'BinarySI';
  } else if (suffix in DECIMAL) {
    const exponent = DECIMAL[suffix]! + 9;
    numerator = digits * 10n ** BigInt(exponent);
    format = 'DecimalSI';
  } else {
    const exponent = Number(suffix.slice(1)) + 9;
    if (Math.abs(exponent) > 400) return undefined;
    numerator = exponent >= 0 ? digits * 10n ** BigInt(exponent) : digits;
    const divisor = exponent >= 0 ? scale : scale * 10n ** BigInt(-exponent);
    const nanos = (numerator + divisor - 1n) / divisor;
    return { nanos: sign === '-' ? -nanos : nanos, format: 'DecimalExponent' };
  }
  const nanos = (numerator + scale - 1n) / scale;
  return { nanos: sign === '-' ? -nanos : nanos, format };
}

/**
 * Quantity.String(): binary quantities in the largest binary suffix that keeps
 * them whole (1024Mi → 1Gi, 1.5Gi → 1536Mi), others in the largest decimal one
 * (1000M → 1G, 0.5 → 500m). Exponent forms keep an exponent that is a multiple of 3.
 */
export function formatQuantity(quantity: Quantity): string {
  const negative = quantity.nanos < 0n;
  const nanos = negative ? -quantity.nanos : quantity.nanos;
  const sign = negative ? '-' : '';
  if (nanos === 0n) return '0';
  const billion = 10n ** 9n;
  if (quantity.format === 'BinarySI' && nanos % billion === 0n) {
    let value = nanos / billion;
    // A binary quantity under 1024 is written as a plain number, as Kubernetes does.
    let power = 0;
    while (power < 6 && value % 1024n === 0n && value >= 1024n) {
      value /= 1024n;
      power++;
    }
    return `${sign}${value}${BINARY_SUFFIX[power]}`;
  }
  let value = nanos;
  let exponent = -9;
  while (exponent < 18 && value % 1000n === 0n) {
    value /= 1000n;
    exponent += 3;
  }
  if (quantity.format === 'DecimalExponent') return exponent === 0 ? `${sign}${value}` : `${sign}${value}e${exponent}`;
  return `${sign}${value}${DECIMAL_SUFFIX.get(exponent)}`;
}

/** The canonical form of a quantity's text, or the text itself when it is not one. */
export function canonicalQuantity(text: string): string {
  const parsed = parseQuantity(text);
  return parsed ? formatQuantity(parsed) : text;
}
