// Proquints (pronounceable quintuplets) with CamCOPS's Luhn mod-16 check character: the
// access keys ("kidil-sovib-...-t") a patient types into a tablet to register it. A key is
// the 128 bits of a UUID, 16 bits per five-letter word.

const CONSONANTS = 'bdfghjklmnprstvz';
const VOWELS = 'aiou';

function codePoint(c: string): number | undefined {
  const consonant = CONSONANTS.indexOf(c);
  if (consonant >= 0) return consonant;
  const vowel = VOWELS.indexOf(c);
  return vowel >= 0 ? vowel : undefined;
}

function luhnRemainder(letters: string, startFactor: 1 | 2): number | undefined {
  let factor = startFactor;
  let sum = 0;
  for (let i = letters.length - 1; i >= 0; i--) {
    const value = codePoint(letters[i]!);
    if (value === undefined) return undefined;
    const product = value * factor;
    sum += Math.floor(product / 16) + (product % 16);
    factor = factor === 2 ? 1 : 2;
  }
  return sum % 16;
}

/** Encodes an unsigned integer of `bits` bits (a multiple of 16) as a proquint with check character. */
export function proquintFromBigInt(value: bigint, bits: number): string {
  if (bits % 16) throw new Error(`bits (${bits}) must be a multiple of 16`);
  const words: string[] = [];
  let rest = value;
  for (let w = 0; w < bits / 16; w++) {
    let word16 = Number(rest & 0xffffn);
    rest >>= 16n;
    let word = '';
    for (let i = 0; i < 5; i++) {
      if (i & 1) {
        word = VOWELS[word16 & 0x3] + word;
        word16 >>= 2;
      } else {
        word = CONSONANTS[word16 & 0xf] + word;
        word16 >>= 4;
      }
    }
    words.unshift(word);
  }
  const check = (16 - luhnRemainder(words.join(''), 2)!) % 16;
  return [...words, CONSONANTS[check]].join('-');
}

/** The proquint of a UUID (its 128 bits). */
export function proquintFromUuid(uuid: string): string {
  return proquintFromBigInt(BigInt(`0x${uuid.replace(/-/g, '')}`), 128);
}

/** Decodes a proquint; undefined when malformed or its check character does not match. */
export function bigIntFromProquint(proquint: string): bigint | undefined {
  const words = proquint.trim().toLowerCase().split('-');
  if (words.length < 2 || words.at(-1)!.length !== 1) return undefined;
  if (luhnRemainder(words.join(''), 1) !== 0) return undefined;
  let value = 0n;
  for (const word of words.slice(0, -1)) {
    if (word.length !== 5) return undefined;
    for (let i = 0; i < 5; i++) {
      const c = word[i]!;
      const index = i & 1 ? VOWELS.indexOf(c) : CONSONANTS.indexOf(c);
      if (index < 0) return undefined;
      value = (value << BigInt(i & 1 ? 2 : 4)) + BigInt(index);
    }
  }
  return value;
}

/** The UUID of a 128-bit access key, or undefined. */
export function uuidFromProquint(proquint: string): string | undefined {
  const words = proquint.trim().split('-');
  if (words.length !== 9) return undefined;
  const value = bigIntFromProquint(proquint);
  if (value === undefined) return undefined;
  const hex = value.toString(16).padStart(32, '0');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
