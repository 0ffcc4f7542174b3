import { InvalidArgumentError } from "../api/index.ts";

/**
 * Loads an optional peer dependency (apache-arrow, parquet-wasm) on first use, so floe/io works without
 * them for CSV; a missing one is an error that says what to install.
 */
export async function optional<T>(what: string, load: () => Promise<T>, install: string): Promise<T> {
  try {
    return await load();
  } catch (err) {
    const code = (err as { code?: unknown })?.code;
    if (code === "ERR_MODULE_NOT_FOUND" || code === "MODULE_NOT_FOUND") {
      throw new InvalidArgumentError(
        `${what} needs the optional package '${install}', which is not installed: npm install ${install}`,
        { cause: err },
      );
    }
    throw err;
  }
}

/** floe/arrow, loaded when an Arrow or Parquet import or export first needs it. */
export function arrowModule() {
  return optional("Arrow import and export", () => import("../arrow/index.ts"), "apache-arrow");
}

/** apache-arrow itself. */
export function apacheArrow() {
  return optional("Arrow import and export", () => import("apache-arrow"), "apache-arrow");
}
