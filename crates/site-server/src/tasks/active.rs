//! The Active tasks page: filtered, sorted, keyset-paged and counted, in
//! one read transaction.
//!
//! Every sort has a partial index over the active rows in its order (the
//! sort key, then number and kind: migrations 0001 and 0006), so a page
//! walks an index and stops after `limit + 1` rows. A filter is tested on
//! each row walked; when few tasks match it, walking in order would read
//! many rows for each match, so the page instead reads just the matching
//! tasks (through their filter's index) and sorts them. The choice is made
//! with the exact count of matches, which the page reports as `total`
//! anyway ([`Plan::choose`]; how it counts: `counts.rs`).

use serde::{Deserialize, Serialize};
use site_api::{
    ActiveTasksPage, ActiveTasksQuery, Order, SortKey, StatusCounts, TaskFilter, TaskKind,
};
use sqlx::AnyPool;

use super::counts::{count_matching, from_matching};
use super::cursor;
use super::filter::{push_filters, running_only};
use super::search::Search;
use crate::db::{kind_column, Dialect, Sql, TaskRow, TASK_COLUMNS};
use crate::error::AppError;
use crate::state::SiteRuntime;

/// The sorted value of a page's last row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
enum SortValue {
    /// A number (start date).
    Int(i64),
    /// A text (names, kind, status).
    Text(String),
}

/// Where a page ended: the next page starts strictly after this row in the
/// same sort and order (the key, then number, then kind).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Position {
    sort: SortKey,
    order: Order,
    value: SortValue,
    number: i64,
    kind: TaskKind,
}

impl Position {
    fn of(query: &ActiveTasksQuery, task: &site_api::Task) -> Position {
        let value = match query.sort {
            SortKey::StartDate => SortValue::Int(task.start_date.timestamp()),
            SortKey::Task => SortValue::Text(task.kind.as_str().to_owned()),
            SortKey::Target => SortValue::Text(task.target.name.clone()),
            SortKey::Scope => SortValue::Text(task.scope.clone()),
            SortKey::Initiator => SortValue::Text(task.initiator.as_str().to_owned()),
            SortKey::Status => SortValue::Text(task.status.as_str().to_owned()),
        };
        Position {
            sort: query.sort,
            order: query.order,
            value,
            number: task.number as i64,
            kind: task.kind,
        }
    }

    /// The cursor of `query`, checked against its sort and order.
    fn from_query(query: &ActiveTasksQuery) -> Result<Option<Position>, AppError> {
        let Some(text) = &query.cursor else {
            return Ok(None);
        };
        let position: Position = cursor::decode(text)?;
        if position.sort != query.sort || position.order != query.order {
            return Err(AppError::InvalidRequest(
                "the cursor belongs to another sort or order; send the same sort and order with it"
                    .to_owned(),
            ));
        }
        Ok(Some(position))
    }
}

/// The SQL expression a sort orders by, before the number and kind tie-breakers.
fn sort_column(dialect: Dialect, key: SortKey) -> String {
    match key {
        SortKey::StartDate => "start_date".to_owned(),
        SortKey::Task => "kind".to_owned(),
        SortKey::Target => dialect.nocase("target_name"),
        SortKey::Scope => dialect.nocase("scope"),
        SortKey::Initiator => dialect.nocase("initiator"),
        SortKey::Status => "status".to_owned(),
    }
}

/// The partial index holding the active rows in a sort's order.
fn sort_index(key: SortKey) -> &'static str {
    match key {
        SortKey::StartDate => "tasks_active",
        SortKey::Task => "tasks_active_task",
        SortKey::Target => "tasks_active_target",
        SortKey::Scope => "tasks_active_scope",
        SortKey::Initiator => "tasks_active_initiator",
        SortKey::Status => "tasks_active_status",
    }
}

/// An index holding just the tasks of one of `query`'s filters, in its
/// order: in start-date order, one scope, one initiator or one target
/// type. Walking it reads the page and stops, however many match.
fn ordered_index(query: &ActiveTasksQuery) -> Option<&'static str> {
    let filter = &query.filter;
    if query.sort != SortKey::StartDate || running_only(filter) {
        return None;
    }
    if filter.scope.is_some() {
        Some("tasks_active_scope_start")
    } else if filter.initiator.is_some() {
        Some("tasks_active_initiator_start")
    } else if filter.target_types.len() == 1 {
        Some("tasks_active_target_type")
    } else {
        None
    }
}

/// How a page reads the table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Plan {
    /// Walk the sort's index in order, testing the filters on each row.
    InOrder,
    /// Read only the matching rows (through the index of their filter, or
    /// the search's trigram matches) and sort them.
    Matching,
}

impl Plan {
    /// The cheaper way to a page of `limit` rows when `total` of `active`
    /// tasks match. Walking in order reads about `active / total` rows per
    /// row of the page; reading the matches costs a sort of all of them.
    pub fn choose(filter: &TaskFilter, limit: u32, total: u64, active: u64) -> Plan {
        if filter.is_empty() {
            return Plan::InOrder;
        }
        let walked = (u64::from(limit) + 1).saturating_mul(active) / total.max(1);
        let sorted = total.saturating_mul(3);
        if sorted < walked.min(active) {
            Plan::Matching
        } else {
            Plan::InOrder
        }
    }
}

/// One page of the Site's active tasks, read from one snapshot.
pub async fn active_tasks(
    pool: &AnyPool,
    site: &SiteRuntime,
    query: &ActiveTasksQuery,
) -> Result<ActiveTasksPage, AppError> {
    let position = Position::from_query(query)?;
    let limit = query.limit.get();
    // One read transaction: revision, counts, total and rows agree.
    let mut tx = pool.begin().await?;
    let counters = crate::monitor::counters_in(&mut tx, site).await?;
    let search = Search::plan(&mut tx, query.filter.q.as_deref()).await?;
    let search = search.as_ref();
    let total = count_matching(&mut tx, site, &query.filter, search).await?;
    let ordered = ordered_index(query);
    let plan = match ordered {
        Some(_) => Plan::InOrder,
        None => Plan::choose(
            &query.filter,
            limit,
            total,
            counters.queued + counters.running,
        ),
    };

    let dialect = Dialect::of(pool);
    let column = sort_column(dialect, query.sort);
    let order = match query.order {
        Order::Asc => "ASC",
        Order::Desc => "DESC",
    };
    let mut select = Sql::new(dialect, format!("SELECT {TASK_COLUMNS}"));
    if plan == Plan::InOrder && !search.is_some_and(Search::is_narrow) {
        let index = ordered.unwrap_or_else(|| sort_index(query.sort));
        select.push(dialect.tasks_indexed_by(index));
    } else {
        select.push(from_matching(dialect, &query.filter, search));
    }
    push_filters(&mut select, site, &query.filter, search);
    if let Some(position) = &position {
        let after = match query.order {
            Order::Asc => ">",
            Order::Desc => "<",
        };
        select.push(format!(" AND ({column}, number, kind) {after} ("));
        match &position.value {
            SortValue::Int(value) => select.push_bind(*value),
            SortValue::Text(value) => select.push_bind_nocase(value.clone()),
        };
        select
            .push(", ")
            .push_bind(position.number)
            .push(", ")
            .push_bind(kind_column(position.kind))
            .push(")");
    }
    // `+` keeps SQLite from walking an index for the order when the plan
    // is to read the matching rows and sort them.
    let unary = match plan {
        Plan::InOrder => "",
        Plan::Matching => dialect.not_for_order(),
    };
    select.push(format!(
        " ORDER BY {unary}{column} {order}, {unary}number {order}, {unary}kind {order} LIMIT "
    ));
    select.push_bind(i64::from(limit) + 1);
    let mut rows: Vec<TaskRow> = select.build_query_as().fetch_all(&mut *tx).await?;
    tx.commit().await?;

    let has_more = rows.len() > limit as usize;
    rows.truncate(limit as usize);
    let tasks = rows
        .iter()
        .map(|row| row.to_task(site.failed_label()))
        .collect::<Result<Vec<_>, _>>()?;
    let next_cursor = match (has_more, tasks.last()) {
        (true, Some(last)) => Some(cursor::encode(&Position::of(query, last))),
        _ => None,
    };
    Ok(ActiveTasksPage {
        tasks,
        next_cursor,
        total,
        counts: StatusCounts {
            queued: counters.queued,
            running: counters.running,
        },
        revision: counters.revision,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn few_matches_are_read_and_sorted_many_are_walked_in_order() {
        let rare = TaskFilter {
            initiator: Some("bob@example.com".to_owned()),
            ..TaskFilter::default()
        };
        assert_eq!(Plan::choose(&rare, 200, 10, 100_000), Plan::Matching);
        assert_eq!(Plan::choose(&rare, 200, 2_000, 100_000), Plan::Matching);
        assert_eq!(Plan::choose(&rare, 200, 50_000, 100_000), Plan::InOrder);
        assert_eq!(Plan::choose(&rare, 200, 0, 100_000), Plan::Matching);
        // A small Site is walked: the whole of it costs less than a sort.
        assert_eq!(Plan::choose(&rare, 200, 10, 20), Plan::InOrder);
        assert_eq!(
            Plan::choose(&TaskFilter::default(), 200, 100_000, 100_000),
            Plan::InOrder
        );
    }

    #[test]
    fn a_cursor_is_only_good_for_its_own_sort_and_order() {
        let query = ActiveTasksQuery {
            sort: SortKey::Target,
            order: Order::Asc,
            ..ActiveTasksQuery::default()
        };
        let position = Position {
            sort: SortKey::Target,
            order: Order::Asc,
            value: SortValue::Text("WS-0042".to_owned()),
            number: 1042,
            kind: TaskKind::Audit,
        };
        let with_cursor = |query: &ActiveTasksQuery| ActiveTasksQuery {
            cursor: Some(cursor::encode(&position)),
            ..query.clone()
        };
        assert_eq!(
            Position::from_query(&with_cursor(&query)).unwrap(),
            Some(position.clone())
        );
        let other = ActiveTasksQuery {
            sort: SortKey::Scope,
            ..query.clone()
        };
        assert!(Position::from_query(&with_cursor(&other)).is_err());
        let reversed = ActiveTasksQuery {
            order: Order::Desc,
            ..query
        };
        assert!(Position::from_query(&with_cursor(&reversed)).is_err());
    }
}
