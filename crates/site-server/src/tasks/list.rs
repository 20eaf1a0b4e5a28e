//! Reading lists: the Active tasks page (filtered, sorted, keyset-paged) and log pages.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde::Deserialize;
use site_api::{
    ActiveTasksPage, LogPage, StatusCounts, TargetType, TaskKind, TaskStatus, DEFAULT_PAGE_LIMIT,
    MAX_PAGE_LIMIT,
};
use sqlx::{QueryBuilder, Sqlite, SqlitePool};

use crate::db::{kind_column, status_column, TaskRow, ACTIVE_PREDICATE, TASK_COLUMNS};
use crate::error::AppError;
use crate::state::SiteRuntime;

/// The query string of `GET …/active-tasks` as sent. Every value is checked
/// by [`ActiveTasksQuery::try_from`], so a bad one is a 400 with a sentence.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ActiveTasksParams {
    /// `queued`, `running`, or both as a comma list.
    #[param(example = "queued,running")]
    status: Option<String>,
    /// `scan` or `audit`, or a comma list.
    #[param(example = "scan")]
    kind: Option<String>,
    /// An email, or exactly `Schedule`.
    initiator: Option<String>,
    /// `device`, `segment` or `cloud_resource`, or a comma list.
    target_type: Option<String>,
    /// Case-insensitive substring of the target name, label, scope or initiator.
    q: Option<String>,
    /// `start_date` (default), `task`, `target`, `scope`, `initiator` or `status`.
    sort: Option<String>,
    /// `asc` or `desc` (default).
    order: Option<String>,
    /// Page size, 1..1000, default 200.
    #[param(value_type = Option<u32>, minimum = 1, maximum = 1000)]
    limit: Option<String>,
    /// The `next_cursor` of the previous page, sent with the same filters and sort.
    cursor: Option<String>,
}

/// What the Active tasks list can be sorted by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortKey {
    /// When the task entered the queue (the default).
    StartDate,
    /// Kind, then number.
    Task,
    /// Target name, case-insensitively.
    Target,
    /// Scope, case-insensitively.
    Scope,
    /// Initiator, case-insensitively.
    Initiator,
    /// Queued before running (ascending).
    Status,
}

impl SortKey {
    const ALL: [(SortKey, &'static str); 6] = [
        (SortKey::StartDate, "start_date"),
        (SortKey::Task, "task"),
        (SortKey::Target, "target"),
        (SortKey::Scope, "scope"),
        (SortKey::Initiator, "initiator"),
        (SortKey::Status, "status"),
    ];

    fn parse(text: &str) -> Option<SortKey> {
        SortKey::ALL
            .iter()
            .find(|(_, name)| *name == text)
            .map(|(key, _)| *key)
    }

    fn name(self) -> &'static str {
        SortKey::ALL
            .iter()
            .find(|(key, _)| *key == self)
            .map(|(_, name)| *name)
            .unwrap_or("start_date")
    }

    /// The SQL expression sorted on, before the number and kind tie-breakers.
    fn column(self) -> &'static str {
        match self {
            SortKey::StartDate => "start_date",
            SortKey::Task => "kind",
            SortKey::Target => "target_name COLLATE NOCASE",
            SortKey::Scope => "scope COLLATE NOCASE",
            SortKey::Initiator => "initiator COLLATE NOCASE",
            SortKey::Status => "status",
        }
    }

    /// The sorted value of `task`, as the cursor keeps it.
    fn value_of(self, task: &site_api::Task) -> CursorValue {
        match self {
            SortKey::StartDate => CursorValue::Int(task.start_date.timestamp()),
            SortKey::Task => CursorValue::Text(task.kind.as_str().to_owned()),
            SortKey::Target => CursorValue::Text(task.target.name.clone()),
            SortKey::Scope => CursorValue::Text(task.scope.clone()),
            SortKey::Initiator => CursorValue::Text(task.initiator.as_str().to_owned()),
            SortKey::Status => CursorValue::Text(task.status.as_str().to_owned()),
        }
    }
}

/// Ascending or descending.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Order {
    /// Smallest first.
    Asc,
    /// Largest first.
    Desc,
}

impl Order {
    fn sql(self) -> &'static str {
        match self {
            Order::Asc => "ASC",
            Order::Desc => "DESC",
        }
    }

    fn after(self) -> &'static str {
        match self {
            Order::Asc => ">",
            Order::Desc => "<",
        }
    }
}

/// A validated Active tasks query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActiveTasksQuery {
    /// Only these statuses (queued and/or running); empty: both.
    pub statuses: Vec<TaskStatus>,
    /// Only these kinds; empty: both.
    pub kinds: Vec<TaskKind>,
    /// Only tasks started by this initiator (an email, or `Schedule`).
    pub initiator: Option<String>,
    /// Only these target types; empty: all.
    pub target_types: Vec<TargetType>,
    /// Case-insensitive substring of target, label, scope or initiator.
    pub q: Option<String>,
    /// The sort key.
    pub sort: SortKey,
    /// The direction.
    pub order: Order,
    /// Page size, 1..=1000.
    pub limit: u32,
    /// Where the previous page ended.
    pub cursor: Option<Cursor>,
}

impl ActiveTasksQuery {
    /// True if and only if no filter narrows the list (sort and paging aside).
    pub fn is_unfiltered(&self) -> bool {
        self.statuses.is_empty()
            && self.kinds.is_empty()
            && self.target_types.is_empty()
            && self.initiator.is_none()
            && self.q.is_none()
    }
}

/// Longest accepted search text.
const MAX_QUERY_LEN: usize = 256;

impl TryFrom<ActiveTasksParams> for ActiveTasksQuery {
    type Error = AppError;

    fn try_from(params: ActiveTasksParams) -> Result<Self, AppError> {
        let statuses = parse_list(params.status.as_deref(), "status", |text| match text
            .parse::<TaskStatus>()
        {
            Ok(status @ (TaskStatus::Queued | TaskStatus::Running)) => Some(status),
            _ => None,
        })?;
        let kinds = parse_list(params.kind.as_deref(), "kind", |text| text.parse().ok())?;
        let target_types = parse_list(params.target_type.as_deref(), "target_type", |text| {
            text.parse().ok()
        })?;
        let sort = match params.sort.as_deref() {
            None => SortKey::StartDate,
            Some(text) => SortKey::parse(text).ok_or_else(|| {
                AppError::InvalidRequest(format!(
                    "sort must be one of start_date, task, target, scope, initiator, status, not {text:?}"
                ))
            })?,
        };
        let order = match params.order.as_deref() {
            None => Order::Desc,
            Some("asc") => Order::Asc,
            Some("desc") => Order::Desc,
            Some(text) => {
                return Err(AppError::InvalidRequest(format!(
                    "order must be asc or desc, not {text:?}"
                )))
            }
        };
        let initiator = match params.initiator {
            Some(text) if text.trim().is_empty() => {
                return Err(AppError::InvalidRequest(
                    "initiator must be an email or Schedule".to_owned(),
                ))
            }
            other => other,
        };
        let q = match params.q {
            Some(text) if text.chars().count() > MAX_QUERY_LEN => {
                return Err(AppError::InvalidRequest(format!(
                    "q must be at most {MAX_QUERY_LEN} characters"
                )))
            }
            Some(text) if text.is_empty() => None,
            other => other,
        };
        let cursor = params.cursor.as_deref().map(Cursor::decode).transpose()?;
        if let Some(cursor) = &cursor {
            if cursor.sort != sort || cursor.order != order {
                return Err(AppError::InvalidRequest(
                    "the cursor belongs to another sort or order; send the same sort and order with it"
                        .to_owned(),
                ));
            }
        }
        Ok(ActiveTasksQuery {
            statuses,
            kinds,
            initiator,
            target_types,
            q,
            sort,
            order,
            limit: parse_limit(params.limit.as_deref())?,
            cursor,
        })
    }
}

/// Parses a comma list of enum values; one unknown value is a 400.
fn parse_list<T: PartialEq>(
    text: Option<&str>,
    name: &str,
    parse: impl Fn(&str) -> Option<T>,
) -> Result<Vec<T>, AppError> {
    let Some(text) = text else {
        return Ok(Vec::new());
    };
    let mut values = Vec::new();
    for part in text.split(',') {
        let value = parse(part.trim()).ok_or_else(|| {
            AppError::InvalidRequest(format!("{name} has an unknown value {part:?}"))
        })?;
        if !values.contains(&value) {
            values.push(value);
        }
    }
    Ok(values)
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

/// The sorted value of a cursor's row.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(untagged)]
pub enum CursorValue {
    /// A number (start date).
    Int(i64),
    /// A text (names, kind, status).
    Text(String),
}

/// The last row of a page: the next page starts strictly after it in the
/// same sort and order (the key, then number, then kind).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cursor {
    sort: SortKey,
    order: Order,
    value: CursorValue,
    number: i64,
    kind: TaskKind,
}

impl Cursor {
    /// The opaque text handed to clients.
    pub fn encode(&self) -> String {
        let order = match self.order {
            Order::Asc => "asc",
            Order::Desc => "desc",
        };
        let json = serde_json::json!([
            1,
            self.sort.name(),
            order,
            self.value,
            self.number,
            self.kind
        ]);
        URL_SAFE_NO_PAD.encode(json.to_string())
    }

    /// Parses what [`Cursor::encode`] made; anything else is a 400.
    pub fn decode(text: &str) -> Result<Cursor, AppError> {
        let invalid = || AppError::InvalidRequest("the cursor is not valid".to_owned());
        let bytes = URL_SAFE_NO_PAD.decode(text).map_err(|_| invalid())?;
        let (version, sort, order, value, number, kind): (
            u8,
            String,
            String,
            CursorValue,
            i64,
            TaskKind,
        ) = serde_json::from_slice(&bytes).map_err(|_| invalid())?;
        if version != 1 {
            return Err(invalid());
        }
        let order = match order.as_str() {
            "asc" => Order::Asc,
            "desc" => Order::Desc,
            _ => return Err(invalid()),
        };
        Ok(Cursor {
            sort: SortKey::parse(&sort).ok_or_else(invalid)?,
            order,
            value,
            number,
            kind,
        })
    }
}

/// Adds the filters of `query` (not the cursor) to a `WHERE` clause.
fn push_filters(
    sql: &mut QueryBuilder<'_, Sqlite>,
    site: &SiteRuntime,
    query: &ActiveTasksQuery,
    search: Option<&Search>,
) {
    sql.push(" WHERE site_id = ")
        .push_bind(site.id().to_owned())
        .push(" AND ")
        .push(ACTIVE_PREDICATE);
    if !query.statuses.is_empty() {
        push_in_list(
            sql,
            "status",
            query.statuses.iter().map(|s| status_column(*s)),
        );
    }
    if !query.kinds.is_empty() {
        push_in_list(sql, "kind", query.kinds.iter().map(|k| kind_column(*k)));
    }
    if !query.target_types.is_empty() {
        push_in_list(
            sql,
            "target_type",
            query.target_types.iter().map(|t| t.as_str()),
        );
    }
    push_initiator_and_search(sql, query.initiator.as_deref(), search);
}

/// Adds ` AND <column> IN (<values>)`; no values match no row.
fn push_in_list(
    sql: &mut QueryBuilder<'_, Sqlite>,
    column: &str,
    values: impl IntoIterator<Item = &'static str>,
) {
    let mut values = values.into_iter().peekable();
    if values.peek().is_none() {
        sql.push(" AND 0");
        return;
    }
    sql.push(format!(" AND {column} IN ("));
    let mut list = sql.separated(", ");
    for value in values {
        list.push_bind(value);
    }
    sql.push(")");
}

/// A `q` search, and how it reads the table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Search {
    /// The LIKE pattern that decides what matches.
    pattern: String,
    /// The trigram phrase, when few enough rows match it that reading them
    /// by rowid beats walking the list's index in order.
    narrow: Option<String>,
}

/// Up to this many trigram matches, a search reads the matching rows by
/// rowid; past it, walking the index in the list's order fills a page sooner.
const NARROW_SEARCH_ROWS: i64 = 5_000;

impl Search {
    /// Plans the search for `q`, asking the trigram index how broad it is.
    pub async fn plan(
        connection: &mut sqlx::SqliteConnection,
        q: Option<&str>,
    ) -> Result<Option<Search>, AppError> {
        let Some(q) = q else {
            return Ok(None);
        };
        let mut narrow = None;
        if let Some(phrase) = trigram_phrase(q) {
            let matches: i64 = sqlx::query_scalar(
                "SELECT COUNT(*) FROM (SELECT 1 FROM task_search WHERE task_search MATCH ? LIMIT ?)",
            )
            .bind(&phrase)
            .bind(NARROW_SEARCH_ROWS + 1)
            .fetch_one(connection)
            .await?;
            if matches <= NARROW_SEARCH_ROWS {
                narrow = Some(phrase);
            }
        }
        Ok(Some(Search {
            pattern: format!("%{}%", escape_like(q)),
            narrow,
        }))
    }

    /// The `FROM` clause: a narrow search must not walk an index.
    fn from_tasks(search: Option<&Search>) -> &'static str {
        match search {
            Some(Search {
                narrow: Some(_), ..
            }) => " FROM tasks NOT INDEXED",
            _ => " FROM tasks",
        }
    }
}

/// Adds the `initiator` filter and the `q` search, shared by every list.
fn push_initiator_and_search(
    sql: &mut QueryBuilder<'_, Sqlite>,
    initiator: Option<&str>,
    search: Option<&Search>,
) {
    if let Some(initiator) = initiator {
        sql.push(" AND initiator = ")
            .push_bind(initiator.to_owned())
            .push(" COLLATE NOCASE");
    }
    if let Some(search) = search {
        if let Some(phrase) = &search.narrow {
            // The trigram index finds the candidates; the LIKE test below
            // keeps the exact meaning (the index folds case more widely).
            sql.push(" AND seq IN (SELECT rowid FROM task_search WHERE task_search MATCH ")
                .push_bind(phrase.clone())
                .push(")");
        }
        let pattern = &search.pattern;
        sql.push(" AND (target_name LIKE ")
            .push_bind(pattern.clone())
            .push(" ESCAPE '\\' OR scope LIKE ")
            .push_bind(pattern.clone())
            .push(" ESCAPE '\\' OR initiator LIKE ")
            .push_bind(pattern.clone())
            .push(" ESCAPE '\\' OR ((CASE kind WHEN 'scan' THEN 'Scan #' ELSE 'Audit #' END) || number) LIKE ")
            .push_bind(pattern.clone())
            .push(" ESCAPE '\\')");
    }
}

/// The search text as an FTS5 phrase for the trigram index, when it is long
/// enough (three characters) for the index to narrow anything.
fn trigram_phrase(q: &str) -> Option<String> {
    (q.chars().count() >= 3).then(|| format!("\"{}\"", q.replace('"', "\"\"")))
}

/// Makes `%`, `_` and `\` match themselves in a LIKE pattern.
fn escape_like(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            escaped.push('\\');
        }
        escaped.push(c);
    }
    escaped
}

/// One page of the Site's active tasks, read from one snapshot.
pub async fn active_tasks(
    pool: &SqlitePool,
    site: &SiteRuntime,
    query: &ActiveTasksQuery,
) -> Result<ActiveTasksPage, AppError> {
    // One read transaction: revision, counts, total and rows agree.
    let mut tx = pool.begin().await?;
    let counters = crate::monitor::counters_in(&mut tx, site).await?;
    let search = Search::plan(&mut tx, query.q.as_deref()).await?;
    let search = search.as_ref();

    let total = if query.is_unfiltered() {
        counters.queued + counters.running
    } else {
        let mut count = QueryBuilder::<Sqlite>::new("SELECT COUNT(*)");
        count.push(Search::from_tasks(search));
        push_filters(&mut count, site, query, search);
        let total: i64 = count.build_query_scalar().fetch_one(&mut *tx).await?;
        total as u64
    };

    let mut select = QueryBuilder::<Sqlite>::new(format!("SELECT {TASK_COLUMNS}"));
    select.push(Search::from_tasks(search));
    push_filters(&mut select, site, query, search);
    let column = query.sort.column();
    let order = query.order.sql();
    if let Some(cursor) = &query.cursor {
        select.push(format!(
            " AND ({column}, number, kind) {} (",
            query.order.after()
        ));
        match &cursor.value {
            CursorValue::Int(value) => select.push_bind(*value),
            CursorValue::Text(value) => select.push_bind(value.clone()),
        };
        select
            .push(", ")
            .push_bind(cursor.number)
            .push(", ")
            .push_bind(kind_column(cursor.kind))
            .push(")");
    }
    select.push(format!(
        " ORDER BY {column} {order}, number {order}, kind {order} LIMIT "
    ));
    select.push_bind(i64::from(query.limit) + 1);
    let mut rows: Vec<TaskRow> = select.build_query_as().fetch_all(&mut *tx).await?;
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
                sort: query.sort,
                order: query.order,
                value: query.sort.value_of(last),
                number: last.number as i64,
                kind: last.kind,
            }
            .encode(),
        ),
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

/// The query string of a log list as sent.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct LogParams {
    /// `finished`, `cancelled` or `failed`, or a comma list.
    status: Option<String>,
    /// An email, or exactly `Schedule`.
    initiator: Option<String>,
    /// Case-insensitive substring of the target name, label, scope or initiator.
    q: Option<String>,
    /// `true`: only rows with errors; `false`: only rows without.
    #[param(value_type = Option<bool>)]
    has_errors: Option<String>,
    /// Only rows that ended at or after this time (RFC 3339).
    #[param(value_type = Option<String>, format = DateTime)]
    since: Option<String>,
    /// Only rows that ended at or before this time (RFC 3339).
    #[param(value_type = Option<String>, format = DateTime)]
    until: Option<String>,
    /// Page size, 1..1000, default 200.
    #[param(value_type = Option<u32>, minimum = 1, maximum = 1000)]
    limit: Option<String>,
    /// The `next_cursor` of the previous page, sent with the same filters.
    cursor: Option<String>,
}

/// A validated log query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogQuery {
    statuses: Vec<TaskStatus>,
    initiator: Option<String>,
    q: Option<String>,
    has_errors: Option<bool>,
    since: Option<i64>,
    until: Option<i64>,
    limit: u32,
    cursor: Option<(i64, i64)>,
}

impl TryFrom<LogParams> for LogQuery {
    type Error = AppError;

    fn try_from(params: LogParams) -> Result<Self, AppError> {
        let statuses = parse_list(params.status.as_deref(), "status", |text| {
            text.parse::<TaskStatus>()
                .ok()
                .filter(|status| status.is_terminal())
        })?;
        let has_errors = match params.has_errors.as_deref() {
            None => None,
            Some("true") => Some(true),
            Some("false") => Some(false),
            Some(text) => {
                return Err(AppError::InvalidRequest(format!(
                    "has_errors must be true or false, not {text:?}"
                )))
            }
        };
        let time = |name: &str, text: Option<&str>| -> Result<Option<i64>, AppError> {
            text.map(|text| {
                chrono::DateTime::parse_from_rfc3339(text)
                    .map(|time| time.timestamp())
                    .map_err(|_| {
                        AppError::InvalidRequest(format!(
                            "{name} must be an RFC 3339 time, not {text:?}"
                        ))
                    })
            })
            .transpose()
        };
        let cursor = params
            .cursor
            .as_deref()
            .map(|text| {
                let invalid = || AppError::InvalidRequest("the cursor is not valid".to_owned());
                let bytes = URL_SAFE_NO_PAD.decode(text).map_err(|_| invalid())?;
                let (version, end_date, number): (u8, i64, i64) =
                    serde_json::from_slice(&bytes).map_err(|_| invalid())?;
                if version != 1 {
                    return Err(invalid());
                }
                Ok((end_date, number))
            })
            .transpose()?;
        Ok(LogQuery {
            statuses,
            initiator: params.initiator.filter(|text| !text.trim().is_empty()),
            q: params.q.filter(|text| !text.is_empty()),
            has_errors,
            since: time("since", params.since.as_deref())?,
            until: time("until", params.until.as_deref())?,
            limit: parse_limit(params.limit.as_deref())?,
            cursor,
        })
    }
}

/// Log rows of one kind, newest `end_date` first, keyset-paged.
pub async fn log_entries(
    pool: &SqlitePool,
    site: &SiteRuntime,
    kind: TaskKind,
    query: &LogQuery,
) -> Result<LogPage, AppError> {
    let mut connection = pool.acquire().await?;
    let search = Search::plan(&mut connection, query.q.as_deref()).await?;
    let search = search.as_ref();
    let mut sql = QueryBuilder::<Sqlite>::new(format!("SELECT {TASK_COLUMNS}"));
    sql.push(Search::from_tasks(search));
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
    push_initiator_and_search(&mut sql, query.initiator.as_deref(), search);
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
        sql.push(" AND end_date >= ").push_bind(since);
    }
    if let Some(until) = query.until {
        sql.push(" AND end_date <= ").push_bind(until);
    }
    if let Some((end_date, number)) = query.cursor {
        sql.push(" AND (end_date, number) < (")
            .push_bind(end_date)
            .push(", ")
            .push_bind(number)
            .push(")");
    }
    sql.push(" ORDER BY end_date DESC, number DESC LIMIT ")
        .push_bind(i64::from(query.limit) + 1);
    let mut rows: Vec<TaskRow> = sql.build_query_as().fetch_all(&mut *connection).await?;
    let has_more = rows.len() > query.limit as usize;
    rows.truncate(query.limit as usize);
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
            let json = serde_json::json!([1, end_date, last.task.number]);
            Some(URL_SAFE_NO_PAD.encode(json.to_string()))
        }
        _ => None,
    };
    Ok(LogPage {
        entries,
        next_cursor,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The seqs a search selects, with the given plan.
    async fn searched(pool: &SqlitePool, search: &Search) -> Vec<i64> {
        let mut sql = QueryBuilder::<Sqlite>::new("SELECT seq");
        sql.push(Search::from_tasks(Some(search)));
        sql.push(" WHERE 1");
        push_initiator_and_search(&mut sql, None, Some(search));
        sql.push(" ORDER BY seq");
        sql.build_query_scalar().fetch_all(pool).await.unwrap()
    }

    #[tokio::test]
    async fn narrow_and_broad_searches_find_exactly_what_like_finds() {
        let dir = tempfile::tempdir().unwrap();
        let pool = crate::db::open(dir.path()).await.unwrap();
        let mut tx = pool.begin().await.unwrap();
        for number in 1..=(NARROW_SEARCH_ROWS + 100) {
            sqlx::query(
                "INSERT INTO tasks (site_id, kind, number, target_type, target_name, scope,
                                    initiator, status, start_date)
                 VALUES ('hq', 'scan', ?, 'device', ?, 'Segment HQ', 'ann@example.com', 'queued', ?)",
            )
            .bind(number)
            .bind(format!("WS-{number:05}"))
            .bind(number)
            .execute(&mut *tx)
            .await
            .unwrap();
        }
        tx.commit().await.unwrap();
        let mut connection = pool.acquire().await.unwrap();
        for (q, narrow, expected) in [
            ("ws-0004", true, (40..50).collect::<Vec<i64>>()),
            ("Scan #5100", true, vec![5100]),
            ("ws-", false, (1..=NARROW_SEARCH_ROWS + 100).collect()),
            (
                "00",
                false,
                (1..=NARROW_SEARCH_ROWS + 100)
                    .filter(|n| format!("{n:05}").contains("00"))
                    .collect(),
            ),
            ("nothing like it", true, vec![]),
        ] {
            let search = Search::plan(&mut connection, Some(q))
                .await
                .unwrap()
                .unwrap();
            assert_eq!(search.narrow.is_some(), narrow, "{q}");
            assert_eq!(searched(&pool, &search).await, expected, "{q}");
            // The other plan finds the same rows.
            let other = Search {
                narrow: match search.narrow {
                    Some(_) => None,
                    None => trigram_phrase(q),
                },
                ..search
            };
            assert_eq!(searched(&pool, &other).await, expected, "{q}, other plan");
        }
    }

    fn params(pairs: &[(&str, &str)]) -> Result<ActiveTasksQuery, AppError> {
        let text = serde_urlencoded::to_string(pairs).unwrap();
        let params: ActiveTasksParams = serde_urlencoded::from_str(&text).unwrap();
        ActiveTasksQuery::try_from(params)
    }

    #[test]
    fn cursors_round_trip_and_reject_garbage() {
        let cursor = Cursor {
            sort: SortKey::Target,
            order: Order::Asc,
            value: CursorValue::Text("WS-0042".into()),
            number: 1042,
            kind: TaskKind::Audit,
        };
        assert_eq!(Cursor::decode(&cursor.encode()).unwrap(), cursor);
        for bad in [
            "",
            "!!",
            "djE6MTox",
            "eDox",
            &URL_SAFE_NO_PAD.encode("[1,\"x\",\"asc\",1,2,\"scan\"]"),
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

    #[test]
    fn queries_default_to_newest_first_over_both_active_statuses() {
        let query = params(&[]).unwrap();
        assert_eq!((query.sort, query.order), (SortKey::StartDate, Order::Desc));
        assert!(query.statuses.is_empty() && query.kinds.is_empty());
        let query = params(&[
            ("status", "running,queued,running"),
            ("kind", "audit"),
            ("sort", "task"),
            ("order", "asc"),
        ])
        .unwrap();
        assert_eq!(query.statuses, [TaskStatus::Running, TaskStatus::Queued]);
        assert_eq!(query.kinds, [TaskKind::Audit]);
        assert_eq!((query.sort, query.order), (SortKey::Task, Order::Asc));
    }

    #[test]
    fn unknown_query_values_are_refused() {
        for pairs in [
            [("status", "finished")],
            [("status", "queued,paused")],
            [("kind", "inventory")],
            [("target_type", "printer")],
            [("sort", "colour")],
            [("order", "up")],
            [("initiator", " ")],
        ] {
            assert!(params(&pairs).is_err(), "{pairs:?} accepted");
        }
        let cursor = Cursor {
            sort: SortKey::Scope,
            order: Order::Desc,
            value: CursorValue::Text("HQ".into()),
            number: 3,
            kind: TaskKind::Scan,
        }
        .encode();
        assert!(
            params(&[("cursor", &cursor)]).is_err(),
            "cursor of another sort"
        );
        assert!(params(&[("cursor", &cursor), ("sort", "scope")]).is_ok());
    }

    #[test]
    fn searches_of_three_characters_or_more_use_the_trigram_index() {
        assert_eq!(trigram_phrase("ws"), None);
        assert_eq!(trigram_phrase("ws-0042").as_deref(), Some("\"ws-0042\""));
        assert_eq!(
            trigram_phrase("say \"hi\"").as_deref(),
            Some("\"say \"\"hi\"\"\"")
        );
    }

    #[test]
    fn like_patterns_match_wildcards_literally() {
        assert_eq!(escape_like("50%_a\\b"), "50\\%\\_a\\\\b");
    }
}
