/**
 * The few S3 XML answers the client reads (ListObjectsV2, errors, multi-delete), taken apart with
 * regular expressions: S3's XML is flat and machine-written, and `DOMParser` exists in browsers but
 * not in Node, so a parser dependency would buy nothing here.
 */

const ENTITIES: Record<string, string> = { amp: "&", lt: "<", gt: ">", quot: '"', apos: "'" };

/** Replaces XML character and entity references with the characters they name. */
export function decodeXml(text: string): string {
  return text.replace(/&(#x[0-9a-fA-F]+|#[0-9]+|[a-z]+);/g, (whole, ref: string) => {
    if (ref[0] === "#") {
      const code = ref[1] === "x" ? Number.parseInt(ref.slice(2), 16) : Number.parseInt(ref.slice(1), 10);
      return String.fromCodePoint(code);
    }
    return ENTITIES[ref] ?? whole;
  });
}

/** The decoded text of every `<tag>…</tag>` directly in `xml`, in order. */
export function allTags(xml: string, tag: string): string[] {
  const out: string[] = [];
  const re = new RegExp(`<${tag}>([\\s\\S]*?)</${tag}>`, "g");
  for (let m = re.exec(xml); m; m = re.exec(xml)) out.push(m[1]);
  return out;
}

/** The decoded text of the first `<tag>…</tag>` in `xml`, or undefined. */
export function firstTag(xml: string, tag: string): string | undefined {
  const m = new RegExp(`<${tag}>([\\s\\S]*?)</${tag}>`).exec(xml);
  return m ? decodeXml(m[1]) : undefined;
}

/** Escapes text for an XML element's content. */
export function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&${Object.keys(ENTITIES).find((k) => ENTITIES[k] === c)};`);
}
