// One writer process of version-chain.test.ts: commits one record naming itself, prints its number.
// argv: bundle path, endpoint, region, access, secret, bucket, writer id.
const [bundle, endpoint, region, accessKeyId, secretAccessKey, bucket, id] = process.argv.slice(2);
const { S3Client, commitVersion } = await import(bundle);
const client = new S3Client({ endpoint, region, bucket, credentials: { accessKeyId, secretAccessKey } });
const keys = { prefix: "lib/V/sym/", hintKey: "lib/R/sym" };
const n = await commitVersion(client, keys, (v) =>
  new TextEncoder().encode(JSON.stringify({ v, writer: id })),
);
process.stdout.write(`${n}\n`);
