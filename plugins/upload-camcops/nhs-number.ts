// ID number validation methods: the UK NHS number's modulus-11 check digit.

/** Validation methods an ID number definition may name ('' for none). */
export const VALIDATION_METHODS = ['', 'uk_nhs_number'] as const;
export type ValidationMethod = (typeof VALIDATION_METHODS)[number];

/** True for a 10-digit NHS number whose check digit is right. */
export function isValidNhsNumber(value: number): boolean {
  if (!Number.isSafeInteger(value) || value < 0) return false;
  const digits = String(value).padStart(10, '0');
  if (digits.length !== 10) return false;
  let sum = 0;
  for (let i = 0; i < 9; i++) sum += Number(digits[i]) * (10 - i);
  const check = 11 - (sum % 11);
  if (check === 10) return false;
  return (check === 11 ? 0 : check) === Number(digits[9]);
}

/** Why a value fails a method, or undefined when it passes (never repeats the value). */
export function whyIdNumberInvalid(method: string, value: number): string | undefined {
  if (!Number.isSafeInteger(value) || value < 0) return 'an ID number must be a non-negative integer';
  if (method === 'uk_nhs_number' && !isValidNhsNumber(value)) return 'it is not a valid NHS number (10 digits with a correct check digit)';
  return undefined;
}
