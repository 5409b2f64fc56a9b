// A small semver range check for plugins' `coreVersion`: `*`, `1.2.3`, `^1.2.3`, `~1.2.3`,
// and comparisons (`>=1.2.0 <2.0.0`, space-separated, all must hold; `||` between alternatives).

type Triple = [number, number, number];

function parse(version: string): Triple | undefined {
  const match = /^v?(\d+)(?:\.(\d+))?(?:\.(\d+))?/.exec(version.trim());
  if (!match) return undefined;
  return [Number(match[1]), Number(match[2] ?? 0), Number(match[3] ?? 0)];
}

function compare(a: Triple, b: Triple): number {
  return a[0] - b[0] || a[1] - b[1] || a[2] - b[2];
}

function satisfiesOne(version: Triple, comparator: string): boolean {
  if (comparator === '*' || comparator === '') return true;
  const op = /^(\^|~|>=|<=|>|<|=)?(.*)$/.exec(comparator)!;
  const target = parse(op[2]!);
  if (!target) return false;
  const c = compare(version, target);
  switch (op[1]) {
    case '^':
      return c >= 0 && (target[0] > 0 ? version[0] === target[0] : target[1] > 0 ? version[0] === 0 && version[1] === target[1] : compare(version, target) === 0);
    case '~':
      return c >= 0 && version[0] === target[0] && version[1] === target[1];
    case '>=':
      return c >= 0;
    case '<=':
      return c <= 0;
    case '>':
      return c > 0;
    case '<':
      return c < 0;
    default:
      return c === 0;
  }
}

/** True when `version` satisfies `range`. */
export function satisfiesRange(version: string, range: string): boolean {
  const v = parse(version);
  if (!v) return false;
  return range.split('||').some((alternative) => alternative.trim().split(/\s+/).every((comparator) => satisfiesOne(v, comparator)));
}
