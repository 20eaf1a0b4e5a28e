//! `GET …/active-tasks/facets` (1.1): how many matching active tasks have
//! each value of one field, counting with every filter but the field's own.
//!
//! Kind, status and target type, under filters of those fields alone, are
//! read off the kept counts (`counts.rs`). Otherwise, with a selective
//! filter in force (running tasks, a scope, an initiator, a date range, a
//! narrow search) the matching tasks are read through its index and
//! grouped; without one, the field's own partial index over the active
//! rows (migrations 0001 and 0006) is walked, grouped as it goes, never a
//! sort of every row. Scope and initiator are indexed case-insensitively
//! (for their filters and sorts) while facets count values as stored:
//! they are grouped case-insensitively, and the rare group holding more
//! than one spelling is counted again by spelling.

use site_api::{
    FacetField, FacetValue, FacetsQuery, FacetsResponse, TaskFilter, TaskStatus, MAX_FACET_VALUES,
};
use sqlx::{AnyConnection, AnyPool};

use super::counts::{count_matching, kept_counts};
use super::filter::{is_counted, push_filters, selective_index};
use super::search::Search;
use crate::db::{Dialect, Sql};
use crate::error::AppError;
use crate::state::SiteRuntime;

/// The stored column of a field.
fn column(field: FacetField) -> &'static str {
    match field {
        FacetField::Scope => "scope",
        FacetField::Initiator => "initiator",
        FacetField::TargetType => "target_type",
        FacetField::Kind => "kind",
        FacetField::Status => "status",
        FacetField::AuditService => "audit_service_id",
    }
}

/// The partial index holding the active rows in a field's order.
fn index(field: FacetField) -> &'static str {
    match field {
        FacetField::Scope => "tasks_active_scope",
        FacetField::Initiator => "tasks_active_initiator",
        FacetField::TargetType => "tasks_active_target_type",
        FacetField::Kind => "tasks_active_task",
        FacetField::Status => "tasks_active_status",
        FacetField::AuditService => "tasks_running",
    }
}

/// True for the fields indexed case-insensitively.
fn folds_case(field: FacetField) -> bool {
    matches!(field, FacetField::Scope | FacetField::Initiator)
}

/// The facet counts of `query.field` on the Site's active tasks.
pub async fn facets(
    pool: &AnyPool,
    site: &SiteRuntime,
    query: &FacetsQuery,
) -> Result<FacetsResponse, AppError> {
    let filter = query.filter.without(query.field);
    let mut tx = pool.begin().await?;
    let search = Search::plan(&mut tx, filter.q.as_deref()).await?;
    let search = search.as_ref();
    let counted_field = matches!(
        query.field,
        FacetField::Kind | FacetField::Status | FacetField::TargetType
    );
    // Every matching task has a kind, status, target type, scope and
    // initiator: their counts add up to `total`. Only running tasks have
    // an Audit Service, so that facet's total is counted apart.
    let (mut values, counted) = if counted_field && is_counted(&filter) {
        kept_values(&mut tx, site, query.field, &filter).await?
    } else {
        grouped_values(&mut tx, site, query.field, &filter, search).await?
    };
    let total = match query.field {
        FacetField::AuditService => count_matching(&mut tx, site, &filter, search).await?,
        _ => counted,
    };
    tx.commit().await?;
    values.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.value.cmp(&b.value)));
    values.truncate(MAX_FACET_VALUES);
    Ok(FacetsResponse {
        field: query.field,
        values,
        total,
    })
}

/// The values of a kind, status or target type facet from the kept
/// counts, and how many tasks they count.
async fn kept_values(
    connection: &mut AnyConnection,
    site: &SiteRuntime,
    field: FacetField,
    filter: &TaskFilter,
) -> Result<(Vec<FacetValue>, u64), AppError> {
    let mut counts = std::collections::BTreeMap::<&'static str, u64>::new();
    for kept in kept_counts(connection, site).await? {
        if !kept.passes(filter) {
            continue;
        }
        let value = match field {
            FacetField::Kind => kept.kind.as_str(),
            FacetField::Status => kept.status.as_str(),
            _ => kept.target_type.as_str(),
        };
        *counts.entry(value).or_default() += kept.n;
    }
    let counted = counts.values().sum();
    let values = counts
        .into_iter()
        .filter(|(_, count)| *count > 0)
        .map(|(value, count)| FacetValue {
            value: value.to_owned(),
            count,
        })
        .collect();
    Ok((values, counted))
}

/// The values of a facet counted over the matching tasks, grouped, and
/// how many tasks the groups hold (those without a value included).
async fn grouped_values(
    connection: &mut AnyConnection,
    site: &SiteRuntime,
    field: FacetField,
    filter: &TaskFilter,
    search: Option<&Search>,
) -> Result<(Vec<FacetValue>, u64), AppError> {
    // Only running tasks have an Audit Service: count among them alone.
    let mut filter = filter.clone();
    if field == FacetField::AuditService
        && (filter.statuses.is_empty() || filter.statuses.contains(&TaskStatus::Running))
    {
        filter.statuses = vec![TaskStatus::Running];
    } else if field == FacetField::AuditService {
        // Queued tasks alone: none has a service yet.
        return Ok((Vec::new(), 0));
    }
    let dialect = Dialect::of_connection(connection);
    let from = match (search, selective_index(&filter)) {
        (Some(search), _) if search.is_narrow() => {
            Search::from_tasks(dialect, Some(search)).to_owned()
        }
        (_, Some(selective)) => dialect.tasks_indexed_by(selective),
        (_, None) => dialect.tasks_indexed_by(index(field)),
    };
    let column = column(field);
    let folded = dialect.nocase(column);
    let grouped = |select: &str, extra: Option<&str>| {
        let mut sql = Sql::new(dialect, select);
        sql.push(&from);
        push_filters(&mut sql, site, &filter, search);
        if let Some(spelling) = extra {
            sql.push(format!(" AND {folded} = "))
                .push_bind_nocase(spelling.to_owned());
        }
        sql
    };

    // (the smallest spelling, the largest, how many): one row per value,
    // or per case-insensitive value for scope and initiator.
    let groups: Vec<(Option<String>, Option<String>, i64)> = if folds_case(field) {
        grouped(
            &format!("SELECT MIN({column}), MAX({column}), COUNT(*)"),
            None,
        )
        .push(format!(" GROUP BY {folded}"))
        .build_query_as()
        .fetch_all(&mut *connection)
        .await?
    } else {
        grouped(&format!("SELECT {column}, {column}, COUNT(*)"), None)
            .push(format!(" GROUP BY {column}"))
            .build_query_as()
            .fetch_all(&mut *connection)
            .await?
    };
    let mut values = Vec::new();
    let mut counted = 0;
    for (smallest, largest, count) in groups {
        counted += count.max(0) as u64;
        match (smallest, largest) {
            // Tasks without a value (no Audit Service) are not a value.
            (None, _) | (_, None) => {}
            (Some(value), Some(largest)) if value == largest => values.push(FacetValue {
                value,
                count: count.max(0) as u64,
            }),
            (Some(spelling), Some(_)) => {
                values.extend(spellings(&mut *connection, &grouped, column, &spelling).await?);
            }
        }
    }
    Ok((values, counted))
}

/// The counts of each stored spelling of a case-insensitive value.
async fn spellings(
    connection: &mut AnyConnection,
    grouped: &impl Fn(&str, Option<&str>) -> Sql,
    column: &str,
    spelling: &str,
) -> Result<Vec<FacetValue>, AppError> {
    let rows: Vec<(String, i64)> = grouped(&format!("SELECT {column}, COUNT(*)"), Some(spelling))
        .push(format!(" GROUP BY {column}"))
        .build_query_as()
        .fetch_all(&mut *connection)
        .await?;
    Ok(rows
        .into_iter()
        .map(|(value, count)| FacetValue {
            value,
            count: count.max(0) as u64,
        })
        .collect())
}
