/** How final S3 answers become typed errors, for the answers the local RGW cannot be made to give. */
import { describe, expect, it } from "vitest";
import { errorForAnswer, retryableStatus } from "../../../src/storage/s3/errors.ts";

const answer = (status: number, code?: string, message?: string) =>
  errorForAnswer(status, code, message, "GET s3://b/k", "https://s3.amazonaws.com", "b", 6);

describe("errorForAnswer", () => {
  it("names a bucket in another region and says to set region=", () => {
    const err = answer(
      301,
      "PermanentRedirect",
      "The bucket you are attempting to access must be addressed...",
    );
    expect(err.kind).toBe("request");
    expect(err.message).toMatch(/not in the region this client signs for .*set region= in the URI/);
    expect(answer(400, "AuthorizationHeaderMalformed").message).toMatch(/set region=/);
  });

  it("says to set the clock on a skewed request time, as a credentials failure", () => {
    const err = answer(403, "RequestTimeTooSkewed");
    expect(err.kind).toBe("bad-credentials");
    expect(err.message).toMatch(/clock is too far from the server's/);
  });

  it("tells throttling, server failure and refusals apart", () => {
    expect(answer(503, "SlowDown").kind).toBe("throttled");
    expect(answer(429).kind).toBe("throttled");
    expect(answer(500, "InternalError").kind).toBe("server");
    expect(answer(400, "RequestTimeout").kind).toBe("server");
    expect(answer(400, "InvalidArgument").kind).toBe("request");
    expect(answer(404, "NoSuchBucket").kind).toBe("missing-bucket");
    expect(answer(403, "AccessDenied").code).toBe("StorageError");
  });

  it("retries throttling, 5xx and request timeouts only", () => {
    expect(retryableStatus(503, "SlowDown")).toBe(true);
    expect(retryableStatus(500, undefined)).toBe(true);
    expect(retryableStatus(429, undefined)).toBe(true);
    expect(retryableStatus(400, "RequestTimeout")).toBe(true);
    expect(retryableStatus(412, "PreconditionFailed")).toBe(false);
    expect(retryableStatus(409, "ConditionalRequestConflict")).toBe(false);
    expect(retryableStatus(403, "AccessDenied")).toBe(false);
  });
});
