// Named, structured loggers (`platform:http`, `plugin:upload-tus`). Lines go to stderr so
// that stdout stays free for command output (`KEY=$(platform token create ...)`). Fields
// whose names look like secrets are redacted before anything is written.

export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'silent';

const LEVELS: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 100 };

const SECRET_FIELD = /pass(word)?|secret|token|api[_-]?key|authorization|cookie|credential|private/i;

export type LogFields = Record<string, unknown>;

/** A sink receives finished log records; tests swap in a collecting sink. */
export type LogSink = (record: LogRecord) => void;

export interface LogRecord {
  time: string;
  level: Exclude<LogLevel, 'silent'>;
  name: string;
  msg: string;
  fields: LogFields;
}

/** A logger bound to one module name. */
export interface Logger {
  readonly name: string;
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
  child(name: string): Logger;
}

/** Replaces values of secret-looking fields, recursively. */
export function redact(fields: LogFields): LogFields {
  const out: LogFields = {};
  for (const [key, value] of Object.entries(fields)) {
    if (SECRET_FIELD.test(key)) out[key] = '[redacted]';
    else if (value instanceof Error) out[key] = { message: value.message, name: value.name };
    else if (value && typeof value === 'object' && !Array.isArray(value)) out[key] = redact(value as LogFields);
    else out[key] = value;
  }
  return out;
}

/** Writes one line per record to stderr: human-readable on a terminal, JSON otherwise. */
export function stderrSink(json = !process.stderr.isTTY): LogSink {
  return (record) => {
    if (json) {
      process.stderr.write(`${JSON.stringify({ time: record.time, level: record.level, name: record.name, msg: record.msg, ...record.fields })}\n`);
      return;
    }
    const extra = Object.keys(record.fields).length ? ` ${JSON.stringify(record.fields)}` : '';
    process.stderr.write(`${record.time} ${record.level.toUpperCase().padEnd(5)} [${record.name}] ${record.msg}${extra}\n`);
  };
}

/** Creates loggers that share a level and a sink. */
export class LoggerFactory {
  constructor(
    private readonly level: LogLevel = 'info',
    private readonly sink: LogSink = stderrSink(),
  ) {}

  /** A logger named after its module, e.g. `platform:http`. */
  get(name: string): Logger {
    const threshold = LEVELS[this.level];
    const write = (level: Exclude<LogLevel, 'silent'>, msg: string, fields: LogFields = {}): void => {
      if (LEVELS[level] < threshold) return;
      this.sink({ time: new Date().toISOString(), level, name, msg, fields: redact(fields) });
    };
    return {
      name,
      debug: (msg, fields) => write('debug', msg, fields),
      info: (msg, fields) => write('info', msg, fields),
      warn: (msg, fields) => write('warn', msg, fields),
      error: (msg, fields) => write('error', msg, fields),
      child: (suffix) => this.get(`${name}:${suffix}`),
    };
  }
}
