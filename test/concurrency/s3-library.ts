/** A library on a fresh `s3://` bucket of the local Ceph RGW, for the s3-*.test.ts files here. */
import { type FreshS3, freshS3Uri, type RgwEnv } from "../storage/s3/rgw.ts";
import { Arctic, type Library } from "./floe.ts";

/**
 * Runs `body` on library "lib" of a new bucket (through the built bundle, as the child scripts), then
 * empties the bucket: the test gateway's OSD keeps every object in memory.
 */
export async function onFreshLibrary(
  env: RgwEnv,
  tag: string,
  body: (uri: string, lib: Library, store: FreshS3) => Promise<void>,
): Promise<void> {
  const store = await freshS3Uri(env, tag);
  const ac = new Arctic(store.uri, { workers: 0 });
  try {
    await body(store.uri, await ac.createLibrary("lib"), store);
  } finally {
    await ac.close();
    await store.drop();
  }
}
