//! Small helpers the load benchmarks share.

use std::time::Duration;

/// The `p` quantile (0..=1) of sorted samples, nearest rank; zero when there are none.
pub fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let index = ((sorted.len() as f64 - 1.0) * p.clamp(0.0, 1.0)).round() as usize;
    sorted[index]
}

/// A duration as milliseconds with two decimals, e.g. `1.35 ms`.
pub fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1000.0)
}

/// `p50 1.20 ms p99 3.40 ms` for sorted samples.
pub fn p50_p99(sorted: &[Duration]) -> String {
    format!(
        "p50 {} p99 {}",
        ms(percentile(sorted, 0.5)),
        ms(percentile(sorted, 0.99))
    )
}
