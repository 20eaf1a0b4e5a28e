//! Reading lists: the Active tasks page (keyset-paged, newest first) and log pages.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde::Deserialize;
use site_api::{
    ActiveTasksPage, LogPage, StatusCounts, TaskKind, TaskStatus, DEFAULT_PAGE_LIMIT,
    MAX_PAGE_LIMIT,
};
use sqlx::SqlitePool;

use crate::db::{kind_column, status_column, TaskRow, TASK_COLUMNS};
use crate::error::AppError;
use crate::state::SiteRuntime;

/// The query string of `GET …/active-tasks` as sent.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ActiveTasksParams {
    limit: Option<String>,
    cursor: Option<String>,
}

/// A validated Active tasks query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActiveTasksQuery {
    /// Page size, 1..=1000.
    pub limit: u32,
    /// Where the previous page ended.
    pub cursor: Option<Cursor>,
}

impl TryFrom<ActiveTasksParams> for ActiveTasksQuery {
    type Error = AppError;

    fn try_from(params: ActiveTasksParams) -> Result<Self, AppError> {
        Ok(ActiveTasksQuery {
            limit: parse_limit(params.limit.as_deref())?,
            cursor: params.cursor.as_deref().map(Cursor::decode).transpose()?,
        })
    }
}

fn parse_limit(text: Option<&str>) -> Result<u32, AppError> {
    let Some(text) = text else {
        return Ok(DEFAULT_PAGE_LIMIT);
    };
    match text.parse::<u32>() {
        Ok(limit) if (1..=MAX_PAGE_LIMIT).contains(&limit) => Ok(limit),
        _ => Err(AppError::InvalidRequest(format!(
            "limit must be a whole number from 1 to {MAX_PAGE_LIMIT}"
        ))),
    }
}

/// The last row of a page in the default order (start date, number, kind,
/// all descending): the next page starts strictly after it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cursor {
    start_date: i64,
    number: i64,
    kind: TaskKind,
}

impl Cursor {
    /// The opaque text handed to clients.
    pub fn encode(&self) -> String {
        URL_SAFE_NO_PAD.encode(format!(
            "v1:{}:{}:{}",
            self.start_date, self.number, self.kind
        ))
    }

    /// Parses what [`Cursor::encode`] made; anything else is a 400.
    pub fn decode(text: &str) -> Result<Cursor, AppError> {
        let invalid = || AppError::InvalidRequest("the cursor is not valid".to_owned());
        let bytes = URL_SAFE_NO_PAD.decode(text).map_err(|_| invalid())?;
        let text = String::from_utf8(bytes).map_err(|_| invalid())?;
        let mut parts = text.split(':');
        if parts.next() != Some("v1") {
            return Err(invalid());
        }
        let start_date = parts
            .next()
            .and_then(|p| p.parse().ok())
            .ok_or_else(invalid)?;
        let number = parts
            .next()
            .and_then(|p| p.parse().ok())
            .ok_or_else(invalid)?;
        let kind = parts
            .next()
            .and_then(|p| p.parse().ok())
            .ok_or_else(invalid)?;
        if parts.next().is_some() {
            return Err(invalid());
        }
        Ok(Cursor {
            start_date,
            number,
            kind,
        })
    }
}

/// One page of the Site's active tasks, newest first, read from one snapshot.
pub async fn active_tasks(
    pool: &SqlitePool,
    site: &SiteRuntime,
    query: &ActiveTasksQuery,
) -> Result<ActiveTasksPage, AppError> {
    let queued = status_column(TaskStatus::Queued);
    let running = status_column(TaskStatus::Running);
    // One read transaction: revision, counts and rows agree.
    let mut tx = pool.begin().await?;
    let revision: i64 = sqlx::query_scalar("SELECT revision FROM sites WHERE id = ?")
        .bind(site.id())
        .fetch_one(&mut *tx)
        .await?;
    let (n_queued, n_running): (i64, i64) = sqlx::query_as(
        "SELECT COALESCE(SUM(status = ?), 0), COALESCE(SUM(status = ?), 0)
           FROM tasks WHERE site_id = ? AND status IN (?, ?)",
    )
    .bind(queued)
    .bind(running)
    .bind(site.id())
    .bind(queued)
    .bind(running)
    .fetch_one(&mut *tx)
    .await?;
    let (after_date, after_number, after_kind) = match query.cursor {
        Some(cursor) => (cursor.start_date, cursor.number, kind_column(cursor.kind)),
        // Past every real row: the first page.
        None => (i64::MAX, i64::MAX, "~"),
    };
    let mut rows: Vec<TaskRow> = sqlx::query_as(&format!(
        "SELECT {TASK_COLUMNS} FROM tasks
          WHERE site_id = ? AND status IN (?, ?)
            AND (start_date, number, kind) < (?, ?, ?)
          ORDER BY start_date DESC, number DESC, kind DESC
          LIMIT ?"
    ))
    .bind(site.id())
    .bind(queued)
    .bind(running)
    .bind(after_date)
    .bind(after_number)
    .bind(after_kind)
    .bind(i64::from(query.limit) + 1)
    .fetch_all(&mut *tx)
    .await?;
    tx.commit().await?;
    let has_more = rows.len() > query.limit as usize;
    rows.truncate(query.limit as usize);
    let tasks = rows
        .iter()
        .map(|row| row.to_task(site.failed_label()))
        .collect::<Result<Vec<_>, _>>()?;
    let next_cursor = match (has_more, tasks.last()) {
        (true, Some(last)) => Some(
            Cursor {
                start_date: last.start_date.timestamp(),
                number: last.number as i64,
                kind: last.kind,
            }
            .encode(),
        ),
        _ => None,
    };
    let counts = StatusCounts {
        queued: n_queued as u64,
        running: n_running as u64,
    };
    Ok(ActiveTasksPage {
        tasks,
        next_cursor,
        total: counts.queued + counts.running,
        counts,
        revision: revision as u64,
    })
}

/// The query string of a log list as sent.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogParams {
    limit: Option<String>,
}

/// The newest log rows of one kind, newest `end_date` first.
pub async fn log_entries(
    pool: &SqlitePool,
    site: &SiteRuntime,
    kind: TaskKind,
    params: &LogParams,
) -> Result<LogPage, AppError> {
    let limit = parse_limit(params.limit.as_deref())?;
    let rows: Vec<TaskRow> = sqlx::query_as(&format!(
        "SELECT {TASK_COLUMNS} FROM tasks
          WHERE site_id = ? AND kind = ? AND end_date IS NOT NULL
          ORDER BY end_date DESC, number DESC
          LIMIT ?"
    ))
    .bind(site.id())
    .bind(kind_column(kind))
    .bind(i64::from(limit))
    .fetch_all(pool)
    .await?;
    let entries = rows
        .iter()
        .map(|row| row.to_log_entry(site.failed_label()))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(LogPage {
        entries,
        next_cursor: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_reject_garbage() {
        let cursor = Cursor {
            start_date: 1_764_321_243,
            number: 1042,
            kind: TaskKind::Audit,
        };
        assert_eq!(Cursor::decode(&cursor.encode()).unwrap(), cursor);
        for bad in [
            "",
            "!!",
            "djE6MTox",
            "eDox",
            &URL_SAFE_NO_PAD.encode("v1:1:2:job"),
        ] {
            assert!(Cursor::decode(bad).is_err(), "{bad:?} decoded");
        }
    }

    #[test]
    fn limits_are_bounded() {
        assert_eq!(parse_limit(None).unwrap(), 200);
        assert_eq!(parse_limit(Some("1000")).unwrap(), 1000);
        for bad in ["0", "1001", "-1", "ten", ""] {
            assert!(parse_limit(Some(bad)).is_err(), "{bad:?} accepted");
        }
    }
}
