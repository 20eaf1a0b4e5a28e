//! Bulk-loading a Site's database with queued tasks, for benchmarks of a
//! large queue (the server's and the desktop window's). One transaction of
//! plain inserts: 100,000 tasks take a few seconds, where creating them
//! through the API would take minutes.

use std::path::Path;

use crate::config::Store;

/// Puts `count` queued tasks on Site `site_id` in the database under
/// `data_dir` (created if needed), the newest starting now, and sets the
/// Site's counters (and kept counts) to match. Scans and audits alternate (one in three an
/// audit); targets are mostly devices `WS-00000`… (one in ten a segment,
/// one in fifty a cloud resource); 50 scopes; a quarter come from schedules.
pub async fn queued_tasks(data_dir: &Path, site_id: &str, count: usize) -> Result<(), sqlx::Error> {
    queued_tasks_in(&Store::Sqlite(data_dir.to_owned()), site_id, count).await
}

/// [`queued_tasks`] in either store.
pub async fn queued_tasks_in(
    store: &Store,
    site_id: &str,
    count: usize,
) -> Result<(), sqlx::Error> {
    let pool = crate::db::open(store)
        .await
        .map_err(|e| sqlx::Error::Protocol(e.to_string()))?;
    let mut tx = pool.begin().await?;
    sqlx::query("INSERT INTO sites (id) VALUES ($1) ON CONFLICT (id) DO NOTHING")
        .bind(site_id)
        .execute(&mut *tx)
        .await?;
    let now = chrono::Utc::now().timestamp();
    for i in 0..count {
        let kind = if i % 3 == 0 { "audit" } else { "scan" };
        sqlx::query(
            "INSERT INTO tasks (site_id, kind, number, target_type, target_name, scope, initiator, status, start_date)
             VALUES ($1, $2, $3, $4, $5, $6, $7, 'queued', $8)",
        )
        .bind(site_id)
        .bind(kind)
        .bind(i as i64 + 1)
        .bind(match i % 50 {
            0 => "cloud_resource",
            n if n % 10 == 5 => "segment",
            _ => "device",
        })
        .bind(format!("WS-{:05}", i % 20_000))
        .bind(format!("Segment {}", i % 50))
        .bind(if i % 4 == 0 {
            "Schedule".to_owned()
        } else {
            format!("user{}@example.com", i % 30)
        })
        .bind(now - (count - i) as i64)
        .execute(&mut *tx)
        .await?;
    }
    sqlx::query(
        "INSERT INTO task_numbers (site_id, kind, last) VALUES ($1, 'scan', $2), ($3, 'audit', $4)
         ON CONFLICT (site_id, kind) DO UPDATE SET last = excluded.last",
    )
    .bind(site_id)
    .bind(count as i64)
    .bind(site_id)
    .bind(count as i64)
    .execute(&mut *tx)
    .await?;
    // The kept counts, as the state machine would have moved them.
    sqlx::query("DELETE FROM active_counts WHERE site_id = $1")
        .bind(site_id)
        .execute(&mut *tx)
        .await?;
    sqlx::query(
        "INSERT INTO active_counts (site_id, kind, status, target_type, n)
         SELECT site_id, kind, status, target_type, COUNT(*) FROM tasks
          WHERE site_id = $1 AND status IN ('queued', 'running')
          GROUP BY site_id, kind, status, target_type",
    )
    .bind(site_id)
    .execute(&mut *tx)
    .await?;
    sqlx::query("UPDATE sites SET queued = $1, revision = $2 WHERE id = $3")
        .bind(count as i64)
        .bind(count as i64)
        .bind(site_id)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    if crate::db::Dialect::of(&pool) == crate::db::Dialect::Postgres {
        // What autovacuum soon does after a bulk load: the planner sees the
        // new rows, and the visibility map lets counts read indexes alone
        // (index-only scans), as they do on a Site that has been running.
        sqlx::query("VACUUM (ANALYZE) tasks").execute(&pool).await?;
    }
    pool.close().await;
    Ok(())
}

/// Puts `count` failed scans (one error each, ended over the last hour)
/// in Site `site_id`'s Scan log, in the SQLite database under `data_dir`:
/// targets `WS-F00000`…, scope `Segment {i % 10}`.
pub async fn failed_scans(data_dir: &Path, site_id: &str, count: usize) -> Result<(), sqlx::Error> {
    let pool = crate::db::open(&Store::Sqlite(data_dir.to_owned()))
        .await
        .map_err(|e| sqlx::Error::Protocol(e.to_string()))?;
    let now = chrono::Utc::now().timestamp();
    let tasks: Vec<crate::history::EndedTask> = (0..count)
        .map(|i| {
            let end = now - 3_600 + (i as i64 * 3_600) / count.max(1) as i64;
            crate::history::EndedTask {
                kind: site_api::TaskKind::Scan,
                target: site_api::Target {
                    target_type: site_api::TargetType::Device,
                    name: format!("WS-F{i:05}"),
                },
                scope: format!("Segment {}", i % 10),
                initiator: "Schedule".to_owned(),
                schedule: None,
                status: site_api::TaskStatus::Failed,
                audit_service: None,
                start_date: end - 120,
                running_since: Some(end - 60),
                end_date: end,
                error_messages: vec!["the target did not answer".to_owned()],
                cancelled_by: None,
            }
        })
        .collect();
    let loaded = crate::history::ended_tasks(&pool, site_id, &tasks).await;
    pool.close().await;
    loaded
}
