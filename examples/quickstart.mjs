// The seed's example: write { a: [1, 2, 3] } to lmdb://test.lmdb and read it back, then the same on mem://.
import { Arctic, DataFrame } from "floe";

for (const uri of ["lmdb://test.lmdb", "mem://"]) {
  const ac = new Arctic(uri);
  const lib = await ac.getLibrary("lib", { createIfMissing: true });
  await lib.write("symbol", new DataFrame({ a: [1, 2, 3] }));
  console.log((await lib.read("symbol")).data.toString());
  await ac.close();
}
