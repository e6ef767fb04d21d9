import { Code, ConnectError, type Interceptor } from "@connectrpc/connect";
import { type ErrorKind, SessiondError } from "../core/errors.js";

const codes: Record<ErrorKind, Code> = {
  invalid_argument: Code.InvalidArgument,
  not_found: Code.NotFound,
  already_exists: Code.AlreadyExists,
  aborted: Code.Aborted,
  failed_precondition: Code.FailedPrecondition,
  resource_exhausted: Code.ResourceExhausted,
  unavailable: Code.Unavailable,
  deadline_exceeded: Code.DeadlineExceeded,
  internal: Code.Internal,
};

/** Reports errors that are not a client's fault; the server installs a logger here. */
export type InternalErrorReporter = (error: unknown, procedure: string) => void;

/**
 * Turns any error into a ConnectError. Domain errors keep their message;
 * anything unexpected becomes INTERNAL without leaking driver details.
 */
export function toConnectError(error: unknown, procedure: string, report: InternalErrorReporter): ConnectError {
  if (error instanceof ConnectError) return error;
  if (error instanceof SessiondError) return new ConnectError(error.message, codes[error.kind], undefined, undefined, error.cause);
  report(error, procedure);
  return new ConnectError("internal error; the server logged the cause", Code.Internal);
}

/** A server interceptor applying {@link toConnectError} to unary and streaming calls. */
export function errorInterceptor(report: InternalErrorReporter): Interceptor {
  return (next) => async (req) => {
    const procedure = req.method.name;
    try {
      const res = await next(req);
      if (!res.stream) return res;
      return { ...res, message: mapStreamErrors(res.message, procedure, report) };
    } catch (error) {
      throw toConnectError(error, procedure, report);
    }
  };
}

async function* mapStreamErrors<T>(messages: AsyncIterable<T>, procedure: string, report: InternalErrorReporter) {
  try {
    yield* messages;
  } catch (error) {
    throw toConnectError(error, procedure, report);
  }
}
