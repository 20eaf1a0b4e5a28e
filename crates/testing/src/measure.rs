//! What benchmarks measure with: percentiles of sorted times, and a
//! process's resident memory.

use std::time::Duration;

/// The `p` quantile (0.0 to 1.0) of `sorted` times, nearest rank.
///
/// # Panics
///
/// When `sorted` is empty: a benchmark that measured nothing is broken.
pub fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let index = ((sorted.len() as f64 - 1.0) * p.clamp(0.0, 1.0)).round() as usize;
    sorted[index]
}

/// The resident set of process `pid` in KiB (0 if it cannot be read).
pub fn rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find_map(|line| line.strip_prefix("VmRSS:"))
                .and_then(|value| value.trim().trim_end_matches("kB").trim().parse().ok())
        })
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_take_the_nearest_rank() {
        let times: Vec<Duration> = (1..=100).map(Duration::from_millis).collect();
        assert_eq!(percentile(&times, 0.5), Duration::from_millis(51));
        assert_eq!(percentile(&times, 0.99), Duration::from_millis(99));
        assert_eq!(percentile(&times, 1.0), Duration::from_millis(100));
        assert_eq!(percentile(&times[..1], 0.99), Duration::from_millis(1));
    }

    #[test]
    fn this_process_has_a_resident_set() {
        assert!(rss_kib(std::process::id()) > 0);
    }
}
