// Access keys: proquints with CamCOPS's Luhn mod-16 check character, against CamCOPS's own
// test vectors, and round trips of random values.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { bigIntFromProquint, proquintFromBigInt, proquintFromUuid, uuidFromProquint } from '../../../plugins/upload-camcops/proquint.js';

describe('proquint access keys', () => {
  it("matches CamCOPS's test vectors", () => {
    assert.equal(proquintFromBigInt(0x493b05een, 32), 'hohur-bilov-j');
    assert.equal(bigIntFromProquint('hohur-bilov-j'), 0x493b05een);
    assert.equal(proquintFromUuid('6457cb90-1ca0-47a7-9f40-767567819bee'), 'kidil-sovib-dufob-hivol-nutab-linuj-kivad-nozov-t');
    assert.equal(uuidFromProquint('kidil-sovib-dufob-hivol-nutab-linuj-kivad-nozov-t'), '6457cb90-1ca0-47a7-9f40-767567819bee');
  });

  it('refuses a wrong check character, invalid or transposed letters', () => {
    assert.equal(bigIntFromProquint('hohur-dilov-j'), undefined);
    assert.equal(bigIntFromProquint('lusab-rrrrr-s'), undefined);
    assert.equal(bigIntFromProquint('lusab-abadu-b'), undefined);
    assert.equal(uuidFromProquint('hohur-bilov-j'), undefined, 'an access key has 8 words');
  });

  it('round-trips 500 random UUIDs and 16..256-bit integers', () => {
    for (let i = 0; i < 500; i++) {
      const uuid = randomUUID();
      assert.equal(uuidFromProquint(proquintFromUuid(uuid)), uuid);
      const bits = 16 * (1 + (i % 16));
      const value = BigInt(`0x${randomBytes(bits / 8).toString('hex')}`);
      const key = proquintFromBigInt(value, bits);
      assert.equal(key.length, 6 * (bits / 16) + 1);
      assert.equal(bigIntFromProquint(key), value);
    }
  });
});
