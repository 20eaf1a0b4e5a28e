//! The store: opening the database (SQLite under `data_dir`, or a shared
//! PostgreSQL database), and the one place where rows and columns map to
//! the contract's types (statuses, kinds and times included).
//!
//! Every query goes through sqlx's `Any` driver and is written once, in
//! the SQL both stores take; [`Dialect`] spells the few terms that differ,
//! and [`Sql`] builds the queries made at run time.

mod dialect;
mod sql;

use std::path::Path;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use site_api::{
    Initiator, LogEntry, ObjectRef, Progress, Target, TargetType, Task, TaskId, TaskKind,
    TaskStatus, Timestamp,
};
use sqlx::any::AnyPoolOptions;
use sqlx::migrate::Migrator;
use sqlx::{AnyPool, Executor};

pub use dialect::Dialect;
pub use sql::{Row, Sql};

use crate::config::{FailedLabel, Store};
use crate::error::{AppError, StartError};

/// The database: a pool of connections to either store.
pub type Pool = AnyPool;

static SQLITE_MIGRATIONS: Migrator = sqlx::migrate!("./migrations/sqlite");
#[cfg(feature = "postgres")]
static POSTGRES_MIGRATIONS: Migrator = sqlx::migrate!("./migrations/postgres");

/// Opens `store` and migrates it.
///
/// SQLite: `data_dir/site.db`, created if needed, in WAL mode. PostgreSQL:
/// the schema is created and migrated once, however many servers start at
/// the same moment (sqlx's migrator holds an advisory lock meanwhile).
pub async fn open(store: &Store) -> Result<Pool, StartError> {
    match store {
        Store::Sqlite(data_dir) => open_sqlite(data_dir).await,
        #[cfg(feature = "postgres")]
        Store::Postgres(url) => open_postgres(url).await,
    }
}

/// Opens (creating if needed) `data_dir/site.db` and migrates it.
pub async fn open_sqlite(data_dir: &Path) -> Result<Pool, StartError> {
    sqlx::any::install_default_drivers();
    std::fs::create_dir_all(data_dir).map_err(|source| StartError::DataDir {
        path: data_dir.to_owned(),
        source,
    })?;
    let url = sqlite_url(&data_dir.join("site.db"))?;
    let pool = AnyPoolOptions::new()
        .max_connections(8)
        .after_connect(|connection, _| {
            Box::pin(async move {
                // FULL: a committed transition survives power loss, not only a crash.
                connection
                    .execute(
                        "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL;
                         PRAGMA busy_timeout = 10000; PRAGMA foreign_keys = ON;",
                    )
                    .await?;
                Ok(())
            })
        })
        .connect(url.as_str())
        .await?;
    SQLITE_MIGRATIONS.run(&pool).await?;
    Ok(pool)
}

/// The `sqlite://` URL of the database file `path`, created if missing.
fn sqlite_url(path: &Path) -> Result<String, StartError> {
    let path = std::path::absolute(path).map_err(|source| StartError::DataDir {
        path: path.to_owned(),
        source,
    })?;
    let text = path.to_string_lossy().replace('\\', "/");
    // Percent-encoded, so that `?`, `#` or `%` in a folder's name stay in it.
    let encoded: String = text
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'/' | b'-' | b'_' | b'.' | b'~' | b':' => {
                char::from(b).to_string()
            }
            b => format!("%{b:02X}"),
        })
        .collect();
    // `sqlite:PATH`, not `sqlite://PATH`: a URL parser would take a
    // Windows drive (`C:`) for a host.
    Ok(format!("sqlite:{encoded}?mode=rwc"))
}

/// Connects to the PostgreSQL database at `url` and migrates it.
#[cfg(feature = "postgres")]
async fn open_postgres(url: &str) -> Result<Pool, StartError> {
    sqlx::any::install_default_drivers();
    let pool = AnyPoolOptions::new()
        .max_connections(16)
        .acquire_timeout(std::time::Duration::from_secs(10))
        .connect(url)
        .await
        .map_err(|source| StartError::Connect {
            url: crate::config::redact_password(url),
            source,
        })?;
    POSTGRES_MIGRATIONS.run(&pool).await?;
    Ok(pool)
}

/// Seconds since the Unix epoch, as stored.
pub fn to_db_time(time: Timestamp) -> i64 {
    time.timestamp()
}

/// The stored seconds back as a timestamp.
pub fn from_db_time(seconds: i64) -> Result<Timestamp, AppError> {
    DateTime::<Utc>::from_timestamp(seconds, 0)
        .ok_or_else(|| AppError::Internal(format!("stored time {seconds} is out of range")))
}

/// Now by the database's clock (this server's, moved by the offset last
/// measured: [`crate::remote::lease::sync_clock`]), truncated to whole
/// seconds as the database keeps it. Every time a server stamps (a task's
/// dates, a token's expiry, a schedule's next run) is by this clock, so the
/// servers of a Site agree whatever their own clocks say.
pub fn now() -> Timestamp {
    from_db_time(crate::remote::now_ms().div_euclid(1000)).unwrap_or_else(|_| Utc::now())
}

/// A stored enum column back as its type.
pub fn parse_column<T: FromStr>(column: &str, value: &str) -> Result<T, AppError> {
    value
        .parse()
        .map_err(|_| AppError::Internal(format!("stored {column} {value:?} is not valid")))
}

/// The SQL term selecting active tasks, written exactly as the partial
/// indexes' `WHERE` (migrations/0001) so that SQLite can use them: a bound
/// parameter in its place would hide the match from the query planner.
pub const ACTIVE_PREDICATE: &str = "status IN ('queued', 'running')";

/// Every column of a `tasks` row, for `SELECT {TASK_COLUMNS} FROM tasks`.
pub const TASK_COLUMNS: &str = "seq, kind, number, target_type, target_name, scope, initiator, \
     schedule_id, schedule_name, status, audit_service_id, audit_service_name, running_since, \
     progress_done, progress_total, start_date, end_date, errors, error_messages, cancelled_by, \
     simulate";

/// A `tasks` row as stored.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct TaskRow {
    seq: i64,
    kind: String,
    number: i64,
    target_type: String,
    target_name: String,
    scope: String,
    initiator: String,
    schedule_id: Option<String>,
    schedule_name: Option<String>,
    status: String,
    audit_service_id: Option<String>,
    audit_service_name: Option<String>,
    running_since: Option<i64>,
    progress_done: Option<i64>,
    progress_total: Option<i64>,
    start_date: i64,
    end_date: Option<i64>,
    errors: i64,
    error_messages: String,
    cancelled_by: Option<String>,
    /// The `simulate` spec as JSON, for simulated Audit Services.
    pub simulate: Option<String>,
}

impl TaskRow {
    /// Its place in the queue: start date, then insertion order.
    pub fn fifo_key(&self) -> (i64, i64) {
        (self.start_date, self.seq)
    }

    /// The task's id.
    pub fn id(&self) -> Result<TaskId, AppError> {
        Ok(TaskId::new(
            parse_column("kind", &self.kind)?,
            to_u64("number", self.number)?,
        ))
    }

    /// What the task counts as among active tasks: kind, stored status and target type.
    pub fn count_key(&self) -> Result<(TaskKind, TaskStatus, TargetType), AppError> {
        Ok((
            parse_column("kind", &self.kind)?,
            parse_column("status", &self.status)?,
            parse_column("target_type", &self.target_type)?,
        ))
    }

    /// True if and only if an Audit Service had picked the task up.
    pub fn was_picked_up(&self) -> bool {
        self.running_since.is_some()
    }

    /// The task as the contract shows it on a Site with `failed_label`.
    pub fn to_task(&self, failed_label: FailedLabel) -> Result<Task, AppError> {
        let id = self.id()?;
        let status = wire_status(parse_column("status", &self.status)?, failed_label);
        let target_type: TargetType = parse_column("target_type", &self.target_type)?;
        let schedule = match (&self.schedule_id, &self.schedule_name) {
            (Some(id), Some(name)) => Some(ObjectRef {
                id: id.clone(),
                name: name.clone(),
            }),
            _ => None,
        };
        let audit_service = match (&self.audit_service_id, &self.audit_service_name) {
            (Some(id), Some(name)) => Some(ObjectRef {
                id: id.clone(),
                name: name.clone(),
            }),
            _ => None,
        };
        let progress = match (self.progress_done, self.progress_total) {
            (Some(done), Some(total)) => Some(Progress {
                done: to_u64("progress_done", done)?,
                total: to_u64("progress_total", total)?,
            }),
            _ => None,
        };
        Ok(Task {
            id,
            kind: id.kind,
            number: id.number,
            label: id.label(),
            target: Target {
                target_type,
                name: self.target_name.clone(),
            },
            start_date: from_db_time(self.start_date)?,
            scope: self.scope.clone(),
            initiator: Initiator::from(self.initiator.as_str()),
            schedule,
            status,
            audit_service,
            running_since: self.running_since.map(from_db_time).transpose()?,
            progress,
            end_date: self.end_date.map(from_db_time).transpose()?,
            errors: to_u64("errors", self.errors)?,
        })
    }

    /// The Scan-log or Audit-log row of a terminal task.
    pub fn to_log_entry(&self, failed_label: FailedLabel) -> Result<LogEntry, AppError> {
        let error_messages: Vec<String> = serde_json::from_str(&self.error_messages)
            .map_err(|e| AppError::Internal(format!("stored error messages: {e}")))?;
        Ok(LogEntry {
            task: self.to_task(failed_label)?,
            error_messages,
            cancelled_by: self.cancelled_by.clone(),
        })
    }
}

/// A stored status as a Site with `failed_label` reports it.
pub fn wire_status(status: TaskStatus, failed_label: FailedLabel) -> TaskStatus {
    match (status, failed_label) {
        (TaskStatus::Failed, FailedLabel::Finished) => TaskStatus::Finished,
        (status, _) => status,
    }
}

fn to_u64(column: &str, value: i64) -> Result<u64, AppError> {
    u64::try_from(value)
        .map_err(|_| AppError::Internal(format!("stored {column} {value} is negative")))
}

/// The stored text of a kind.
pub fn kind_column(kind: TaskKind) -> &'static str {
    kind.as_str()
}

/// The stored text of a status.
pub fn status_column(status: TaskStatus) -> &'static str {
    status.as_str()
}
