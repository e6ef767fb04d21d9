import { Code, ConnectError } from "@connectrpc/connect";
import { expect } from "vitest";

/** Awaits `call` and asserts it fails with `code` and a message containing `fragment`. */
export async function expectCode(call: Promise<unknown>, code: Code, fragment?: string): Promise<ConnectError> {
  let caught: unknown;
  try {
    await call;
  } catch (error) {
    caught = error;
  }
  expect(caught, `expected ${Code[code]}`).toBeInstanceOf(ConnectError);
  const error = caught as ConnectError;
  expect(Code[error.code], error.rawMessage).toBe(Code[code]);
  if (fragment) expect(error.rawMessage).toContain(fragment);
  return error;
}
