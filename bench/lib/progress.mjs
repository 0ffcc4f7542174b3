// A one-line progress report on stderr (rewritten in place on a terminal, one line per update otherwise).

const fmt = (s) =>
  s >= 60 ? `${Math.floor(s / 60)}m${String(Math.round(s % 60)).padStart(2, "0")}s` : `${s.toFixed(0)}s`;

export class Progress {
  /** @param {string} label @param {number} total steps */
  constructor(label, total) {
    this.label = label;
    this.total = total;
    this.done = 0;
    this.t0 = performance.now();
    this.tty = process.stderr.isTTY;
    this.lastPrint = 0;
  }

  /** Reports that `what` is starting; call `step()` when a step is done. */
  update(what) {
    const elapsed = (performance.now() - this.t0) / 1000;
    const eta = this.done > 0 ? (elapsed / this.done) * (this.total - this.done) : Number.NaN;
    const line = `[${this.label}] ${this.done}/${this.total} ${what}  elapsed ${fmt(elapsed)}${Number.isNaN(eta) ? "" : `, eta ${fmt(eta)}`}`;
    if (this.tty) process.stderr.write(`\r\x1b[K${line}`);
    else if (performance.now() - this.lastPrint > 5000 || this.done === 0) {
      process.stderr.write(`${line}\n`);
      this.lastPrint = performance.now();
    }
  }

  step() {
    this.done++;
  }

  end() {
    const elapsed = (performance.now() - this.t0) / 1000;
    const line = `[${this.label}] ${this.total} steps in ${fmt(elapsed)}`;
    process.stderr.write(this.tty ? `\r\x1b[K${line}\n` : `${line}\n`);
    return elapsed;
  }
}
