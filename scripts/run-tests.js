#!/usr/bin/env node
// Runs every compiled test file under dist/test with node's test runner. Says plainly
// whether the PostgreSQL suites will run: they need PLATFORM_TEST_PG_URL (default
// postgresql://postgres@127.0.0.1:5432/test); when it cannot be reached they are skipped,
// unless PLATFORM_TEST_REQUIRE_PG=1 (as in CI), which makes that a failure.
// Extra arguments are test-file filters: `npm test -- datasets` runs files whose path contains "datasets".
// When the selected files include suites that need a real S3 server (a path containing "rgw"),
// it starts one throwaway one-node Ceph cluster with the RADOS Gateway for all of them and
// passes its endpoint and keys on; without Ceph those suites skip, unless
// PLATFORM_TEST_REQUIRE_RGW=1, which makes that a failure.
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import pg from 'pg';

const root = new URL('..', import.meta.url).pathname;
const testDir = join(root, 'dist', 'test');
const pgUrl = process.env.PLATFORM_TEST_PG_URL ?? 'postgresql://postgres@127.0.0.1:5432/test';

async function postgresReachable() {
  const client = new pg.Client({ connectionString: pgUrl, connectionTimeoutMillis: 3000 });
  try {
    await client.connect();
    await client.query('SELECT 1');
    return true;
  } catch (error) {
    return error.message;
  } finally {
    await client.end().catch(() => undefined);
  }
}

const reachable = await postgresReachable();
const env = { ...process.env };
if (reachable === true) {
  env.PLATFORM_TEST_PG_URL = pgUrl;
  console.log(`PostgreSQL suites: running against ${new URL(pgUrl).host}${new URL(pgUrl).pathname}`);
} else if (process.env.PLATFORM_TEST_REQUIRE_PG === '1') {
  console.error(`PostgreSQL is required (PLATFORM_TEST_REQUIRE_PG=1) but ${new URL(pgUrl).host} cannot be reached: ${reachable}`);
  process.exit(1);
} else {
  delete env.PLATFORM_TEST_PG_URL;
  env.PLATFORM_TEST_PG_SKIP = '1';
  console.log(`PostgreSQL suites: SKIPPED, ${new URL(pgUrl).host} cannot be reached (${reachable}); SQLite suites run.`);
}

const filters = process.argv.slice(2);
const files = readdirSync(testDir, { recursive: true })
  .map(String)
  .filter((file) => file.endsWith('.test.js'))
  .filter((file) => filters.length === 0 || filters.some((f) => file.includes(f)))
  .sort()
  .map((file) => join(testDir, file));
if (files.length === 0) {
  console.error('no test files found under dist/test (did the build run?)');
  process.exit(1);
}
let rgw;
if (files.some((file) => /rgw/.test(file))) {
  const { cephMissing, startRgwCluster } = await import(join(root, 'dist', 'scripts', 'ceph', 'rgw-cluster.js'));
  const missing = cephMissing();
  if (missing && process.env.PLATFORM_TEST_REQUIRE_RGW === '1') {
    console.error(`the RADOS Gateway is required (PLATFORM_TEST_REQUIRE_RGW=1) but ${missing}`);
    process.exit(1);
  } else if (missing) {
    env.PLATFORM_TEST_RGW_SKIP = `RADOS Gateway suites: SKIPPED, ${missing}`;
    console.log(env.PLATFORM_TEST_RGW_SKIP);
  } else {
    try {
      rgw = await startRgwCluster();
    } catch (error) {
      if (process.env.PLATFORM_TEST_REQUIRE_RGW === '1') {
        console.error(error.message);
        process.exit(1);
      }
      env.PLATFORM_TEST_RGW_SKIP = `RADOS Gateway suites: SKIPPED, ${error.message.split('\n')[0]}`;
      console.log(env.PLATFORM_TEST_RGW_SKIP);
    }
    if (rgw) {
      Object.assign(env, { PLATFORM_TEST_RGW_ENDPOINT: rgw.endpoint, PLATFORM_TEST_RGW_REGION: rgw.region, PLATFORM_TEST_RGW_ACCESS_KEY: rgw.accessKey, PLATFORM_TEST_RGW_SECRET_KEY: rgw.secretKey });
      console.log(`RADOS Gateway suites: running against a one-node Ceph cluster at ${rgw.endpoint} (started in ${rgw.startSeconds.toFixed(1)} s)`);
    }
  }
}
const result = spawnSync(process.execPath, ['--test', '--test-concurrency=2', '--test-reporter=spec', ...files], { stdio: 'inherit', env, cwd: root });
if (rgw) await rgw.stop();
process.exit(result.status ?? 1);
