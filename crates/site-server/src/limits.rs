//! Request limits per client id: a request budget per minute, and a lockout
//! after repeated failed token requests. Pure bookkeeping over `Instant`s,
//! kept in memory (a restart forgives).

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The window of the per-minute budget.
pub const RATE_WINDOW: Duration = Duration::from_secs(60);
/// Failed token requests that lock a client id out.
pub const MAX_FAILURES: usize = 10;
/// The window those failures are counted in, and the lockout's length.
pub const FAILURE_WINDOW: Duration = Duration::from_secs(5 * 60);

/// The limits of every client id.
pub struct Limits {
    per_minute: u32,
    requests: Mutex<HashMap<String, VecDeque<Instant>>>,
    failures: Mutex<HashMap<String, VecDeque<Instant>>>,
}

impl Limits {
    /// Limits allowing `per_minute` requests a minute per client id.
    pub fn new(per_minute: u32) -> Limits {
        Limits {
            per_minute,
            requests: Mutex::new(HashMap::new()),
            failures: Mutex::new(HashMap::new()),
        }
    }

    /// Counts one request of `client_id` at `now`. `Err(seconds)` when it
    /// is over the budget: retry after that many seconds.
    pub fn check_request(&self, client_id: &str, now: Instant) -> Result<(), u64> {
        let mut requests = self.requests.lock().unwrap_or_else(|e| e.into_inner());
        let seen = requests.entry(client_id.to_owned()).or_default();
        forget_before(seen, now, RATE_WINDOW);
        if seen.len() >= self.per_minute as usize {
            return Err(retry_after(seen, now, RATE_WINDOW));
        }
        seen.push_back(now);
        Ok(())
    }

    /// `Err(seconds)` while `client_id` is locked out by failed token requests.
    pub fn check_lockout(&self, client_id: &str, now: Instant) -> Result<(), u64> {
        let mut failures = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        let Some(seen) = failures.get_mut(client_id) else {
            return Ok(());
        };
        forget_before(seen, now, FAILURE_WINDOW);
        if seen.len() >= MAX_FAILURES {
            return Err(retry_after(seen, now, FAILURE_WINDOW));
        }
        Ok(())
    }

    /// Records a failed token request of `client_id`.
    pub fn record_failure(&self, client_id: &str, now: Instant) {
        let mut failures = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        let seen = failures.entry(client_id.to_owned()).or_default();
        forget_before(seen, now, FAILURE_WINDOW);
        seen.push_back(now);
    }
}

fn forget_before(seen: &mut VecDeque<Instant>, now: Instant, window: Duration) {
    while seen
        .front()
        .is_some_and(|first| now.duration_since(*first) >= window)
    {
        seen.pop_front();
    }
}

/// Whole seconds until the oldest entry leaves the window (at least 1).
fn retry_after(seen: &VecDeque<Instant>, now: Instant, window: Duration) -> u64 {
    let oldest = seen.front().copied().unwrap_or(now);
    let left = window.saturating_sub(now.duration_since(oldest));
    left.as_secs_f64().ceil().max(1.0) as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_budget_refills_as_requests_age_out_of_the_minute() {
        let limits = Limits::new(3);
        let start = Instant::now();
        for i in 0..3 {
            limits
                .check_request("a", start + Duration::from_secs(i))
                .unwrap();
        }
        let refused = limits.check_request("a", start + Duration::from_secs(10));
        assert_eq!(refused, Err(50));
        limits
            .check_request("b", start + Duration::from_secs(10))
            .unwrap();
        limits
            .check_request("a", start + Duration::from_secs(60))
            .unwrap();
    }

    #[test]
    fn ten_failures_in_five_minutes_lock_the_client_out_until_they_age() {
        let limits = Limits::new(600);
        let start = Instant::now();
        for i in 0..9 {
            limits.record_failure("a", start + Duration::from_secs(i));
        }
        limits
            .check_lockout("a", start + Duration::from_secs(20))
            .unwrap();
        limits.record_failure("a", start + Duration::from_secs(20));
        assert_eq!(
            limits.check_lockout("a", start + Duration::from_secs(30)),
            Err(270)
        );
        limits.check_lockout("other", start).unwrap();
        limits
            .check_lockout("a", start + Duration::from_secs(300))
            .unwrap();
    }
}
