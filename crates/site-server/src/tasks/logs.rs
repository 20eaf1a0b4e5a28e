//! The Scan log and the Audit log: terminal tasks, newest `end_date` first,
//! keyset-paged.

use site_api::{LogPage, LogQuery, TaskKind, TaskStatus};
use sqlx::AnyPool;

use super::cursor;
use super::filter::{push_in_list, push_initiator};
use super::search::{push_search, Search};
use crate::db::{kind_column, status_column, Dialect, Sql, TaskRow, TASK_COLUMNS};
use crate::error::AppError;
use crate::state::SiteRuntime;

/// Log rows of one kind, newest `end_date` first, keyset-paged.
pub async fn log_entries(
    pool: &AnyPool,
    site: &SiteRuntime,
    kind: TaskKind,
    query: &LogQuery,
) -> Result<LogPage, AppError> {
    // Where the previous page ended: its last row's end date and number.
    let position: Option<(i64, i64)> = query.cursor.as_deref().map(cursor::decode).transpose()?;
    let limit = query.limit.get();
    let mut connection = pool.acquire().await?;
    let search = Search::plan(&mut connection, query.q.as_deref()).await?;
    let search = search.as_ref();
    let dialect = Dialect::of(pool);
    let mut sql = Sql::new(dialect, format!("SELECT {TASK_COLUMNS}"));
    sql.push(Search::from_tasks(dialect, search));
    sql.push(" WHERE site_id = ")
        .push_bind(site.id().to_owned())
        .push(" AND kind = ")
        .push_bind(kind_column(kind))
        .push(" AND end_date IS NOT NULL");
    if !query.statuses.is_empty() {
        // Filter on the status as this Site reports it.
        // None at all for e.g. `failed` on a Site that labels failures `finished`.
        let stored = [
            TaskStatus::Finished,
            TaskStatus::Cancelled,
            TaskStatus::Failed,
        ]
        .into_iter()
        .filter(|status| query.statuses.contains(&site.wire_status(*status)));
        push_in_list(&mut sql, "status", stored.map(status_column));
    }
    push_initiator(&mut sql, query.initiator.as_deref());
    push_search(&mut sql, search);
    match query.has_errors {
        Some(true) => {
            sql.push(" AND errors > 0");
        }
        Some(false) => {
            sql.push(" AND errors = 0");
        }
        None => {}
    }
    if let Some(since) = query.since {
        sql.push(" AND end_date >= ")
            .push_bind(super::filter::seconds_up(since));
    }
    if let Some(until) = query.until {
        sql.push(" AND end_date <= ").push_bind(until.timestamp());
    }
    if let Some((end_date, number)) = position {
        sql.push(" AND (end_date, number) < (")
            .push_bind(end_date)
            .push(", ")
            .push_bind(number)
            .push(")");
    }
    sql.push(" ORDER BY end_date DESC, number DESC LIMIT ")
        .push_bind(i64::from(limit) + 1);
    let mut rows: Vec<TaskRow> = sql.build_query_as().fetch_all(&mut *connection).await?;
    let has_more = rows.len() > limit as usize;
    rows.truncate(limit as usize);
    let entries = rows
        .iter()
        .map(|row| row.to_log_entry(site.failed_label()))
        .collect::<Result<Vec<_>, _>>()?;
    let next_cursor = match (has_more, entries.last()) {
        (true, Some(last)) => {
            let end_date = last
                .task
                .end_date
                .map(|t| t.timestamp())
                .unwrap_or_default();
            Some(cursor::encode(&(end_date, last.task.number as i64)))
        }
        _ => None,
    };
    Ok(LogPage {
        entries,
        next_cursor,
    })
}
