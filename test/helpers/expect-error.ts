import { KeywardError } from "@keyward/sdk";
import { expect } from "vitest";

/** Asserts that a call fails with a catalog code, and returns the error for more checks. */
export async function expectCode(call: Promise<unknown>, code: string): Promise<KeywardError> {
  let caught: unknown;
  try {
    await call;
  } catch (error) {
    caught = error;
  }
  expect(caught, `expected ${code}, but the call succeeded`).toBeInstanceOf(KeywardError);
  const error = caught as KeywardError;
  expect({ code: error.code, message: error.message }).toMatchObject({ code });
  return error;
}
