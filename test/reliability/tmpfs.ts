// Small tmpfs mounts for storage-fault tests: a disk that really fills up and a file system that really
// is read-only (root ignores chmod, so permissions alone cannot make one). Needs root and mount(8).
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** Why tmpfs mounts cannot be made here, or null when they can. */
export function cannotMount(): string | null {
  if (process.platform !== "linux") return `mount -t tmpfs needs Linux, not ${process.platform}`;
  if (process.getuid?.() !== 0)
    return "mount -t tmpfs needs root (run the suite as root, e.g. in CI's container)";
  const probe = mkdtempSync(join(tmpdir(), "floe-mount-probe-"));
  try {
    execFileSync("mount", ["-t", "tmpfs", "-o", "size=1m", "tmpfs", probe], { stdio: "pipe" });
    execFileSync("umount", [probe], { stdio: "pipe" });
    return null;
  } catch (err) {
    return `mount -t tmpfs failed: ${(err as { stderr?: Buffer }).stderr?.toString().trim() || err}`;
  } finally {
    rmSync(probe, { recursive: true, force: true });
  }
}

/** Runs mount(8) with `args`. */
export function mount(...args: string[]): void {
  execFileSync("mount", args, { stdio: "pipe" });
}

/** A fresh tmpfs of `megabytes` MB in a new temp directory. */
export function mountTmpfs(megabytes: number): string {
  const dir = mkdtempSync(join(tmpdir(), "floe-tmpfs-"));
  mount("-t", "tmpfs", "-o", `size=${megabytes}m`, "tmpfs", dir);
  return dir;
}

/** Unmounts `dir` (lazily if something still holds it open) and, unless told not to, removes it. */
export function unmount(dir: string, remove = true): void {
  try {
    execFileSync("umount", [dir], { stdio: "pipe" });
  } catch {
    execFileSync("umount", ["-l", dir], { stdio: "pipe" });
  }
  if (remove) rmSync(dir, { recursive: true, force: true });
}
