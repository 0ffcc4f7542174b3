import { Buffer } from "node:buffer";
import { MessageChannel } from "node:worker_threads";
import { expose, transfer, wrap } from "comlink";
import nodeEndpoint from "comlink/dist/esm/node-adapter.mjs";
import { describe, expect, it } from "vitest";
import { packViews, unpackViews, viewSafeEndpoint } from "../../runtimes/deno-views.ts";

describe("typed arrays sent as buffers (Deno's worker_threads)", () => {
  it("packs every kind of typed array, at any depth, and unpacks the same views", () => {
    const shared = new ArrayBuffer(64);
    const message = {
      id: "x",
      args: [
        { values: new Float64Array([1.5, -0, Number.NaN]), names: ["a", null, "c"] },
        { index: new BigInt64Array([-(2n ** 63n), 7n]), flags: new Uint8Array([1, 0, 1]) },
      ],
      halves: [new Int32Array(shared, 0, 8), new Int32Array(shared, 32, 8)],
      nested: { deep: { more: [[new Uint16Array([65535])]] } },
      buffer: Buffer.from("floe"),
      error: new Error("kept as it is"),
    };
    const packed = packViews(message) as typeof message;
    // Nothing typed is left in what goes on the channel: only plain objects holding buffers.
    const typed: string[] = [];
    const scan = (v: unknown, path: string): void => {
      if (ArrayBuffer.isView(v)) typed.push(path);
      else if (Array.isArray(v)) {
        for (const [i, x] of v.entries()) scan(x, `${path}[${i}]`);
      } else if (v && typeof v === "object" && !(v instanceof Error) && !(v instanceof ArrayBuffer)) {
        for (const [k, x] of Object.entries(v)) scan(x, `${path}.${k}`);
      }
    };
    scan(packed, "message");
    expect(typed).toEqual([]);
    // The original is untouched.
    expect(message.args[0].values).toBeInstanceOf(Float64Array);

    const back = unpackViews(structuredClone(packed)) as typeof message;
    expect(back.id).toBe("x");
    const [first, second] = back.args as [
      { values: Float64Array; names: (string | null)[] },
      { index: BigInt64Array; flags: Uint8Array },
    ];
    expect(first.values).toBeInstanceOf(Float64Array);
    expect([...first.values]).toEqual([1.5, -0, Number.NaN]);
    expect(Object.is(first.values[1], -0)).toBe(true);
    expect(first.names).toEqual(["a", null, "c"]);
    expect(second.index).toEqual(new BigInt64Array([-(2n ** 63n), 7n]));
    expect(second.flags).toEqual(new Uint8Array([1, 0, 1]));
    expect(back.nested.deep.more[0][0]).toEqual(new Uint16Array([65535]));
    expect(new TextDecoder().decode(back.buffer)).toBe("floe");
    expect(back.error).toBeInstanceOf(Error);
    // Two views of one buffer stay two views of one buffer, at their offsets.
    expect(back.halves[0].buffer).toBe(back.halves[1].buffer);
    expect(back.halves[1].byteOffset).toBe(32);
    expect(back.halves[1].length).toBe(8);
  });

  it("leaves a message with no typed array as it is, without copying its arrays", () => {
    const strings = Array.from({ length: 1000 }, (_, i) => (i % 3 ? `s${i}` : null));
    const message = { columns: [{ name: "s", values: strings }], n: 3 };
    expect(packViews(message)).toBe(message);
    expect(unpackViews(message)).toBe(message);
    const withView = {
      columns: [
        { name: "s", values: strings },
        { name: "x", values: new Float64Array(2) },
      ],
    };
    const packed = packViews(withView) as { columns: { values: unknown }[] };
    expect(packed).not.toBe(withView);
    expect(packed.columns[0].values).toBe(strings);
  });

  it("refuses a stand-in of an unknown kind", () => {
    expect(() => unpackViews({ "\u0000floe-view": "Float16Array", buffer: new ArrayBuffer(8) })).toThrow(
      /unknown typed array kind 'Float16Array'/,
    );
  });

  it("carries Comlink calls with moved typed arrays both ways over a real message channel", async () => {
    const { port1, port2 } = new MessageChannel();
    const service = {
      double(values: Float64Array) {
        for (let i = 0; i < values.length; i++) values[i] *= 2;
        return transfer({ values, sum: values.reduce((a, b) => a + b, 0) }, [values.buffer as ArrayBuffer]);
      },
    };
    expose(service, viewSafeEndpoint(nodeEndpoint(port1)));
    const remote = wrap<typeof service>(viewSafeEndpoint(nodeEndpoint(port2)));
    const input = new Float64Array([1, 2, 3.5]);
    const result = await remote.double(transfer(input, [input.buffer]));
    expect(input.length).toBe(0); // moved, not copied
    expect(result.values).toBeInstanceOf(Float64Array);
    expect([...result.values]).toEqual([2, 4, 7]);
    expect(result.sum).toBe(13);
    port1.close();
    port2.close();
  });
});
