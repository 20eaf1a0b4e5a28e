//! Leases of remote Audit Services: what is stored (`agent_leases`,
//! migration 0008) and what each service's runtime keeps of its current
//! or last lease, for `GET …/audit-services` and the events.

use std::sync::atomic::{AtomicI64, AtomicU32, Ordering};
use std::sync::Mutex;
use std::time::Duration;

use site_api::{AuditServiceState, Timestamp};
use sqlx::AnyPool;
use tokio::sync::watch;

use crate::config::AuditServiceConfig;
use crate::db;
use crate::error::AppError;

/// Milliseconds since the Unix epoch by the database's clock: lease times
/// are kept in these. Leases are written and compared in the database by
/// its own clock ([`db_now_ms`] in the writing transaction, or `now` in
/// the SQL itself), so servers whose clocks disagree still agree on when
/// a lease runs out; between readings this is the server's clock moved by
/// the offset last measured ([`sync_clock`]).
pub fn now_ms() -> i64 {
    local_ms() + CLOCK_OFFSET_MS.load(Ordering::Relaxed)
}

/// How far the database's clock is ahead of this server's (ms), as last
/// measured. One per process: a server has one database.
static CLOCK_OFFSET_MS: AtomicI64 = AtomicI64::new(0);

fn local_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

/// The database's clock now (ms), read on `connection`; also moves the
/// offset [`now_ms`] applies.
pub async fn db_now_ms(connection: &mut sqlx::AnyConnection) -> Result<i64, AppError> {
    let dialect = db::Dialect::of_connection(connection);
    let before = local_ms();
    let now: i64 = sqlx::query_scalar(&format!("SELECT {}", dialect.now_ms()))
        .fetch_one(&mut *connection)
        .await?;
    // SQLite runs in this process: its clock is this server's. Else the
    // reading was taken somewhere in the round trip: its middle.
    let offset = match dialect {
        db::Dialect::Sqlite => 0,
        db::Dialect::Postgres => now - (before + (local_ms() - before) / 2),
    };
    CLOCK_OFFSET_MS.store(offset, Ordering::Relaxed);
    Ok(now)
}

/// Measures the database's clock against this server's (every second, by
/// the monitor): the database's clock now (ms).
pub async fn sync_clock(pool: &AnyPool) -> Result<i64, AppError> {
    let mut connection = pool.acquire().await?;
    db_now_ms(&mut connection).await
}

fn to_ms(duration: Duration) -> i64 {
    i64::try_from(duration.as_millis()).unwrap_or(i64::MAX)
}

/// One lease as stored.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct LeaseRow {
    /// Its number: the attempt every report belongs to.
    pub id: i64,
    /// The agent's address as this server saw it.
    pub address: Option<String>,
    /// The agent's version.
    pub version: String,
    /// The agent process's own random id.
    pub instance: String,
    /// The most tasks the agent runs at once.
    pub slots: i64,
    /// When it was granted (ms).
    pub connected_at: i64,
    /// The last heartbeat (ms).
    pub last_heartbeat: i64,
    /// When it runs out without another heartbeat (ms).
    pub expires_at: i64,
    /// When it ended, if it has (ms).
    pub ended_at: Option<i64>,
}

impl LeaseRow {
    /// Live: not ended, and not run out at `now` (ms).
    pub fn is_live(&self, now: i64) -> bool {
        self.ended_at.is_none() && self.expires_at > now
    }

    /// The last heartbeat as a timestamp.
    pub fn last_heartbeat(&self) -> Option<Timestamp> {
        chrono::DateTime::from_timestamp_millis(self.last_heartbeat)
    }
}

const LEASE_COLUMNS: &str =
    "id, address, version, instance, slots, connected_at, last_heartbeat, expires_at, ended_at";

/// An end report waiting for the next group write, and who waits for it.
pub(crate) struct PendingEnd {
    pub holder: crate::lifecycle::Holder,
    pub slots: u32,
    pub end: crate::lifecycle::EndAndTake,
    pub reply: tokio::sync::oneshot::Sender<Result<EndResult, String>>,
}

/// What an end report did: the task as it ended (`None`: no longer the
/// lease's), and the tasks it took.
pub(crate) type EndResult = (Option<site_api::Task>, Vec<site_api::Task>);

/// What a remote Audit Service's runtime knows of its agent.
pub struct RemoteLink {
    /// End reports waiting for the next write (group commit).
    pub(crate) pending_ends: Mutex<Vec<PendingEnd>>,
    /// Held by whoever writes the waiting end reports.
    pub(crate) writing_ends: tokio::sync::Mutex<()>,
    lease: Mutex<Option<LeaseRow>>,
    /// Since when it has been offline, if no agent has joined since the server started.
    started: Timestamp,
    busy: AtomicU32,
    work: watch::Sender<u64>,
    lease_length: Duration,
}

impl RemoteLink {
    /// The link of `config`, with no agent yet.
    pub fn new(config: &AuditServiceConfig) -> RemoteLink {
        RemoteLink {
            pending_ends: Mutex::new(Vec::new()),
            writing_ends: tokio::sync::Mutex::new(()),
            lease: Mutex::new(None),
            started: db::now(),
            busy: AtomicU32::new(0),
            work: watch::Sender::new(0),
            lease_length: config.lease(),
        }
    }

    /// How long a lease lasts without a heartbeat.
    pub fn lease_length(&self) -> Duration {
        self.lease_length
    }

    /// The lease length in milliseconds.
    pub fn lease_ms(&self) -> i64 {
        to_ms(self.lease_length)
    }

    /// The current or last lease.
    pub fn lease(&self) -> Option<LeaseRow> {
        self.lease.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Keeps `row` as what is known of the lease, unless a newer lease is known.
    pub fn remember(&self, row: LeaseRow) {
        let mut lease = self.lease.lock().unwrap_or_else(|e| e.into_inner());
        if lease.as_ref().is_none_or(|known| known.id <= row.id) {
            if !row.is_live(now_ms()) {
                self.busy.store(0, Ordering::SeqCst);
            }
            *lease = Some(row);
        }
    }

    /// Marks lease `id` ended at `at` (ms), if it is the one known.
    pub fn forget(&self, id: i64, at: i64) {
        let mut lease = self.lease.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(known) = lease.as_mut().filter(|known| known.id == id) {
            known.ended_at.get_or_insert(at);
            self.busy.store(0, Ordering::SeqCst);
        }
        drop(lease);
        self.wake();
    }

    /// Online while a live lease is known.
    pub fn state(&self) -> AuditServiceState {
        match self.lease() {
            Some(lease) if lease.is_live(now_ms()) => AuditServiceState::Online,
            _ => AuditServiceState::Offline,
        }
    }

    /// Since when it has been offline, as the `audit_service_offline` signal says.
    pub fn offline_since(&self) -> Timestamp {
        self.lease()
            .and_then(|lease| lease.last_heartbeat())
            .unwrap_or(self.started)
    }

    /// Busy slots: the lease's running tasks, as last counted.
    pub fn busy(&self) -> u32 {
        match self.state() {
            AuditServiceState::Online => self.busy.load(Ordering::SeqCst),
            AuditServiceState::Offline => 0,
        }
    }

    /// Records how many tasks the lease runs.
    pub fn set_busy(&self, busy: usize) {
        self.busy
            .store(u32::try_from(busy).unwrap_or(u32::MAX), Ordering::SeqCst);
    }

    /// Wakes the agent's waiting poll: tasks were queued, one of its tasks
    /// was cancelled, or its lease ended.
    pub fn wake(&self) {
        self.work.send_modify(|n| *n = n.wrapping_add(1));
    }

    /// A receiver that sees every later [`RemoteLink::wake`].
    pub fn watch(&self) -> watch::Receiver<u64> {
        self.work.subscribe()
    }
}

/// The lease of `token_hash` on the given service, if any (live or not).
pub async fn find_by_token(
    pool: &AnyPool,
    site: &str,
    service: &str,
    token_hash: &str,
) -> Result<Option<LeaseRow>, AppError> {
    Ok(sqlx::query_as(&format!(
        "SELECT {LEASE_COLUMNS} FROM agent_leases
          WHERE token_hash = $1 AND site_id = $2 AND service_id = $3"
    ))
    .bind(token_hash)
    .bind(site)
    .bind(service)
    .fetch_optional(pool)
    .await?)
}

/// The newest lease of a service, live or not.
pub async fn latest(
    pool: &AnyPool,
    site: &str,
    service: &str,
) -> Result<Option<LeaseRow>, AppError> {
    Ok(sqlx::query_as(&format!(
        "SELECT {LEASE_COLUMNS} FROM agent_leases
          WHERE site_id = $1 AND service_id = $2 ORDER BY id DESC LIMIT 1"
    ))
    .bind(site)
    .bind(service)
    .fetch_optional(pool)
    .await?)
}

/// Why a lease was not granted.
#[derive(Debug)]
pub enum Refusal {
    /// Another agent holds a live lease.
    Held(LeaseRow),
    /// The same agent process holds a live lease it never received: end
    /// that one, then ask again.
    Superseded(LeaseRow),
}

/// What a new lease is for.
pub struct NewLease<'a> {
    /// The Site.
    pub site: &'a str,
    /// The service.
    pub service: &'a str,
    /// The hash of the session token.
    pub token_hash: &'a str,
    /// The agent's address.
    pub address: Option<String>,
    /// The agent's version.
    pub version: &'a str,
    /// The agent process's own random id.
    pub instance: &'a str,
    /// The most tasks it runs at once.
    pub slots: u32,
    /// How long it lasts without a heartbeat (ms).
    pub lease_ms: i64,
}

/// Grants a lease unless a live one is held, in one transaction that
/// holds the store's write lock (SQLite) or the Audit Service's lease row
/// lock (PostgreSQL, `agent_lease_locks`): of two agents racing, through
/// one server or two, one wins.
pub async fn open(
    pool: &AnyPool,
    new: NewLease<'_>,
) -> Result<Result<LeaseRow, Refusal>, AppError> {
    let dialect = crate::db::Dialect::of(pool);
    let mut tx = pool.begin_with(dialect.begin_write()).await?;
    if dialect == crate::db::Dialect::Postgres {
        sqlx::query(
            "INSERT INTO agent_lease_locks (site_id, service_id) VALUES ($1, $2)
             ON CONFLICT (site_id, service_id) DO UPDATE SET site_id = excluded.site_id",
        )
        .bind(new.site)
        .bind(new.service)
        .execute(&mut *tx)
        .await?;
    }
    let now = db_now_ms(&mut tx).await?;
    let held: Option<LeaseRow> = sqlx::query_as(&format!(
        "SELECT {LEASE_COLUMNS} FROM agent_leases
          WHERE site_id = $1 AND service_id = $2 AND ended_at IS NULL AND expires_at > $3
          ORDER BY id DESC LIMIT 1"
    ))
    .bind(new.site)
    .bind(new.service)
    .bind(now)
    .fetch_optional(&mut *tx)
    .await?;
    if let Some(held) = held {
        if held.instance != new.instance {
            return Ok(Err(Refusal::Held(held)));
        }
        // The same agent again: its earlier answer was lost on the way.
        // That lease never reached it, so it ran nothing under it.
        tx.rollback().await?;
        return Ok(Err(Refusal::Superseded(held)));
    }
    let row: LeaseRow = sqlx::query_as(&format!(
        "INSERT INTO agent_leases (site_id, service_id, token_hash, address, version, instance,
                                   slots, connected_at, last_heartbeat, expires_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
         RETURNING {LEASE_COLUMNS}"
    ))
    .bind(new.site)
    .bind(new.service)
    .bind(new.token_hash)
    .bind(&new.address)
    .bind(new.version)
    .bind(new.instance)
    .bind(i64::from(new.slots))
    .bind(now)
    .bind(now)
    .bind(now.saturating_add(new.lease_ms))
    .fetch_one(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(Ok(row))
}

/// Renews live lease `id` for `lease_ms` from now: the renewed row, or
/// `None` if it has ended or run out (a heartbeat cannot revive it).
pub async fn renew(pool: &AnyPool, id: i64, lease_ms: i64) -> Result<Option<LeaseRow>, AppError> {
    let now = db::Dialect::of(pool).now_ms();
    Ok(sqlx::query_as(&format!(
        "UPDATE agent_leases SET last_heartbeat = {now}, expires_at = {now} + $1
          WHERE id = $2 AND ended_at IS NULL AND expires_at > {now}
         RETURNING {LEASE_COLUMNS}"
    ))
    .bind(lease_ms)
    .bind(id)
    .fetch_optional(pool)
    .await?)
}

/// At start: every live lease of the service gets a whole lease from now,
/// so an agent that was cut off by the restart has the lease's length,
/// counted from the server's start, to come back.
pub async fn extend_from_start(
    pool: &AnyPool,
    site: &str,
    service: &str,
    lease_ms: i64,
) -> Result<(), AppError> {
    let dialect = crate::db::Dialect::of(pool);
    let (greatest, now) = (dialect.greatest(), dialect.now_ms());
    sqlx::query(&format!(
        "UPDATE agent_leases SET expires_at = {greatest}(expires_at, {now} + $1)
          WHERE site_id = $2 AND service_id = $3 AND ended_at IS NULL"
    ))
    .bind(lease_ms)
    .bind(site)
    .bind(service)
    .execute(pool)
    .await?;
    Ok(())
}

/// Leases of the Site not ended by `now` (ms) that belong to a service
/// `keep` refuses (no longer remote, or gone), or that ran out: `(id, service)`.
pub async fn to_end(
    pool: &AnyPool,
    site: &str,
    now: i64,
    keep: impl Fn(&str) -> bool,
) -> Result<Vec<(i64, String, bool)>, AppError> {
    let rows: Vec<(i64, String, i64)> = sqlx::query_as(
        "SELECT id, service_id, expires_at FROM agent_leases
          WHERE site_id = $1 AND ended_at IS NULL",
    )
    .bind(site)
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .filter_map(|(id, service, expires_at)| {
            let kept = keep(&service);
            (!kept || expires_at <= now).then_some((id, service, kept))
        })
        .collect())
}
