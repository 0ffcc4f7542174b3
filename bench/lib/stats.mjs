// Summary statistics for benchmark samples: mean, median and the 95 % confidence interval of the mean
// from Student's t-distribution (the seed's plots show 95 % CIs of five repeats).

/** Two-sided 95 % critical values of Student's t for 1..30 degrees of freedom. */
const T95 = [
  12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.16, 2.145, 2.131,
  2.12, 2.11, 2.101, 2.093, 2.086, 2.08, 2.074, 2.069, 2.064, 2.06, 2.056, 2.052, 2.048, 2.045, 2.042,
];

/** The two-sided 95 % critical value of t with `df` degrees of freedom (1.96 beyond 120). */
export function t95(df) {
  if (df < 1) return Number.NaN;
  if (df <= 30) return T95[df - 1];
  if (df <= 40) return 2.021;
  if (df <= 60) return 2.0;
  if (df <= 120) return 1.98;
  return 1.96;
}

export const mean = (xs) => xs.reduce((a, b) => a + b, 0) / xs.length;

export function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** Sample standard deviation (n - 1). */
export function sd(xs) {
  if (xs.length < 2) return 0;
  const m = mean(xs);
  return Math.sqrt(xs.reduce((a, x) => a + (x - m) ** 2, 0) / (xs.length - 1));
}

/** `{ n, mean, median, sd, lo, hi }`: lo..hi is the 95 % t-interval of the mean (the mean itself if n < 2). */
export function summarize(xs) {
  const n = xs.length;
  const m = mean(xs);
  const half = n > 1 ? (t95(n - 1) * sd(xs)) / Math.sqrt(n) : 0;
  return { n, mean: m, median: median(xs), sd: sd(xs), lo: m - half, hi: m + half };
}
