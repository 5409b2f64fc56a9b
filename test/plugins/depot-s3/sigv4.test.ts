// SigV4 against AWS's published vectors, not against our own encoder:
// - "get-vanilla" and "get-vanilla-query-order-key-case" from AWS's Signature Version 4 test
//   suite (aws-sig-v4-test-suite/get-vanilla/get-vanilla.authz, .../get-vanilla-query-order-key-case.authz;
//   https://docs.aws.amazon.com/general/latest/gr/signature-v4-test-suite.html): credentials
//   AKIDEXAMPLE / wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY, us-east-1, service "service", 20150830T123600Z;
// - the S3 "GET Object" example of "Examples: Signature Calculations in AWS Signature Version 4"
//   (https://docs.aws.amazon.com/AmazonS3/latest/API/sig-v4-header-based-auth.html);
// - the S3 presigned-URL example of "Authenticating Requests: Using Query Parameters"
//   (https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-query-string-auth.html).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { canonicalQuery, EMPTY_SHA256, presignUrl, signHeaders, uriEncode } from '../../../plugins/depot-s3/sigv4.js';

const suite = { accessKey: 'AKIDEXAMPLE', secretKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY' };
const suiteScope = { region: 'us-east-1', service: 'service' };
const suiteDate = new Date('2015-08-30T12:36:00Z');
const s3Docs = { accessKey: 'AKIAIOSFODNN7EXAMPLE', secretKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY' };
const s3Scope = { region: 'us-east-1', service: 's3' };
const s3Date = new Date('2013-05-24T00:00:00Z');

describe('SigV4 signing (AWS test vectors)', () => {
  it('get-vanilla', () => {
    const headers = signHeaders({ method: 'GET', url: new URL('https://example.amazonaws.com/'), headers: { host: 'example.amazonaws.com' }, payloadHash: EMPTY_SHA256 }, suite, suiteScope, suiteDate);
    assert.equal(headers.authorization, 'AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31');
    assert.equal(headers['x-amz-date'], '20150830T123600Z');
  });

  it('get-vanilla-query-order-key-case: parameters sorted by name', () => {
    const headers = signHeaders({ method: 'GET', url: new URL('https://example.amazonaws.com/?Param2=value2&Param1=value1'), headers: { host: 'example.amazonaws.com' }, payloadHash: EMPTY_SHA256 }, suite, suiteScope, suiteDate);
    assert.match(headers.authorization!, /Signature=b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500$/);
  });

  it('S3 GET Object with a Range header', () => {
    const headers = signHeaders({ method: 'GET', url: new URL('https://examplebucket.s3.amazonaws.com/test.txt'), headers: { host: 'examplebucket.s3.amazonaws.com', range: 'bytes=0-9' }, payloadHash: EMPTY_SHA256 }, s3Docs, s3Scope, s3Date);
    assert.equal(headers.authorization, 'AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41');
  });

  it('S3 presigned GET URL, valid for 86400 seconds', () => {
    const url = presignUrl('GET', new URL('https://examplebucket.s3.amazonaws.com/test.txt'), s3Docs, s3Scope, 86400, s3Date);
    assert.equal(url.searchParams.get('X-Amz-Signature'), 'aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404');
    assert.equal(url.searchParams.get('X-Amz-Credential'), 'AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request');
    assert.throws(() => presignUrl('GET', new URL('https://b.example/k'), s3Docs, s3Scope, 604801, s3Date), RangeError);
  });

  it('encodes as RFC 3986 wants (space as %20, never +)', () => {
    assert.equal(uriEncode('a b/c~*'), 'a%20b%2Fc~%2A');
    assert.equal(uriEncode('a b/c', true), 'a%20b/c');
    assert.equal(canonicalQuery([['b', '2 3'], ['a', 'x/y'], ['a', 'w']]), 'a=w&a=x%2Fy&b=2%203');
  });
});
