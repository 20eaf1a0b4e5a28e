//! Loading ended tasks into a Site's logs at once: the Demo Site's day of
//! history, and the tests' and benchmarks' logs of many rows. Multi-row
//! inserts in one transaction, numbered as the Site would have numbered
//! them.

/// One ended task for [`ended_tasks`]: its log row as the Site keeps it.
#[derive(Debug, Clone)]
pub struct EndedTask {
    /// Scan or audit.
    pub kind: site_api::TaskKind,
    /// What it acted on.
    pub target: site_api::Target,
    /// Its scope.
    pub scope: String,
    /// Who started it: an email, or `Schedule`.
    pub initiator: String,
    /// The schedule that fired it.
    pub schedule: Option<site_api::ObjectRef>,
    /// `finished`, `failed` or `cancelled`.
    pub status: site_api::TaskStatus,
    /// The Audit Service that ran it (none: cancelled while queued).
    pub audit_service: Option<site_api::ObjectRef>,
    /// When it entered the queue, started running and ended (Unix seconds).
    pub start_date: i64,
    /// When a slot took it.
    pub running_since: Option<i64>,
    /// When it ended.
    pub end_date: i64,
    /// Its error messages (the Errors count is their number).
    pub error_messages: Vec<String>,
    /// The administrator who cancelled it.
    pub cancelled_by: Option<String>,
}

/// Rows per multi-row `INSERT`: 18 bound values each, far under what
/// either store takes in one statement.
const ROWS_PER_INSERT: usize = 400;

/// Loads `tasks` (ended) into Site `site_id`'s logs in one transaction,
/// numbered after the Site's last numbers of each kind, in the order
/// given. Nothing enters the queue; the Site's event revision is not
/// moved (no client saw these tasks change).
pub async fn ended_tasks(
    pool: &sqlx::AnyPool,
    site_id: &str,
    tasks: &[EndedTask],
) -> Result<(), sqlx::Error> {
    day(pool, site_id, tasks, &[]).await
}

/// Puts one queue sample per `(minute, queued, running)` (Unix minutes) in
/// Site `site_id`'s history, over any already there for those minutes
/// (each minute once: PostgreSQL updates a row once per statement).
pub async fn queue_samples(
    pool: &sqlx::AnyPool,
    site_id: &str,
    samples: &[(i64, u64, u64)],
) -> Result<(), sqlx::Error> {
    day(pool, site_id, &[], samples).await
}

/// [`ended_tasks`] and [`queue_samples`] at once: one transaction, so one
/// commit (the Demo Site's day of history is loaded before its first
/// rows are shown).
pub async fn day(
    pool: &sqlx::AnyPool,
    site_id: &str,
    tasks: &[EndedTask],
    samples: &[(i64, u64, u64)],
) -> Result<(), sqlx::Error> {
    let dialect = crate::db::Dialect::of(pool);
    let mut tx = pool.begin().await?;
    sqlx::query("INSERT INTO sites (id) VALUES ($1) ON CONFLICT (id) DO NOTHING")
        .bind(site_id)
        .execute(&mut *tx)
        .await?;
    for kind in [site_api::TaskKind::Scan, site_api::TaskKind::Audit] {
        let of_kind: Vec<&EndedTask> = tasks.iter().filter(|t| t.kind == kind).collect();
        if of_kind.is_empty() {
            continue;
        }
        let last: Option<(i64,)> =
            sqlx::query_as("SELECT last FROM task_numbers WHERE site_id = $1 AND kind = $2")
                .bind(site_id)
                .bind(kind.as_str())
                .fetch_optional(&mut *tx)
                .await?;
        let first = last.map_or(0, |(last,)| last) + 1;
        for (c, chunk) in of_kind.chunks(ROWS_PER_INSERT).enumerate() {
            let mut insert = crate::db::Sql::new(
                dialect,
                "INSERT INTO tasks (site_id, kind, number, target_type, target_name, scope, initiator,
                                    schedule_id, schedule_name, status, audit_service_id, audit_service_name,
                                    running_since, start_date, end_date, errors, error_messages, cancelled_by)
                 VALUES ",
            );
            for (i, task) in chunk.iter().enumerate() {
                let number = first + (c * ROWS_PER_INSERT + i) as i64;
                let messages = serde_json::to_string(&task.error_messages)
                    .map_err(|e| sqlx::Error::Protocol(e.to_string()))?;
                insert.push_row(i, |row| {
                    row.bind(site_id.to_owned())
                        .bind(kind.as_str())
                        .bind(number)
                        .bind(task.target.target_type.as_str())
                        .bind(task.target.name.clone())
                        .bind(task.scope.clone())
                        .bind(task.initiator.clone())
                        .bind(task.schedule.as_ref().map(|s| s.id.clone()))
                        .bind(task.schedule.as_ref().map(|s| s.name.clone()))
                        .bind(task.status.as_str())
                        .bind(task.audit_service.as_ref().map(|s| s.id.clone()))
                        .bind(task.audit_service.as_ref().map(|s| s.name.clone()))
                        .bind(task.running_since)
                        .bind(task.start_date)
                        .bind(task.end_date)
                        .bind(task.error_messages.len() as i64)
                        .bind(messages)
                        .bind(task.cancelled_by.clone());
                });
            }
            insert.build().execute(&mut *tx).await?;
        }
        sqlx::query(
            "INSERT INTO task_numbers (site_id, kind, last) VALUES ($1, $2, $3)
             ON CONFLICT (site_id, kind) DO UPDATE SET last = excluded.last",
        )
        .bind(site_id)
        .bind(kind.as_str())
        .bind(first + of_kind.len() as i64 - 1)
        .execute(&mut *tx)
        .await?;
    }
    for chunk in samples.chunks(ROWS_PER_INSERT) {
        let mut insert = crate::db::Sql::new(
            dialect,
            "INSERT INTO queue_samples (site_id, minute, queued, running) VALUES ",
        );
        for (i, (minute, queued, running)) in chunk.iter().enumerate() {
            insert.push_row(i, |row| {
                row.bind(site_id.to_owned())
                    .bind(*minute)
                    .bind(*queued as i64)
                    .bind(*running as i64);
            });
        }
        insert.push(
            " ON CONFLICT (site_id, minute) DO UPDATE SET queued = excluded.queued, running = excluded.running",
        );
        insert.build().execute(&mut *tx).await?;
    }
    tx.commit().await
}
