/** `s3://` / `s3s://` URIs as ArcticDB writes them: what they parse to, and what they refuse. */
import { describe, expect, it } from "vitest";
import { InvalidUriError } from "../../../src/errors.ts";
import { isS3Uri, parseS3Uri, s3ClientConfig } from "../../../src/storage/s3/uri.ts";

/** The InvalidUriError `uri` is refused with. */
function refusal(uri: string): InvalidUriError {
  try {
    parseS3Uri(uri);
  } catch (err) {
    if (err instanceof InvalidUriError) return err;
    throw err;
  }
  throw new Error(`expected '${uri}' to be refused`);
}

describe("parseS3Uri", () => {
  it("parses ArcticDB's example with every option", () => {
    const parsed = parseS3Uri(
      "s3://127.0.0.1:floe-bucket?port=7480&region=eu-central-1&access=AKID&secret=se%2Fcr+et" +
        "&path_prefix=/team/prices/&use_virtual_addressing=false&CA_cert_path=/etc/ca.pem",
    );
    expect(parsed).toEqual({
      scheme: "s3",
      endpoint: "http://127.0.0.1:7480",
      host: "127.0.0.1",
      port: 7480,
      bucket: "floe-bucket",
      region: "eu-central-1",
      pathPrefix: "team/prices/",
      credentials: { accessKeyId: "AKID", secretAccessKey: "se/cr+et" },
      awsAuth: false,
      virtualAddressing: false,
      caCertPath: "/etc/ca.pem",
      caCertDir: undefined,
      requestTimeoutMs: undefined,
      maxAttempts: undefined,
      singleWriter: false,
    });
  });

  it("s3s is HTTPS; default ports are left out of the endpoint", () => {
    expect(parseS3Uri("s3s://s3.amazonaws.com:b?aws_auth=true").endpoint).toBe("https://s3.amazonaws.com");
    expect(parseS3Uri("s3s://minio.local:b?port=443&aws_auth=true").endpoint).toBe("https://minio.local");
    expect(parseS3Uri("s3s://minio.local:b?port=9000&aws_auth=true").endpoint).toBe(
      "https://minio.local:9000",
    );
    expect(parseS3Uri("S3://h:b?aws_auth=true").scheme).toBe("s3");
  });

  it("reads the region from an AWS endpoint, else us-east-1", () => {
    expect(parseS3Uri("s3s://s3.eu-west-1.amazonaws.com:b?aws_auth=true").region).toBe("eu-west-1");
    expect(parseS3Uri("s3s://s3-ap-southeast-2.amazonaws.com:b?aws_auth=true").region).toBe("ap-southeast-2");
    expect(parseS3Uri("s3://127.0.0.1:b?aws_auth=true").region).toBe("us-east-1");
    expect(parseS3Uri("s3s://s3.eu-west-1.amazonaws.com:b?aws_auth=true&region=us-west-2").region).toBe(
      "us-west-2",
    );
  });

  it("credentials: in the URI, or from the environment with aws_auth (or by default)", () => {
    const env = { AWS_ACCESS_KEY_ID: "ENVKEY", AWS_SECRET_ACCESS_KEY: "envsecret", AWS_SESSION_TOKEN: "tok" };
    const fromEnv = parseS3Uri("s3://h:b?aws_auth=true");
    expect(fromEnv.awsAuth).toBe(true);
    expect(s3ClientConfig(fromEnv, env).credentials).toEqual({
      accessKeyId: "ENVKEY",
      secretAccessKey: "envsecret",
      sessionToken: "tok",
    });
    expect(parseS3Uri("s3://h:b").awsAuth).toBe(true); // ArcticDB: no credentials means aws_auth
    expect(parseS3Uri("s3://h:b?aws_auth=default").awsAuth).toBe(true);
    const inUri = s3ClientConfig(parseS3Uri("s3://h:b?access=A&secret=S"), env);
    expect(inUri.credentials).toEqual({ accessKeyId: "A", secretAccessKey: "S" });
    expect(() => s3ClientConfig(parseS3Uri("s3://h:b?aws_auth=true"), {})).toThrow(
      /no credentials; give access=...&secret=... in the URI, or set AWS_ACCESS_KEY_ID/,
    );
  });

  it("maps to a client configuration", () => {
    const config = s3ClientConfig(
      parseS3Uri(
        "s3://localhost:b?port=7480&access=A&secret=S&use_virtual_addressing=true&request_timeout_ms=5000&max_attempts=3",
      ),
    );
    expect(config).toEqual({
      endpoint: "http://localhost:7480",
      bucket: "b",
      region: "us-east-1",
      credentials: { accessKeyId: "A", secretAccessKey: "S" },
      virtualHosted: true,
      timeoutMs: 5000,
      maxAttempts: 3,
    });
  });

  it("accepts a bracketed IPv6 host and floe's own options", () => {
    const parsed = parseS3Uri("s3://[::1]:b?port=7480&aws_auth=true&single_writer=true");
    expect(parsed.endpoint).toBe("http://[::1]:7480");
    expect(parsed.singleWriter).toBe(true);
  });

  it.each([
    ["s3://", /HOST:BUCKET/],
    ["s3://justahost", /HOST:BUCKET/],
    ["s3://:bucket", /HOST:BUCKET/],
    ["s3://host:", /the bucket '' is not a bucket name/],
    ["s3://host:bucket/some/path", /contains '\/'; name the bucket alone and put the path in path_prefix/],
    ["s3://host:9000:bucket", /the host 'host:9000' contains ':'; give the port as an option/],
    ["s3://ho st:bucket", /the host 'ho st' is not a host name/],
    ["s3://h:b?colour=red", /unknown option 'colour'; s3:\/\/ accepts port, region/],
    ["s3://h:b?port=7480&port=7481", /option 'port' is given twice/],
    ["s3://h:b?port=http", /option 'port' must be a whole number from 1 to 65535, got 'http'/],
    ["s3://h:b?port=70000", /option 'port' must be a whole number/],
    ["s3://h:b?region=", /option 'region' needs a value/],
    ["s3://h:b?access=A", /option 'secret' is missing/],
    ["s3://h:b?secret=S", /option 'access' is missing/],
    ["s3://h:b?access=A&secret=S&aws_auth=true", /either access= and secret=, or aws_auth=true/],
    ["s3://h:b?aws_auth=sts", /aws_auth=sts is not supported/],
    ["s3://h:b?aws_auth=maybe", /option 'aws_auth' must be true or false, got 'maybe'/],
    ["s3://h:b?use_virtual_addressing=yes", /option 'use_virtual_addressing' must be true or false/],
    ["s3://h:b?path_prefix=a/../b", /path_prefix 'a\/..\/b' has an empty, '.' or '..' segment/],
    ["s3://h:b?access=A&secret=%zz", /option 'secret' has a malformed %-escape/],
    ["s3://h:b?max_attempts=0", /option 'max_attempts' must be a whole number from 1 to 100/],
  ])("refuses %s, naming the bad part", (uri, message) => {
    expect(refusal(uri).message).toMatch(message);
  });

  it("never shows the secret in a message", () => {
    const err = refusal("s3://h:b?access=A&secret=TOPSECRET&colour=red");
    expect(err.message).not.toContain("TOPSECRET");
    expect(err.message).toContain("secret=***");
  });

  it("isS3Uri tells s3:// and s3s:// from other schemes", () => {
    expect(isS3Uri("s3://h:b")).toBe(true);
    expect(isS3Uri("s3s://h:b")).toBe(true);
    expect(isS3Uri("lmdb://x")).toBe(false);
    expect(isS3Uri("s3x://h:b")).toBe(false);
  });
});
