//! Request limits per client id: a request budget per minute, and a lockout
//! after repeated failed token requests, both over sliding windows.
//!
//! On SQLite (one server) they are bookkeeping over `Instant`s in memory
//! ([`InMemory`]; a restart forgives). On PostgreSQL every server of a Site
//! counts in one UNLOGGED table, `client_limits`, by the database's clock,
//! so the budget and the lockout hold across servers (1.1): each check is
//! one upsert, which PostgreSQL serialises on the client's row.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use sqlx::AnyPool;

use crate::db::Dialect;
use crate::error::AppError;

/// The window of the per-minute budget.
pub const RATE_WINDOW: Duration = Duration::from_secs(60);
/// Failed token requests that lock a client id out.
pub const MAX_FAILURES: usize = 10;
/// The window those failures are counted in, and the lockout's length.
pub const FAILURE_WINDOW: Duration = Duration::from_secs(5 * 60);

/// The request limits of every client id, wherever they are counted.
pub struct Limits {
    per_minute: u32,
    counts: Counts,
}

enum Counts {
    Memory(InMemory),
    Shared(AnyPool),
}

/// What a row of `client_limits` counts.
#[derive(Clone, Copy)]
enum Kind {
    Requests = 0,
    Failures = 1,
}

impl Limits {
    /// Limits allowing `per_minute` requests a minute per client id,
    /// counted in this process (SQLite: the only server of its Sites).
    pub fn in_memory(per_minute: u32) -> Limits {
        Limits {
            per_minute,
            counts: Counts::Memory(InMemory::new(per_minute)),
        }
    }

    /// Limits counted in the database, shared by every server on it.
    pub fn shared(per_minute: u32, pool: AnyPool) -> Limits {
        Limits {
            per_minute,
            counts: Counts::Shared(pool),
        }
    }

    /// The limits for a server on `pool`: shared on PostgreSQL.
    pub fn for_pool(per_minute: u32, pool: &AnyPool) -> Limits {
        match Dialect::of(pool) {
            Dialect::Sqlite => Limits::in_memory(per_minute),
            Dialect::Postgres => Limits::shared(per_minute, pool.clone()),
        }
    }

    /// Counts one request of `client_id`; `RateLimited` when it is over the
    /// budget.
    pub async fn check_request(&self, client_id: &str) -> Result<(), AppError> {
        let refused = match &self.counts {
            Counts::Memory(memory) => memory.check_request(client_id, Instant::now()).err(),
            Counts::Shared(pool) => {
                shared_count(
                    pool,
                    client_id,
                    Kind::Requests,
                    RATE_WINDOW,
                    self.per_minute,
                )
                .await?
            }
        };
        refused.map_or(Ok(()), |retry_after| {
            Err(AppError::RateLimited { retry_after })
        })
    }

    /// `RateLimited` while `client_id` is locked out by failed token requests.
    pub async fn check_lockout(&self, client_id: &str) -> Result<(), AppError> {
        let refused = match &self.counts {
            Counts::Memory(memory) => memory.check_lockout(client_id, Instant::now()).err(),
            Counts::Shared(pool) => shared_lockout(pool, client_id).await?,
        };
        refused.map_or(Ok(()), |retry_after| {
            Err(AppError::RateLimited { retry_after })
        })
    }

    /// Records a failed token request of `client_id`.
    pub async fn record_failure(&self, client_id: &str) -> Result<(), AppError> {
        match &self.counts {
            Counts::Memory(memory) => {
                memory.record_failure(client_id, Instant::now());
                Ok(())
            }
            Counts::Shared(pool) => {
                // No budget: a failure is always recorded.
                shared_count(pool, client_id, Kind::Failures, FAILURE_WINDOW, u32::MAX)
                    .await
                    .map(|_| ())
            }
        }
    }
}

/// The database's clock, in milliseconds: every server counts by it.
const NOW_MS: &str = Dialect::Postgres.now_ms();

/// Adds a hit of `kind` for `client_id` unless `limit` hits are already in
/// the window: `Some(retry after, in seconds)` when it was refused. One
/// upsert: its `WHERE` sees the row as the last writer left it, so two
/// servers counting at once never both take the last place.
async fn shared_count(
    pool: &AnyPool,
    client_id: &str,
    kind: Kind,
    window: Duration,
    limit: u32,
) -> Result<Option<u64>, AppError> {
    let window_ms = window.as_millis() as i64;
    let counted: Option<i64> = sqlx::query_scalar(&format!(
        "INSERT INTO client_limits AS l (client_id, kind, hits, last_ms)
         SELECT $1, $2, ARRAY[now.ms], now.ms FROM (SELECT {NOW_MS} AS ms) AS now
         ON CONFLICT (client_id, kind) DO UPDATE
            SET hits = ARRAY(SELECT h FROM unnest(l.hits) AS h
                              WHERE h > excluded.last_ms - $3) || excluded.last_ms,
                last_ms = excluded.last_ms
          WHERE (SELECT COUNT(*) FROM unnest(l.hits) AS h
                  WHERE h > excluded.last_ms - $3) < $4
         RETURNING l.last_ms"
    ))
    .bind(client_id)
    .bind(kind as i16)
    .bind(window_ms)
    .bind(i64::from(limit))
    .fetch_optional(pool)
    .await?;
    if counted.is_some() {
        return Ok(None);
    }
    Ok(Some(
        shared_retry_after(pool, client_id, kind, window).await?,
    ))
}

/// `Some(retry after)` while `MAX_FAILURES` failures are in the window.
async fn shared_lockout(pool: &AnyPool, client_id: &str) -> Result<Option<u64>, AppError> {
    let failures: i64 = sqlx::query_scalar(&format!(
        "SELECT COUNT(*) FROM client_limits AS l, unnest(l.hits) AS h
          WHERE l.client_id = $1 AND l.kind = $2 AND h > {NOW_MS} - $3"
    ))
    .bind(client_id)
    .bind(Kind::Failures as i16)
    .bind(FAILURE_WINDOW.as_millis() as i64)
    .fetch_one(pool)
    .await?;
    if failures < MAX_FAILURES as i64 {
        return Ok(None);
    }
    Ok(Some(
        shared_retry_after(pool, client_id, Kind::Failures, FAILURE_WINDOW).await?,
    ))
}

/// Whole seconds until the oldest hit in the window leaves it (at least 1).
async fn shared_retry_after(
    pool: &AnyPool,
    client_id: &str,
    kind: Kind,
    window: Duration,
) -> Result<u64, AppError> {
    let window_ms = window.as_millis() as i64;
    let left_ms: Option<i64> = sqlx::query_scalar(&format!(
        "SELECT MIN(h) + $3 - {NOW_MS} FROM client_limits AS l, unnest(l.hits) AS h
          WHERE l.client_id = $1 AND l.kind = $2 AND h > {NOW_MS} - $3"
    ))
    .bind(client_id)
    .bind(kind as i16)
    .bind(window_ms)
    .fetch_one(pool)
    .await?;
    Ok(seconds_left(left_ms.unwrap_or(0)))
}

fn seconds_left(ms: i64) -> u64 {
    (ms.max(0) as u64).div_ceil(1000).max(1)
}

/// How often the rows of clients quiet for longer than every window go.
#[cfg(feature = "postgres")]
const PRUNE_EVERY: Duration = Duration::from_secs(60);

/// Deletes, every minute until `shutdown`, the `client_limits` rows of
/// clients with no hit inside any window (PostgreSQL only).
#[cfg(feature = "postgres")]
pub async fn prune(pool: AnyPool, shutdown: tokio_util::sync::CancellationToken) {
    loop {
        tokio::select! {
            _ = tokio::time::sleep(PRUNE_EVERY) => {}
            _ = shutdown.cancelled() => break,
        }
        let pruned = sqlx::query(&format!(
            "DELETE FROM client_limits WHERE last_ms < {NOW_MS} - $1"
        ))
        .bind(FAILURE_WINDOW.max(RATE_WINDOW).as_millis() as i64)
        .execute(&pool)
        .await;
        if let Err(error) = pruned {
            tracing::warn!(%error, "cannot prune the request limits");
        }
    }
}

/// The limits of every client id, counted in this process.
pub struct InMemory {
    per_minute: u32,
    requests: Mutex<HashMap<String, VecDeque<Instant>>>,
    failures: Mutex<HashMap<String, VecDeque<Instant>>>,
}

impl InMemory {
    /// Limits allowing `per_minute` requests a minute per client id.
    pub fn new(per_minute: u32) -> InMemory {
        InMemory {
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
        let limits = InMemory::new(3);
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
        let limits = InMemory::new(600);
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
