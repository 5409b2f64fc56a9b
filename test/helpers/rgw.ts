// The RADOS Gateway the test runner started for suites that need a real S3 server
// (files whose path contains "rgw"): its endpoint and an S3 user's keys, from the environment.
import type { TestContext } from 'node:test';

/** Where the gateway answers and who may use it. */
export interface RgwEndpoint {
  endpoint: string;
  region: string;
  accessKey: string;
  secretKey: string;
}

/** The gateway, or undefined when the runner could not start one (then `rgwSkipReason()` says why). */
export function rgwEndpoint(): RgwEndpoint | undefined {
  const { PLATFORM_TEST_RGW_ENDPOINT: endpoint, PLATFORM_TEST_RGW_ACCESS_KEY: accessKey, PLATFORM_TEST_RGW_SECRET_KEY: secretKey } = process.env;
  if (!endpoint || !accessKey || !secretKey) return undefined;
  return { endpoint, accessKey, secretKey, region: process.env.PLATFORM_TEST_RGW_REGION ?? 'default' };
}

/** Why RGW suites are skipped. */
export function rgwSkipReason(): string {
  return process.env.PLATFORM_TEST_RGW_SKIP ?? 'no RADOS Gateway: run the suite through `npm test -- NAME`, which starts one when Ceph is installed';
}

/** Skips a test when no gateway runs. @returns the gateway, or undefined after skipping. */
export function needRgw(t: TestContext): RgwEndpoint | undefined {
  const rgw = rgwEndpoint();
  if (!rgw) t.skip(rgwSkipReason());
  return rgw;
}
