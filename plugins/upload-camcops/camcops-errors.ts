// The two kinds of failure the CamCOPS protocol distinguishes: a user error (HTTP 200,
// success:0, the message shown on the tablet) and a server error (HTTP 503).

/** The client asked for something wrong: reply 200 with success 0 and this message. */
export class CamcopsUserError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CamcopsUserError';
  }
}

/** The server cannot serve the request: reply 503 "Database Unavailable". */
export class CamcopsServerError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CamcopsServerError';
  }
}

/** Throws a {@link CamcopsUserError}. */
export function failUser(message: string): never {
  throw new CamcopsUserError(message);
}
