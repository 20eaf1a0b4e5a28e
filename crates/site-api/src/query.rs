//! The query strings of the lists, typed: the Active tasks list, its facets
//! and the logs.
//!
//! This is the one place where the contract's `name=value` pairs (comma
//! lists where a parameter takes several values) are read and written. The
//! server deserialises a request's query straight into these types (a bad
//! value is a [`QueryError`] with a sentence, which it answers as a 400);
//! the desktop's client serialises them into the query it sends; the UI
//! builds them. Serde goes through the same pairs, so a query carried as
//! JSON between the desktop's backend and its window reads the same.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::{TargetType, TaskKind, TaskStatus, Timestamp};

/// The page size when a request names none.
pub const DEFAULT_PAGE_LIMIT: u32 = 200;
/// The largest page a client may ask for.
pub const MAX_PAGE_LIMIT: u32 = 1000;
/// The longest accepted search text (`q`).
pub const MAX_SEARCH_LEN: usize = 256;

/// A query string that does not say what the contract allows, with one
/// sentence saying why (no trailing full stop).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueryError(String);

impl QueryError {
    fn new(message: impl Into<String>) -> QueryError {
        QueryError(message.into())
    }
}

impl fmt::Display for QueryError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for QueryError {}

/// What the Active tasks list can be sorted by.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SortKey {
    /// When the task entered the queue (the default).
    #[default]
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
    /// Every sort key, as the contract lists them.
    pub const ALL: [SortKey; 6] = [
        SortKey::StartDate,
        SortKey::Task,
        SortKey::Target,
        SortKey::Scope,
        SortKey::Initiator,
        SortKey::Status,
    ];

    /// The wire name, e.g. `start_date`.
    pub fn as_str(self) -> &'static str {
        match self {
            SortKey::StartDate => "start_date",
            SortKey::Task => "task",
            SortKey::Target => "target",
            SortKey::Scope => "scope",
            SortKey::Initiator => "initiator",
            SortKey::Status => "status",
        }
    }
}

impl FromStr for SortKey {
    type Err = QueryError;

    fn from_str(text: &str) -> Result<SortKey, QueryError> {
        SortKey::ALL
            .into_iter()
            .find(|key| key.as_str() == text)
            .ok_or_else(|| {
                QueryError::new(format!(
                    "sort must be one of start_date, task, target, scope, initiator, status, not {text:?}"
                ))
            })
    }
}

/// Ascending or descending; descending unless asked.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Order {
    /// Smallest first.
    Asc,
    /// Largest first (the default).
    #[default]
    Desc,
}

impl Order {
    /// The wire name: `asc` or `desc`.
    pub fn as_str(self) -> &'static str {
        match self {
            Order::Asc => "asc",
            Order::Desc => "desc",
        }
    }
}

impl FromStr for Order {
    type Err = QueryError;

    fn from_str(text: &str) -> Result<Order, QueryError> {
        match text {
            "asc" => Ok(Order::Asc),
            "desc" => Ok(Order::Desc),
            _ => Err(QueryError::new(format!(
                "order must be asc or desc, not {text:?}"
            ))),
        }
    }
}

/// A page size: 1 to [`MAX_PAGE_LIMIT`], [`DEFAULT_PAGE_LIMIT`] unless asked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PageLimit(u32);

impl PageLimit {
    /// The largest page.
    pub const MAX: PageLimit = PageLimit(MAX_PAGE_LIMIT);

    /// `limit`, if and only if it is within 1..=[`MAX_PAGE_LIMIT`].
    pub fn new(limit: u32) -> Option<PageLimit> {
        (1..=MAX_PAGE_LIMIT)
            .contains(&limit)
            .then_some(PageLimit(limit))
    }

    /// The number of rows.
    pub fn get(self) -> u32 {
        self.0
    }
}

impl Default for PageLimit {
    fn default() -> PageLimit {
        PageLimit(DEFAULT_PAGE_LIMIT)
    }
}

impl FromStr for PageLimit {
    type Err = QueryError;

    fn from_str(text: &str) -> Result<PageLimit, QueryError> {
        text.parse().ok().and_then(PageLimit::new).ok_or_else(|| {
            QueryError::new(format!(
                "limit must be a whole number from 1 to {MAX_PAGE_LIMIT}"
            ))
        })
    }
}

/// The filters of the Active tasks list, shared by the list and its facets.
/// Empty lists and `None` do not narrow.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TaskFilter {
    /// `status`: only these (queued and/or running).
    pub statuses: Vec<TaskStatus>,
    /// `kind`: only these kinds.
    pub kinds: Vec<TaskKind>,
    /// `initiator`: only tasks started by this email, or `Schedule` (case-insensitively).
    pub initiator: Option<String>,
    /// `target_type`: only these target types.
    pub target_types: Vec<TargetType>,
    /// `q`: a case-insensitive substring of target name, label, scope or initiator.
    pub q: Option<String>,
    /// `scope` (1.1): the whole scope, compared case-insensitively.
    pub scope: Option<String>,
    /// `since` (1.1): only tasks that entered the queue at or after this time.
    pub since: Option<Timestamp>,
    /// `until` (1.1): only tasks that entered the queue at or before this time.
    pub until: Option<Timestamp>,
    /// `audit_service` (1.1): only the tasks this Audit Service (an id) is running.
    pub audit_service: Option<String>,
}

impl TaskFilter {
    /// True if and only if no filter narrows the list.
    pub fn is_empty(&self) -> bool {
        *self == TaskFilter::default()
    }

    /// True if and only if one of the parameters of revision 1.1 is used
    /// (a 1.0 Site answers those with a 400).
    pub fn uses_revision_1_1(&self) -> bool {
        self.scope.is_some()
            || self.since.is_some()
            || self.until.is_some()
            || self.audit_service.is_some()
    }

    /// This filter without the one on `field`: what a facet of `field` counts.
    pub fn without(&self, field: FacetField) -> TaskFilter {
        let mut filter = self.clone();
        match field {
            FacetField::Scope => filter.scope = None,
            FacetField::Initiator => filter.initiator = None,
            FacetField::TargetType => filter.target_types.clear(),
            FacetField::Kind => filter.kinds.clear(),
            FacetField::Status => filter.statuses.clear(),
            FacetField::AuditService => filter.audit_service = None,
        }
        filter
    }

    fn write(&self, pairs: &mut Vec<(&'static str, String)>) {
        push_list(pairs, "status", &self.statuses, |s| s.as_str());
        push_list(pairs, "kind", &self.kinds, |k| k.as_str());
        push_text(pairs, "initiator", &self.initiator);
        push_list(pairs, "target_type", &self.target_types, |t| t.as_str());
        push_text(pairs, "q", &self.q);
        push_text(pairs, "scope", &self.scope);
        push_time(pairs, "since", self.since);
        push_time(pairs, "until", self.until);
        push_text(pairs, "audit_service", &self.audit_service);
    }

    fn read(pairs: &mut Pairs) -> Result<TaskFilter, QueryError> {
        Ok(TaskFilter {
            statuses: pairs.list("status", |status: &TaskStatus| !status.is_terminal())?,
            kinds: pairs.list("kind", |_: &TaskKind| true)?,
            initiator: pairs.identifier("initiator", "an email or Schedule")?,
            target_types: pairs.list("target_type", |_: &TargetType| true)?,
            q: pairs.search("q")?,
            scope: pairs.search("scope")?,
            since: pairs.time("since")?,
            until: pairs.time("until")?,
            audit_service: pairs.identifier("audit_service", "an Audit Service id")?,
        })
    }
}

/// `GET …/active-tasks`: filters, sort and page.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ActiveTasksQuery {
    /// What the list holds.
    pub filter: TaskFilter,
    /// `sort`.
    pub sort: SortKey,
    /// `order`.
    pub order: Order,
    /// `limit`.
    pub limit: PageLimit,
    /// `cursor`: the previous page's `next_cursor`, sent with the same
    /// filters and sort (opaque; the server decodes it).
    pub cursor: Option<String>,
}

impl ActiveTasksQuery {
    /// The query as the contract's `name=value` pairs; defaults are left out.
    pub fn to_pairs(&self) -> Vec<(&'static str, String)> {
        let mut pairs = Vec::new();
        self.filter.write(&mut pairs);
        if self.sort != SortKey::default() {
            pairs.push(("sort", self.sort.as_str().to_owned()));
        }
        if self.order != Order::default() {
            pairs.push(("order", self.order.as_str().to_owned()));
        }
        if self.limit != PageLimit::default() {
            pairs.push(("limit", self.limit.get().to_string()));
        }
        push_text(&mut pairs, "cursor", &self.cursor);
        pairs
    }

    /// Reads the pairs of a query string; an unknown parameter or value is an error.
    pub fn from_pairs(pairs: BTreeMap<String, String>) -> Result<ActiveTasksQuery, QueryError> {
        let mut pairs = Pairs(pairs);
        let query = ActiveTasksQuery {
            filter: TaskFilter::read(&mut pairs)?,
            sort: pairs.parse("sort")?.unwrap_or_default(),
            order: pairs.parse("order")?.unwrap_or_default(),
            limit: pairs.parse("limit")?.unwrap_or_default(),
            cursor: pairs.take("cursor"),
        };
        pairs.finish()?;
        Ok(query)
    }
}

/// A field of the Active tasks list that facets count (1.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum FacetField {
    /// The whole scope.
    Scope,
    /// The initiator's email, or `Schedule`.
    Initiator,
    /// `device`, `segment` or `cloud_resource`.
    TargetType,
    /// `scan` or `audit`.
    Kind,
    /// `queued` or `running`.
    Status,
    /// The id of the Audit Service running the task.
    AuditService,
}

impl FacetField {
    /// Every field, as the contract lists them.
    pub const ALL: [FacetField; 6] = [
        FacetField::Scope,
        FacetField::Initiator,
        FacetField::TargetType,
        FacetField::Kind,
        FacetField::Status,
        FacetField::AuditService,
    ];

    /// The wire name, e.g. `target_type`.
    pub fn as_str(self) -> &'static str {
        match self {
            FacetField::Scope => "scope",
            FacetField::Initiator => "initiator",
            FacetField::TargetType => "target_type",
            FacetField::Kind => "kind",
            FacetField::Status => "status",
            FacetField::AuditService => "audit_service",
        }
    }
}

impl FromStr for FacetField {
    type Err = QueryError;

    fn from_str(text: &str) -> Result<FacetField, QueryError> {
        FacetField::ALL
            .into_iter()
            .find(|field| field.as_str() == text)
            .ok_or_else(|| {
                QueryError::new(format!(
                    "field must be one of scope, initiator, target_type, kind, status, audit_service, not {text:?}"
                ))
            })
    }
}

/// `GET …/active-tasks/facets` (1.1): the field to count and the list's filters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FacetsQuery {
    /// `field`.
    pub field: FacetField,
    /// The filters of the list (the one on `field` is not applied to its counts).
    pub filter: TaskFilter,
}

impl FacetsQuery {
    /// The query as the contract's `name=value` pairs.
    pub fn to_pairs(&self) -> Vec<(&'static str, String)> {
        let mut pairs = vec![("field", self.field.as_str().to_owned())];
        self.filter.write(&mut pairs);
        pairs
    }

    /// Reads the pairs of a query string; `field` is required.
    pub fn from_pairs(pairs: BTreeMap<String, String>) -> Result<FacetsQuery, QueryError> {
        let mut pairs = Pairs(pairs);
        let field = pairs.parse("field")?.ok_or_else(|| {
            QueryError::new(
                "field is required: scope, initiator, target_type, kind, status or audit_service",
            )
        })?;
        let query = FacetsQuery {
            field,
            filter: TaskFilter::read(&mut pairs)?,
        };
        pairs.finish()?;
        Ok(query)
    }
}

/// `GET …/scan-log` and `GET …/audit-log`: filters and page, newest `end_date` first.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LogQuery {
    /// `status`: only these terminal statuses (as the Site reports them).
    pub statuses: Vec<TaskStatus>,
    /// `initiator`: an email, or `Schedule`.
    pub initiator: Option<String>,
    /// `q`: as for Active tasks.
    pub q: Option<String>,
    /// `has_errors`: only rows with (`true`) or without (`false`) errors.
    pub has_errors: Option<bool>,
    /// `since`: only rows that ended at or after this time.
    pub since: Option<Timestamp>,
    /// `until`: only rows that ended at or before this time.
    pub until: Option<Timestamp>,
    /// `limit`.
    pub limit: PageLimit,
    /// `cursor`: the previous page's `next_cursor`.
    pub cursor: Option<String>,
}

impl LogQuery {
    /// The query as the contract's `name=value` pairs; defaults are left out.
    pub fn to_pairs(&self) -> Vec<(&'static str, String)> {
        let mut pairs = Vec::new();
        push_list(&mut pairs, "status", &self.statuses, |s| s.as_str());
        push_text(&mut pairs, "initiator", &self.initiator);
        push_text(&mut pairs, "q", &self.q);
        if let Some(has_errors) = self.has_errors {
            pairs.push(("has_errors", has_errors.to_string()));
        }
        push_time(&mut pairs, "since", self.since);
        push_time(&mut pairs, "until", self.until);
        if self.limit != PageLimit::default() {
            pairs.push(("limit", self.limit.get().to_string()));
        }
        push_text(&mut pairs, "cursor", &self.cursor);
        pairs
    }

    /// Reads the pairs of a query string; an unknown parameter or value is an error.
    pub fn from_pairs(pairs: BTreeMap<String, String>) -> Result<LogQuery, QueryError> {
        let mut pairs = Pairs(pairs);
        let query = LogQuery {
            statuses: pairs.list("status", |status: &TaskStatus| status.is_terminal())?,
            // A blank initiator does not narrow the log (as 1.0 servers answered).
            initiator: pairs
                .take("initiator")
                .filter(|text| !text.trim().is_empty()),
            q: pairs.search("q")?,
            has_errors: match pairs.take("has_errors").as_deref() {
                None => None,
                Some("true") => Some(true),
                Some("false") => Some(false),
                Some(text) => {
                    return Err(QueryError::new(format!(
                        "has_errors must be true or false, not {text:?}"
                    )))
                }
            },
            since: pairs.time("since")?,
            until: pairs.time("until")?,
            limit: pairs.parse("limit")?.unwrap_or_default(),
            cursor: pairs.take("cursor"),
        };
        pairs.finish()?;
        Ok(query)
    }
}

/// The parameters of a query string not read yet.
struct Pairs(BTreeMap<String, String>);

impl Pairs {
    fn take(&mut self, name: &str) -> Option<String> {
        self.0.remove(name)
    }

    fn parse<T: FromStr<Err = QueryError>>(&mut self, name: &str) -> Result<Option<T>, QueryError> {
        self.take(name).map(|text| text.parse()).transpose()
    }

    /// A comma list of enum values, each one `accept`ed; repeats count once.
    fn list<T: FromStr + PartialEq>(
        &mut self,
        name: &str,
        accept: impl Fn(&T) -> bool,
    ) -> Result<Vec<T>, QueryError> {
        let Some(text) = self.take(name) else {
            return Ok(Vec::new());
        };
        let mut values = Vec::new();
        for part in text.split(',') {
            let value = part
                .trim()
                .parse::<T>()
                .ok()
                .filter(|value| accept(value))
                .ok_or_else(|| QueryError::new(format!("{name} has an unknown value {part:?}")))?;
            if !values.contains(&value) {
                values.push(value);
            }
        }
        Ok(values)
    }

    /// A value that names one thing: blank is an error.
    fn identifier(&mut self, name: &str, what: &str) -> Result<Option<String>, QueryError> {
        match self.take(name) {
            Some(text) if text.trim().is_empty() => {
                Err(QueryError::new(format!("{name} must be {what}")))
            }
            other => Ok(other),
        }
    }

    /// A text typed into a box: empty does not narrow; at most [`MAX_SEARCH_LEN`] characters.
    fn search(&mut self, name: &str) -> Result<Option<String>, QueryError> {
        match self.take(name) {
            Some(text) if text.chars().count() > MAX_SEARCH_LEN => Err(QueryError::new(format!(
                "{name} must be at most {MAX_SEARCH_LEN} characters"
            ))),
            Some(text) if text.trim().is_empty() => Ok(None),
            other => Ok(other),
        }
    }

    fn time(&mut self, name: &str) -> Result<Option<Timestamp>, QueryError> {
        self.take(name)
            .map(|text| {
                chrono::DateTime::parse_from_rfc3339(&text)
                    .map(|time| time.to_utc())
                    .map_err(|_| {
                        QueryError::new(format!("{name} must be an RFC 3339 time, not {text:?}"))
                    })
            })
            .transpose()
    }

    /// Every parameter was read: anything left is unknown.
    fn finish(self) -> Result<(), QueryError> {
        match self.0.into_keys().next() {
            None => Ok(()),
            Some(name) => Err(QueryError::new(format!(
                "there is no query parameter {name:?} here"
            ))),
        }
    }
}

fn push_list<T>(
    pairs: &mut Vec<(&'static str, String)>,
    name: &'static str,
    values: &[T],
    text: impl Fn(&T) -> &'static str,
) {
    if !values.is_empty() {
        let list: Vec<&str> = values.iter().map(text).collect();
        pairs.push((name, list.join(",")));
    }
}

fn push_text(pairs: &mut Vec<(&'static str, String)>, name: &'static str, value: &Option<String>) {
    if let Some(value) = value {
        pairs.push((name, value.clone()));
    }
}

fn push_time(
    pairs: &mut Vec<(&'static str, String)>,
    name: &'static str,
    value: Option<Timestamp>,
) {
    if let Some(time) = value {
        pairs.push((
            name,
            time.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true),
        ));
    }
}

/// Serde through the pairs: a query is a map of parameter names to texts.
macro_rules! serde_via_pairs {
    ($($query:ty),*) => {$(
        impl Serialize for $query {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.collect_map(self.to_pairs())
            }
        }

        impl<'de> Deserialize<'de> for $query {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let pairs = BTreeMap::<String, String>::deserialize(deserializer)?;
                <$query>::from_pairs(pairs).map_err(D::Error::custom)
            }
        }
    )*};
}

serde_via_pairs!(ActiveTasksQuery, FacetsQuery, LogQuery);

#[cfg(feature = "openapi")]
mod openapi {
    //! The query parameters in the OpenAPI document.

    use utoipa::openapi::path::{Parameter, ParameterBuilder, ParameterIn};
    use utoipa::openapi::schema::{KnownFormat, ObjectBuilder, SchemaFormat, Type};
    use utoipa::openapi::Required;
    use utoipa::IntoParams;

    use super::*;

    fn param(name: &str, description: &str, schema: ObjectBuilder) -> Parameter {
        ParameterBuilder::new()
            .name(name)
            .parameter_in(ParameterIn::Query)
            .required(Required::False)
            .description(Some(description))
            .schema(Some(schema.build()))
            .build()
    }

    fn text() -> ObjectBuilder {
        ObjectBuilder::new().schema_type(Type::String)
    }

    fn one_of(values: &[&str]) -> ObjectBuilder {
        text().enum_values(Some(values.iter().copied()))
    }

    fn time() -> ObjectBuilder {
        text().format(Some(SchemaFormat::KnownFormat(KnownFormat::DateTime)))
    }

    fn limit() -> Parameter {
        param(
            "limit",
            "Page size, 1..1000, default 200.",
            ObjectBuilder::new()
                .schema_type(Type::Integer)
                .minimum(Some(1))
                .maximum(Some(MAX_PAGE_LIMIT)),
        )
    }

    fn filter_params() -> Vec<Parameter> {
        vec![
            param(
                "status",
                "`queued`, `running`, or both as a comma list.",
                text(),
            ),
            param("kind", "`scan` or `audit`, or a comma list.", text()),
            param(
                "initiator",
                "An email, or exactly `Schedule` (case-insensitive).",
                text(),
            ),
            param(
                "target_type",
                "`device`, `segment` or `cloud_resource`, or a comma list.",
                text(),
            ),
            param(
                "q",
                "Case-insensitive substring of the target name, label, scope or initiator.",
                text(),
            ),
            param(
                "scope",
                "(1.1) The whole scope, compared case-insensitively.",
                text(),
            ),
            param(
                "since",
                "(1.1) Only tasks with `start_date` at or after this time (RFC 3339).",
                time(),
            ),
            param(
                "until",
                "(1.1) Only tasks with `start_date` at or before this time (RFC 3339).",
                time(),
            ),
            param(
                "audit_service",
                "(1.1) An Audit Service id: only the tasks it is running.",
                text(),
            ),
        ]
    }

    impl IntoParams for ActiveTasksQuery {
        fn into_params(_: impl Fn() -> Option<ParameterIn>) -> Vec<Parameter> {
            let mut params = filter_params();
            let sorts: Vec<&str> = SortKey::ALL.iter().map(|key| key.as_str()).collect();
            params.extend([
                param(
                    "sort",
                    "The sort key; default `start_date`.",
                    one_of(&sorts),
                ),
                param(
                    "order",
                    "`asc` or `desc` (default).",
                    one_of(&["asc", "desc"]),
                ),
                limit(),
                param(
                    "cursor",
                    "The `next_cursor` of the previous page, sent with the same filters and sort.",
                    text(),
                ),
            ]);
            params
        }
    }

    impl IntoParams for FacetsQuery {
        fn into_params(_: impl Fn() -> Option<ParameterIn>) -> Vec<Parameter> {
            let fields: Vec<&str> = FacetField::ALL.iter().map(|field| field.as_str()).collect();
            let mut field = param(
                "field",
                "The field to count; its own filter is not applied to the counts.",
                one_of(&fields),
            );
            field.required = Required::True;
            let mut params = vec![field];
            params.extend(filter_params());
            params
        }
    }

    impl IntoParams for LogQuery {
        fn into_params(_: impl Fn() -> Option<ParameterIn>) -> Vec<Parameter> {
            vec![
                param(
                    "status",
                    "`finished`, `cancelled` or `failed`, or a comma list.",
                    text(),
                ),
                param("initiator", "An email, or exactly `Schedule`.", text()),
                param(
                    "q",
                    "Case-insensitive substring of the target name, label, scope or initiator.",
                    text(),
                ),
                param(
                    "has_errors",
                    "`true`: only rows with errors; `false`: only rows without.",
                    ObjectBuilder::new().schema_type(Type::Boolean),
                ),
                param(
                    "since",
                    "Only rows that ended at or after this time (RFC 3339).",
                    time(),
                ),
                param(
                    "until",
                    "Only rows that ended at or before this time (RFC 3339).",
                    time(),
                ),
                limit(),
                param(
                    "cursor",
                    "The `next_cursor` of the previous page, sent with the same filters.",
                    text(),
                ),
            ]
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(text: &str) -> BTreeMap<String, String> {
        text.split('&')
            .filter(|pair| !pair.is_empty())
            .map(|pair| {
                let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
                (name.to_owned(), value.to_owned())
            })
            .collect()
    }

    fn active(text: &str) -> Result<ActiveTasksQuery, QueryError> {
        ActiveTasksQuery::from_pairs(pairs(text))
    }

    #[test]
    fn an_empty_query_is_newest_first_over_both_active_statuses() {
        let query = active("").unwrap();
        assert_eq!(query, ActiveTasksQuery::default());
        assert_eq!((query.sort, query.order), (SortKey::StartDate, Order::Desc));
        assert_eq!(query.limit.get(), DEFAULT_PAGE_LIMIT);
        assert!(query.filter.is_empty());
        assert!(query.to_pairs().is_empty());
    }

    #[test]
    fn every_parameter_round_trips_through_its_pairs() {
        let query = active(
            "status=running,queued,running&kind=audit&initiator=Schedule&target_type=device,segment\
             &q=ws&scope=Segment HQ&since=2026-11-28T09:00:00Z&until=2026-11-28T10:00:00.5Z\
             &audit_service=as-1&sort=task&order=asc&limit=50&cursor=abc",
        )
        .unwrap();
        assert_eq!(
            query.filter.statuses,
            [TaskStatus::Running, TaskStatus::Queued]
        );
        assert_eq!(query.filter.kinds, [TaskKind::Audit]);
        assert_eq!(
            query.filter.target_types,
            [TargetType::Device, TargetType::Segment]
        );
        assert_eq!(query.filter.scope.as_deref(), Some("Segment HQ"));
        assert_eq!(query.filter.audit_service.as_deref(), Some("as-1"));
        assert_eq!(
            (query.sort, query.order, query.limit.get()),
            (SortKey::Task, Order::Asc, 50)
        );
        assert!(query.filter.uses_revision_1_1());
        let back: BTreeMap<String, String> = query
            .to_pairs()
            .into_iter()
            .map(|(name, value)| (name.to_owned(), value))
            .collect();
        assert_eq!(ActiveTasksQuery::from_pairs(back).unwrap(), query);
        // And through JSON, as the desktop carries it.
        let json = serde_json::to_string(&query).unwrap();
        assert_eq!(
            serde_json::from_str::<ActiveTasksQuery>(&json).unwrap(),
            query
        );
    }

    #[test]
    fn unknown_parameters_and_values_are_refused_with_a_sentence() {
        for (text, message) in [
            (
                "status=finished",
                "status has an unknown value \"finished\"",
            ),
            (
                "status=queued,paused",
                "status has an unknown value \"paused\"",
            ),
            ("kind=inventory", "kind has an unknown value \"inventory\""),
            (
                "target_type=printer",
                "target_type has an unknown value \"printer\"",
            ),
            ("sort=colour", "sort must be one of"),
            ("order=up", "order must be asc or desc"),
            ("initiator= ", "initiator must be an email or Schedule"),
            (
                "audit_service=",
                "audit_service must be an Audit Service id",
            ),
            ("limit=0", "limit must be a whole number from 1 to 1000"),
            ("limit=1001", "limit must be"),
            ("limit=ten", "limit must be"),
            ("since=yesterday", "since must be an RFC 3339 time"),
            ("colour=red", "there is no query parameter \"colour\""),
        ] {
            let error = active(text).unwrap_err().to_string();
            assert!(error.starts_with(message), "{text}: {error}");
        }
        let long = "x".repeat(MAX_SEARCH_LEN + 1);
        assert!(active(&format!("q={long}")).is_err());
        assert!(active(&format!("scope={long}")).is_err());
        // A blank search or scope does not narrow.
        assert!(active("q=&scope= ").unwrap().filter.is_empty());
    }

    #[test]
    fn facets_need_a_known_field_and_take_only_filters() {
        let query = FacetsQuery::from_pairs(pairs("field=target_type&kind=scan")).unwrap();
        assert_eq!(query.field, FacetField::TargetType);
        assert_eq!(query.filter.kinds, [TaskKind::Scan]);
        for bad in [
            "",
            "field=colour",
            "field=kind&sort=task",
            "field=kind&limit=5",
        ] {
            assert!(
                FacetsQuery::from_pairs(pairs(bad)).is_err(),
                "{bad:?} accepted"
            );
        }
    }

    #[test]
    fn a_facet_counts_without_its_own_filter() {
        let filter = TaskFilter {
            kinds: vec![TaskKind::Scan],
            scope: Some("HQ".to_owned()),
            ..TaskFilter::default()
        };
        assert_eq!(filter.without(FacetField::Kind).kinds, []);
        assert_eq!(
            filter.without(FacetField::Kind).scope.as_deref(),
            Some("HQ")
        );
        assert_eq!(filter.without(FacetField::Status), filter);
    }

    #[test]
    fn log_queries_take_terminal_statuses_and_a_boolean() {
        let query =
            LogQuery::from_pairs(pairs("status=failed,cancelled&has_errors=true&initiator="))
                .unwrap();
        assert_eq!(query.statuses, [TaskStatus::Failed, TaskStatus::Cancelled]);
        assert_eq!(query.has_errors, Some(true));
        assert_eq!(query.initiator, None);
        for bad in ["status=queued", "has_errors=yes", "sort=task"] {
            assert!(
                LogQuery::from_pairs(pairs(bad)).is_err(),
                "{bad:?} accepted"
            );
        }
    }
}
