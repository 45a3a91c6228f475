import { describe, expect, it } from "vitest";
import { maskS3Url, parseS3Url } from "../../src/blobs/s3/url.js";
import { CairnError } from "../../src/sdk/errors.js";

const mib = 1024 * 1024;

function refused(url: string, env: NodeJS.ProcessEnv = {}): CairnError {
  try {
    parseS3Url(url, env);
  } catch (error) {
    if (error instanceof CairnError) return error;
    throw error;
  }
  throw new Error(`accepted ${url}`);
}

describe("CAIRN_BLOBS_URL for the S3 driver", () => {
  it("reads bucket, prefix and the defaults (AWS S3, virtual-hosted, the SDK's credential chain)", () => {
    expect(parseS3Url("s3://my-bucket", {})).toEqual({
      bucket: "my-bucket",
      prefix: "",
      region: "us-east-1",
      forcePathStyle: false,
      partSize: 5 * mib,
      queueSize: 2,
      timeoutMs: 10_000,
      directDownloads: false,
      where: "s3://my-bucket",
    });
    const settings = parseS3Url("s3://my-bucket//cairn/prod/?region=eu-west-3", { AWS_REGION: "us-west-2" });
    expect(settings).toMatchObject({ prefix: "cairn/prod/", region: "eu-west-3" });
    expect(parseS3Url("s3://b1b/x", { AWS_DEFAULT_REGION: "ap-south-1" }).region).toBe("ap-south-1");
    expect(parseS3Url("s3://b1b/caf%C3%A9", {}).prefix).toBe("café/");
  });

  it("takes an S3-compatible endpoint (path-style by default), tuning and credentials", () => {
    const url =
      "s3://files/app?endpoint=http://127.0.0.1:9000/&region=auto&accessKeyId=AK&secretAccessKey=SK%2Bx" +
      "&sessionToken=T&partSize=16&queueSize=4&timeout=2500&directDownloads=true";
    expect(parseS3Url(url, { AWS_ACCESS_KEY_ID: "env", AWS_SECRET_ACCESS_KEY: "env" })).toEqual({
      bucket: "files",
      prefix: "app/",
      endpoint: "http://127.0.0.1:9000",
      region: "auto",
      forcePathStyle: true,
      credentials: { accessKeyId: "AK", secretAccessKey: "SK+x", sessionToken: "T" },
      partSize: 16 * mib,
      queueSize: 4,
      timeoutMs: 2500,
      directDownloads: true,
      where:
        "s3://files/app?endpoint=http://127.0.0.1:9000/&region=auto&accessKeyId=AK&secretAccessKey=***" +
        "&sessionToken=***&partSize=16&queueSize=4&timeout=2500&directDownloads=true",
    });
    expect(parseS3Url("s3://files?endpoint=https://r2.example&forcePathStyle=false", {}).forcePathStyle).toBe(
      false,
    );
    // Without URL credentials, the node's AWS_* variables; without those, none (the SDK's chain).
    expect(
      parseS3Url("s3://files", {
        AWS_ACCESS_KEY_ID: "id",
        AWS_SECRET_ACCESS_KEY: "key",
        AWS_SESSION_TOKEN: "",
      }).credentials,
    ).toEqual({ accessKeyId: "id", secretAccessKey: "key" });
    expect(parseS3Url("s3://files", { AWS_ACCESS_KEY_ID: "id" }).credentials).toBeUndefined();
  });

  it.each([
    ["s3://", "name a bucket"],
    ["s3://ab", "name a bucket"],
    ["s3://bad*bucket", "name a bucket"],
    ["s3://bucket:9000/x", "has no port"],
    ["s3://user:s3cret@bucket", "credentials do not go before the bucket"],
    ["s3://bucket/a//b", "plain path segments"],
    ["s3://bucket/a/%00", "plain path segments"],
    ["s3://bucket?Region=x", 'unknown parameter "Region"'],
    ["s3://bucket?region=a&region=b", "given twice"],
    ["s3://bucket?region=eu_west!", "not a region name"],
    ["s3://bucket?endpoint=localhost:9000", "endpoint must be an http"],
    ["s3://bucket?endpoint=http://u:s3cret@host", "without credentials"],
    ["s3://bucket?forcePathStyle=yes", "forcePathStyle must be true or false"],
    ["s3://bucket?partSize=4", "partSize (MiB) must be an integer from 5"],
    ["s3://bucket?queueSize=0", "queueSize must be"],
    ["s3://bucket?timeout=1.5", "timeout (ms) must be"],
    ["s3://bucket?directDownloads=1", "directDownloads must be true or false"],
    ["s3://bucket?secretAccessKey=s3cret", "accessKeyId and secretAccessKey together"],
    ["s3://bucket?accessKeyId=a&secretAccessKey=", "accessKeyId and secretAccessKey together"],
  ])("refuses %s with invalid_config, naming the problem and not the secret", (url, message) => {
    const error = refused(url);
    expect(error.code).toBe("invalid_config");
    expect(error.message).toContain(message);
    expect(error.message).not.toContain("s3cret");
  });

  it("masks secrets in the URL it shows", () => {
    expect(maskS3Url("s3://b/p?accessKeyId=AK&secretAccessKey=s3cret&sessionToken=t0k")).toBe(
      "s3://b/p?accessKeyId=AK&secretAccessKey=***&sessionToken=***",
    );
    expect(maskS3Url("s3://AK:s3cret@b/p")).toBe("s3://AK:***@b/p");
    expect(maskS3Url("not a url s3cret")).not.toContain("s3cret");
  });
});
