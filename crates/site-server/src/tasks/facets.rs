//! `GET …/active-tasks/facets` (1.1): how many matching active tasks have
//! each value of one field, counting with every filter but the field's own.
//!
//! Each field has a partial index over the active rows in its order
//! (migrations 0001 and 0006), so the counts are one walk of an index,
//! grouped as it goes, never a sort of every row. Scope and initiator are
//! indexed case-insensitively (for their filters and sorts) while facets
//! count values as stored: they are grouped case-insensitively, and the
//! rare group holding more than one spelling is counted again by spelling.

use site_api::{FacetField, FacetValue, FacetsQuery, FacetsResponse, MAX_FACET_VALUES};
use sqlx::{QueryBuilder, Sqlite, SqliteConnection, SqlitePool};

use super::filter::push_filters;
use super::search::Search;
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

/// True for the fields indexed case-insensitively.
fn folds_case(field: FacetField) -> bool {
    matches!(field, FacetField::Scope | FacetField::Initiator)
}

/// The facet counts of `query.field` on the Site's active tasks.
pub async fn facets(
    pool: &SqlitePool,
    site: &SiteRuntime,
    query: &FacetsQuery,
) -> Result<FacetsResponse, AppError> {
    let filter = query.filter.without(query.field);
    let mut tx = pool.begin().await?;
    let search = Search::plan(&mut tx, filter.q.as_deref()).await?;
    let search = search.as_ref();
    let column = column(query.field);
    let grouped = |select: &str, extra: Option<&str>| {
        let mut sql = QueryBuilder::<Sqlite>::new(select);
        sql.push(Search::from_tasks(search));
        push_filters(&mut sql, site, &filter, search);
        if let Some(spelling) = extra {
            sql.push(format!(" AND {column} = "))
                .push_bind(spelling.to_owned())
                .push(" COLLATE NOCASE");
        }
        sql
    };

    // (the smallest spelling, the largest, how many): one row per value,
    // or per case-insensitive value for scope and initiator.
    let groups: Vec<(Option<String>, Option<String>, i64)> = if folds_case(query.field) {
        grouped(
            &format!("SELECT MIN({column}), MAX({column}), COUNT(*)"),
            None,
        )
        .push(format!(" GROUP BY {column} COLLATE NOCASE"))
        .build_query_as()
        .fetch_all(&mut *tx)
        .await?
    } else {
        grouped(&format!("SELECT {column}, {column}, COUNT(*)"), None)
            .push(format!(" GROUP BY {column}"))
            .build_query_as()
            .fetch_all(&mut *tx)
            .await?
    };

    let mut total = 0_u64;
    let mut values = Vec::new();
    for (smallest, largest, count) in groups {
        let count = count.max(0) as u64;
        total += count;
        match (smallest, largest) {
            // Tasks without a value (no Audit Service yet) are not a value.
            (None, _) | (_, None) => {}
            (Some(value), Some(largest)) if value == largest => {
                values.push(FacetValue { value, count });
            }
            (Some(spelling), Some(_)) => {
                values.extend(spellings(&mut tx, &grouped, column, &spelling).await?);
            }
        }
    }
    tx.commit().await?;
    values.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.value.cmp(&b.value)));
    values.truncate(MAX_FACET_VALUES);
    Ok(FacetsResponse {
        field: query.field,
        values,
        total,
    })
}

/// The counts of each stored spelling of a case-insensitive value.
async fn spellings<'q>(
    connection: &mut SqliteConnection,
    grouped: &impl Fn(&str, Option<&str>) -> QueryBuilder<'q, Sqlite>,
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
