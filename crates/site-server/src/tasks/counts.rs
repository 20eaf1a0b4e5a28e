//! How many active tasks match a filter, exactly, without reading more
//! than needed: filters of status, kind and target type alone are summed
//! from the kept `active_counts` rows (migration 0007: at most twelve per
//! Site, moved by the state machine in the same transaction as each
//! change); any other filter is counted over the index of its most
//! selective part, so the count reads the tasks of one scope, one
//! initiator, a date range or the running ones, not the queue.

use site_api::{TargetType, TaskFilter, TaskKind, TaskStatus};
use sqlx::AnyConnection;

use super::filter::{finding_index, is_counted, push_filters};
use super::search::Search;
use crate::db::{parse_column, Dialect, Sql};
use crate::error::AppError;
use crate::state::SiteRuntime;

/// One kept count: the active tasks of a kind, status and target type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeptCount {
    /// Their kind.
    pub kind: TaskKind,
    /// Their status (queued or running).
    pub status: TaskStatus,
    /// Their target type.
    pub target_type: TargetType,
    /// How many.
    pub n: u64,
}

impl KeptCount {
    /// True if and only if these tasks pass `filter` (which [`is_counted`]).
    pub fn passes(&self, filter: &TaskFilter) -> bool {
        (filter.statuses.is_empty() || filter.statuses.contains(&self.status))
            && (filter.kinds.is_empty() || filter.kinds.contains(&self.kind))
            && (filter.target_types.is_empty() || filter.target_types.contains(&self.target_type))
    }
}

/// The Site's kept counts.
pub async fn kept_counts(
    connection: &mut AnyConnection,
    site: &SiteRuntime,
) -> Result<Vec<KeptCount>, AppError> {
    let rows: Vec<(String, String, String, i64)> = sqlx::query_as(
        "SELECT kind, status, target_type, n FROM active_counts WHERE site_id = $1 AND n > 0",
    )
    .bind(site.id())
    .fetch_all(&mut *connection)
    .await?;
    rows.into_iter()
        .map(|(kind, status, target_type, n)| {
            Ok(KeptCount {
                kind: parse_column("kind", &kind)?,
                status: parse_column("status", &status)?,
                target_type: parse_column("target_type", &target_type)?,
                n: n.max(0) as u64,
            })
        })
        .collect()
}

/// The number of the Site's active tasks matching `filter` (the search
/// as `search` planned it).
pub async fn count_matching(
    connection: &mut AnyConnection,
    site: &SiteRuntime,
    filter: &TaskFilter,
    search: Option<&Search>,
) -> Result<u64, AppError> {
    if is_counted(filter) {
        let kept = kept_counts(connection, site).await?;
        return Ok(kept.iter().filter(|c| c.passes(filter)).map(|c| c.n).sum());
    }
    let dialect = Dialect::of_connection(connection);
    let mut count = Sql::new(dialect, "SELECT COUNT(*)");
    count.push(from_matching(dialect, filter, search));
    push_filters(&mut count, site, filter, search);
    let total: i64 = count
        .build_query_scalar()
        .fetch_one(&mut *connection)
        .await?;
    Ok(total.max(0) as u64)
}

/// The `FROM` clause that reads just the tasks `filter` may match: a
/// narrow search's trigram matches, else its finding index.
pub fn from_matching(dialect: Dialect, filter: &TaskFilter, search: Option<&Search>) -> String {
    match (search, finding_index(filter)) {
        (Some(search), _) if search.is_narrow() => {
            Search::from_tasks(dialect, Some(search)).to_owned()
        }
        (_, Some(index)) => dialect.tasks_indexed_by(index),
        (search, None) => Search::from_tasks(dialect, search).to_owned(),
    }
}
