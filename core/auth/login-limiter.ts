// Limits failed sign-ins per client address and per user name with token buckets: each key
// may fail `burst` times at once and regains one attempt every `window / burst` seconds. An
// attempt takes a token before any password is hashed (so a refusal costs nothing) and gets it
// back when the password was right, so only failures count. The buckets live in this process:
// with several HTTP nodes an attacker gets each node's allowance, which the bounded hashing
// queue still caps. Both maps are bounded; the entries touched longest ago go first.
// An address where a name signed in successfully is that name's known address until it fails
// for the name: the per-name limit (and the account lock, see PasswordLogin) does not apply
// there, so strangers guessing a name from elsewhere cannot lock its owner out.

/** Limits from `[auth]`. */
export interface LoginLimits {
  /** Failed sign-ins one client address may make at once (0: no limit). */
  perAddress: number;
  /** Failed sign-ins for one user name, from any address, at once (0: no limit). */
  perName: number;
  /** Seconds in which a full allowance comes back. */
  windowSeconds: number;
  /** Keys remembered per map. */
  maxEntries?: number;
}

interface Bucket {
  tokens: number;
  at: number;
}

/** A taken attempt: give it back when the password was right. */
export interface LoginAttempt {
  refund(): void;
}

/** The outcome of asking for an attempt. */
export type LoginPermit = { ok: true; attempt: LoginAttempt } | { ok: false; retryAfterSeconds: number; limitedBy: 'address' | 'name' };

class Buckets {
  private readonly map = new Map<string, Bucket>();
  constructor(
    private readonly capacity: number,
    private readonly refillPerMs: number,
    private readonly maxEntries: number,
  ) {}

  /** The bucket of `key` refilled to `now` (not stored). */
  peek(key: string, now: number): Bucket {
    const bucket = this.map.get(key);
    if (!bucket) return { tokens: this.capacity, at: now };
    return { tokens: Math.min(this.capacity, bucket.tokens + (now - bucket.at) * this.refillPerMs), at: now };
  }

  /** Milliseconds until `bucket` holds one whole token. */
  waitMs(bucket: Bucket): number {
    return Math.ceil((1 - bucket.tokens) / this.refillPerMs);
  }

  store(key: string, bucket: Bucket): void {
    this.map.delete(key);
    if (bucket.tokens >= this.capacity) return; // a full bucket is what a missing one means
    this.map.set(key, bucket);
    while (this.map.size > this.maxEntries) this.map.delete(this.map.keys().next().value!);
  }

  add(key: string, tokens: number, now: number): void {
    const bucket = this.peek(key, now);
    this.store(key, { tokens: Math.min(this.capacity, bucket.tokens + tokens), at: now });
  }
}

/** Per-address and per-name limits on failed sign-ins. */
export class LoginLimiter {
  private readonly byAddress: Buckets | undefined;
  private readonly byName: Buckets | undefined;
  /** `name\naddress` keys of known addresses, oldest first. */
  private readonly known = new Map<string, true>();
  private readonly maxEntries: number;

  constructor(
    limits: LoginLimits,
    private readonly now: () => number = Date.now,
  ) {
    const max = limits.maxEntries ?? 100_000;
    this.maxEntries = max;
    const windowMs = limits.windowSeconds * 1000;
    this.byAddress = limits.perAddress > 0 ? new Buckets(limits.perAddress, limits.perAddress / windowMs, max) : undefined;
    this.byName = limits.perName > 0 ? new Buckets(limits.perName, limits.perName / windowMs, max) : undefined;
  }

  /** True when `name` signed in from `address` and has not failed there since. */
  isKnownAddress(address: string, name: string): boolean {
    return this.known.has(knownKey(address, name));
  }

  /** Remembers `address` as a known address of `name` (after a successful sign-in). */
  rememberSuccess(address: string, name: string): void {
    const key = knownKey(address, name);
    this.known.delete(key);
    this.known.set(key, true);
    while (this.known.size > this.maxEntries) this.known.delete(this.known.keys().next().value!);
  }

  /** Forgets `address` as a known address of `name` (after a failed sign-in from there). */
  forgetAddress(address: string, name: string): void {
    this.known.delete(knownKey(address, name));
  }

  /**
   * Takes an attempt for this address and name, or says how long to wait. The per-name limit
   * does not apply to a known address of the name.
   */
  take(address: string, name: string): LoginPermit {
    const now = this.now();
    const addressKey = addressBucketKey(address);
    const nameKey = nameBucketKey(name);
    const a = this.byAddress?.peek(addressKey, now);
    const n = this.isKnownAddress(address, name) ? undefined : this.byName?.peek(nameKey, now);
    if (a && a.tokens < 1) return { ok: false, retryAfterSeconds: Math.max(1, Math.ceil(this.byAddress!.waitMs(a) / 1000)), limitedBy: 'address' };
    if (n && n.tokens < 1) return { ok: false, retryAfterSeconds: Math.max(1, Math.ceil(this.byName!.waitMs(n) / 1000)), limitedBy: 'name' };
    if (a) this.byAddress!.store(addressKey, { tokens: a.tokens - 1, at: now });
    if (n) this.byName!.store(nameKey, { tokens: n.tokens - 1, at: now });
    let refunded = false;
    return {
      ok: true,
      attempt: {
        refund: () => {
          if (refunded) return;
          refunded = true;
          const at = this.now();
          this.byAddress?.add(addressKey, 1, at);
          if (n) this.byName?.add(nameKey, 1, at);
        },
      },
    };
  }
}

function nameBucketKey(name: string): string {
  return name.normalize('NFKC').toLowerCase();
}

function knownKey(address: string, name: string): string {
  return `${nameBucketKey(name)}\n${address}`;
}

/**
 * The key an address is counted under: IPv6 clients usually hold a whole /64, so they are
 * counted per /64; IPv4 (also IPv4-mapped IPv6) per address.
 */
export function addressBucketKey(address: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped) return mapped[1]!;
  if (!address.includes(':')) return address;
  const [head = '', tail = ''] = address.toLowerCase().split('::');
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  const groups = address.includes('::') ? [...left, ...Array<string>(Math.max(0, 8 - left.length - right.length)).fill('0'), ...right] : left;
  return `${groups.slice(0, 4).map((g) => g.replace(/^0+(?=.)/, '')).join(':')}::/64`;
}
