// The sections of platform.ini that core owns, each declared as a JSON schema.
import type { ConfigSectionSchema } from './config-schema-types.js';

/** Core's sections: `[platform]`, `[http]`, `[db]`, `[auth]`, `[jobs]`, `[depot]`, `[nginx]`, `[logging]`, `[web]`. */
export const coreConfigSchema: Record<string, ConfigSectionSchema> = {
  platform: {
    type: 'object',
    additionalProperties: false,
    properties: {
      plugins: { type: 'string', default: '', description: 'Plugins to enable, in order, separated by spaces or commas.' },
      data_dir: { type: 'string', default: './data', 'x-path': true, description: 'Where the platform keeps its files.' },
      site_url: { type: 'string', default: '', description: 'Public base URL, e.g. https://data.example.org.' },
      site_title: { type: 'string', default: 'Data platform' },
      secret_key_file: {
        type: 'string',
        default: './data/secrets/secret-key',
        'x-path': true,
        'x-secret-file': true,
        'x-generate': true,
        description: 'File holding the key that peppers API token hashes and signs links.',
      },
    },
  },
  http: {
    type: 'object',
    additionalProperties: false,
    properties: {
      host: { type: 'string', default: '127.0.0.1' },
      port: { type: 'integer', minimum: 0, maximum: 65535, default: 5000 },
      max_body_bytes: { type: 'integer', minimum: 1024, default: 1048576, description: 'Largest JSON body an action accepts.' },
      trust_proxy: { type: 'boolean', default: false, description: 'Take the client address from X-Forwarded-For (behind nginx).' },
      x_accel_redirect: { type: 'string', default: '', pattern: '^(/[A-Za-z0-9._~-]+)*/$|^$', description: 'Behind nginx: the internal location (e.g. /_depot/) that serves x_accel_root; downloads of local depot files are then handed to nginx (X-Accel-Redirect) when the request carries X-Sendfile-Type: X-Accel-Redirect.' },
      x_accel_root: { type: 'string', default: './data/depot', 'x-path': true, description: 'The directory the x_accel_redirect location maps (its nginx alias).' },
      request_timeout_seconds: { type: 'integer', minimum: 0, default: 0, description: 'Longest a whole request may take; 0 for no limit, so uploads on slow links are not cut while their bytes flow.' },
      idle_timeout_seconds: { type: 'integer', minimum: 1, default: 120, description: 'A connection on which no bytes move either way for this long is closed.' },
      headers_timeout_seconds: { type: 'integer', minimum: 1, default: 60, description: 'Longest a client may take to send the request headers.' },
      read_cache_mb: { type: 'integer', minimum: 0, default: 64, description: 'Memory for cached public reads (package_show, anonymous searches) per process; 0 turns the cache off.' },
    },
  },
  db: {
    type: 'object',
    additionalProperties: false,
    properties: {
      url: { type: 'string', default: 'sqlite:./data/platform.sqlite', pattern: '^(sqlite:|postgres(ql)?://)', description: 'sqlite:PATH or postgresql://user@host:port/db' },
      schema: { type: 'string', pattern: '^[a-z_][a-z0-9_]{0,62}$', description: 'PostgreSQL schema to use (default: public).' },
      password_file: { type: 'string', 'x-path': true, 'x-secret-file': true, description: 'File holding the database password.' },
      auto_migrate: { type: 'boolean', default: true, description: 'Apply pending migrations when the platform starts.' },
      pool_max: { type: 'integer', minimum: 1, default: 10 },
      log_sql: { type: 'boolean', default: false },
    },
  },
  auth: {
    type: 'object',
    additionalProperties: false,
    properties: {
      max_failed_logins: { type: 'integer', minimum: 1, default: 5, description: 'Failed password attempts before an account is locked.' },
      lockout_minutes: { type: 'integer', minimum: 1, default: 15 },
      min_password_length: { type: 'integer', minimum: 8, default: 10 },
      login_failures_per_address: { type: 'integer', minimum: 0, default: 20, description: 'Failed sign-ins one client address may make in a burst before it must wait (429 with Retry-After); 0 turns the limit off.' },
      login_failures_per_name: { type: 'integer', minimum: 0, default: 10, description: 'Failed sign-ins for one user name (known or not), from any address, in a burst; 0 turns the limit off.' },
      login_window_seconds: { type: 'integer', minimum: 1, default: 600, description: 'Seconds in which a spent allowance of failed sign-ins comes back in full.' },
      hash_threads: { type: 'integer', minimum: 1, maximum: 64, default: 1, description: 'Threads that hash passwords, per process (their own, not the I/O threads).' },
      hash_queue: { type: 'integer', minimum: 0, default: 32, description: 'Password hashes that may wait for a thread; more sign-ins at once are answered 503 with Retry-After.' },
      hash_nice: { type: 'integer', minimum: 0, maximum: 19, default: 10, description: 'Niceness of the hashing threads (Linux), so serving files and queries wins the CPU.' },
    },
  },
  jobs: {
    type: 'object',
    additionalProperties: false,
    properties: {
      worker: { type: 'string', enum: ['internal', 'external'], default: 'internal', description: 'internal: serve runs a job worker; external: run platform jobs work separately.' },
      pool_size: { type: 'integer', minimum: 1, maximum: 256, default: 2, description: 'Threads for CPU-heavy jobs (handlers with `cpu`), per process.' },
      thread_memory_mb: { type: 'integer', minimum: 16, default: 512, description: 'Heap limit of one pool thread in MB; a thread that needs more is ended, the process is not.' },
      concurrency: { type: 'integer', minimum: 1, maximum: 64, default: 2, description: 'Jobs one worker runs at once.' },
      lease_seconds: { type: 'integer', minimum: 1, default: 30, description: 'A job whose worker stops renewing for this long is claimed again.' },
      poll_ms: { type: 'integer', minimum: 10, default: 1000, description: 'How often an idle worker looks for jobs (PostgreSQL also wakes it at once).' },
      max_attempts: { type: 'integer', minimum: 1, default: 5 },
      timeout_seconds: { type: 'integer', minimum: 1, default: 3600, description: 'Time limit of a job whose handler sets none.' },
      grace_seconds: { type: 'integer', minimum: 0, default: 30, description: 'At shutdown, how long running jobs may finish before they are released.' },
    },
  },
  depot: {
    type: 'object',
    additionalProperties: false,
    properties: {
      active: { type: 'string', default: 'fs', description: 'Name of the depot new files are written to.' },
    },
  },
  upload: {
    type: 'object',
    additionalProperties: false,
    properties: {
      max_size: { type: 'integer', minimum: 1, default: 107_374_182_400, description: 'Largest file an upload protocol accepts, in bytes (default 100 GiB).' },
      expiry_hours: { type: 'integer', minimum: 1, default: 24, description: 'An unfinished upload expires this long after its last progress.' },
      quota_bytes: { type: 'integer', minimum: 1, default: 214_748_364_800, description: 'Bytes one user may have in unfinished uploads at once (default 200 GiB).' },
    },
  },
  search: {
    type: 'object',
    additionalProperties: false,
    properties: {
      facet_resource_keys: { type: 'string', default: '', description: 'Resource metadata keys package_search may facet on and filter by, comma-separated (facet.field and fq as res_extras_KEY), e.g. dc:setup:channel width, dc:setup:chip region, dc:experiment:sample.' },
    },
  },
  inspect: {
    type: 'object',
    additionalProperties: false,
    properties: {
      min_free_mb: { type: 'integer', minimum: 0, default: 1024, description: 'Free space below this (MiB) in the data directories is a problem.' },
      behind_nginx: { type: 'boolean', description: 'Whether this installation is served through nginx, so inspect checks nginx here (default: yes when [http] trust_proxy or x_accel_redirect or [inspect] nginx_config is set).' },
      nginx_config: { type: 'string', 'x-path': true, description: 'Where the platform\'s nginx configuration is installed (default /etc/nginx/sites-enabled/platform.conf).' },
      tls_certificate: { type: 'string', 'x-path': true, description: 'The TLS certificate nginx serves, checked for host name and expiry.' },
    },
  },
  nginx: {
    type: 'object',
    additionalProperties: false,
    properties: {
      upstreams: { type: 'string', default: '', pattern: '^[A-Za-z0-9.:\\[\\]_ ,-]*$', description: 'The platform nodes nginx proxies to, host:port separated by spaces (default: [http] host:port, one node).' },
      server_name: { type: 'string', default: '', pattern: '^[A-Za-z0-9.*_-]*$', description: 'nginx server_name (default: the host of [platform] site_url, else _).' },
      tls_certificate: { type: 'string', default: '/etc/ssl/platform/server.cert', pattern: '^[^;{}\\s]+$', description: 'Certificate file nginx serves (full chain, PEM).' },
      tls_certificate_key: { type: 'string', default: '/etc/ssl/platform/server.key', pattern: '^[^;{}\\s]+$', description: 'Its private key file.' },
    },
  },
  logging: {
    type: 'object',
    additionalProperties: false,
    properties: {
      level: { type: 'string', enum: ['debug', 'info', 'warn', 'error', 'silent'], default: 'info' },
    },
  },
  web: {
    type: 'object',
    additionalProperties: false,
    properties: {
      session_hours: { type: 'integer', minimum: 1, maximum: 720, default: 12, description: 'A web session ends after this many hours without a page request.' },
      facets: { type: 'string', default: 'organization, tags, res_format, license_id', description: 'Facets of the search page, comma-separated, in order: dataset fields, or resource metadata as res_extras_KEY (e.g. res_extras_dc:setup:channel width).' },
      upload_chunk_kb: { type: 'integer', minimum: 64, maximum: 524288, default: 8192, description: 'Size of the pieces the upload page sends; a broken upload resumes from the last whole piece.' },
    },
  },
};
