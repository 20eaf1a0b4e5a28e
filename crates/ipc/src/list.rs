//! What the window asks of the Active tasks list: the contract's query,
//! with the start-date range kept as the user chose it (a relative range
//! is taken at each reading, so a list that stays open keeps showing "the
//! last hour").

use serde::{Deserialize, Serialize};
use site_api::{ActiveTasksQuery, Timestamp};

use crate::StartedFilter;

/// The Active tasks the window wants; the Site filters and sorts them all.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ListQuery {
    /// The contract's filters and sort (the backend follows the cursors:
    /// `cursor` is not the window's to set, nor the Site's page size).
    /// Its `since`/`until` are left to `started`.
    pub site: ActiveTasksQuery,
    /// How many rows the window wants (more than a Site page: the backend
    /// reads page after page); `None`: one Site page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rows: Option<u32>,
    /// Only tasks that entered the queue in this range (sent as the
    /// contract's `since`/`until`, taken at the time of each reading).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub started: Option<StartedFilter>,
}

impl ListQuery {
    /// The query sent to the Site at `now`: the window's own, with the
    /// start-date range as `since`/`until` (the range holds its start,
    /// not its end; the contract's `until` is included, so it ends just
    /// before).
    pub fn site_query(&self, now: Timestamp) -> ActiveTasksQuery {
        let mut query = ActiveTasksQuery {
            cursor: None,
            ..self.site.clone()
        };
        if let Some(started) = self.started {
            let (since, before) = started.range(now);
            query.filter.since = since;
            query.filter.until = before.map(|before| before - chrono::Duration::milliseconds(1));
        }
        query
    }

    /// What the filter menus' counts depend on: this query's filters and
    /// start-date range, without its order or the rows wanted.
    pub fn filters(&self) -> ListQuery {
        ListQuery {
            site: ActiveTasksQuery {
                filter: self.site.filter.clone(),
                ..ActiveTasksQuery::default()
            },
            rows: None,
            started: self.started,
        }
    }

    /// True if and only if the Site must know revision 1.1 to answer it.
    pub fn uses_revision_1_1(&self) -> bool {
        self.started.is_some() || self.site.filter.uses_revision_1_1()
    }

    /// This query without what a 1.0 Site does not know (scope, start
    /// dates, Audit Service).
    pub fn without_revision_1_1(&self) -> ListQuery {
        let mut query = self.clone();
        query.started = None;
        let filter = &mut query.site.filter;
        filter.scope = None;
        filter.since = None;
        filter.until = None;
        filter.audit_service = None;
        query
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> Timestamp {
        text.parse().unwrap()
    }

    #[test]
    fn a_range_is_sent_as_since_and_until_taken_at_each_reading() {
        let query = ListQuery {
            site: ActiveTasksQuery {
                cursor: Some("stale".to_owned()),
                ..ActiveTasksQuery::default()
            },
            started: Some(StartedFilter::Within { hours: 1 }),
            ..ListQuery::default()
        };
        let sent = query.site_query(at("2026-11-28T10:00:00Z"));
        assert_eq!(sent.filter.since, Some(at("2026-11-28T09:00:00Z")));
        assert_eq!(sent.filter.until, None);
        assert_eq!(sent.cursor, None);
        let later = query.site_query(at("2026-11-28T10:30:00Z"));
        assert_eq!(later.filter.since, Some(at("2026-11-28T09:30:00Z")));
        // "Before" excludes its end; the contract's until includes it.
        let older = ListQuery {
            started: Some(StartedFilter::Between {
                from: None,
                to: Some(at("2026-11-28T09:00:00Z")),
            }),
            ..ListQuery::default()
        };
        let sent = older.site_query(at("2026-11-29T00:00:00Z"));
        assert_eq!(sent.filter.since, None);
        assert_eq!(sent.filter.until, Some(at("2026-11-28T08:59:59.999Z")));
        assert!(older.uses_revision_1_1());
    }

    #[test]
    fn without_1_1_a_query_keeps_what_1_0_knows() {
        let query = ListQuery {
            site: ActiveTasksQuery {
                filter: site_api::TaskFilter {
                    statuses: vec![site_api::TaskStatus::Queued],
                    scope: Some("Segment HQ".to_owned()),
                    audit_service: Some("as-1".to_owned()),
                    q: Some("ws".to_owned()),
                    ..site_api::TaskFilter::default()
                },
                ..ActiveTasksQuery::default()
            },
            rows: Some(3000),
            started: Some(StartedFilter::OlderThan { hours: 2 }),
        };
        assert!(query.uses_revision_1_1());
        let older = query.without_revision_1_1();
        assert!(!older.uses_revision_1_1());
        assert_eq!(older.site.filter.statuses, [site_api::TaskStatus::Queued]);
        assert_eq!(older.site.filter.q.as_deref(), Some("ws"));
        assert_eq!(older.rows, Some(3000));
        assert!(!ListQuery::default().uses_revision_1_1());
        // The counts' query: the same filters, whatever the order and rows.
        let mut sorted = query.clone();
        sorted.site.sort = site_api::SortKey::Target;
        sorted.rows = Some(1000);
        assert_eq!(sorted.filters(), query.filters());
        assert_eq!(query.filters().site.filter, query.site.filter);
        assert_eq!(query.filters().started, query.started);
    }

    #[test]
    fn an_empty_range_is_not_sent() {
        let text = serde_json::to_string(&ListQuery::default()).unwrap();
        assert_eq!(text, r#"{"site":{}}"#);
        let back: ListQuery = serde_json::from_str(r#"{"site":{"q":"x"},"rows":3000}"#).unwrap();
        assert_eq!(back.site.filter.q.as_deref(), Some("x"));
        assert_eq!(back.rows, Some(3000));
        assert!(back.started.is_none());
    }
}
