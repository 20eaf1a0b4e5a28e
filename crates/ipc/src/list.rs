//! What the window asks of the Active tasks list: the contract's query,
//! and the narrowing the contract has no parameter for (scope, start
//! dates), which the backend applies to the Site's answer.

use serde::{Deserialize, Serialize};
use site_api::{ActiveTasksQuery, Order, SortKey, Task, Timestamp};

use crate::StartedFilter;

/// The Active tasks the window wants: what the Site filters itself, and
/// what the backend narrows on top of the Site's answer.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ListQuery {
    /// The contract's filters and sort (the backend follows the cursors:
    /// `cursor` is not the window's to set, nor the Site's page size).
    pub site: ActiveTasksQuery,
    /// How many rows the window wants (more than a Site page: the backend
    /// reads page after page); `None`: one Site page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rows: Option<u32>,
    /// Filters the contract has no parameter for.
    #[serde(skip_serializing_if = "Narrowing::is_empty")]
    pub narrow: Narrowing,
}

impl ListQuery {
    /// The query sent to the Site: the window's own, with the scope as the
    /// search text when there is no search (the contract's `q` covers the
    /// scope, so the Site's answer holds every task of that scope and the
    /// backend drops the rest).
    pub fn site_query(&self) -> ActiveTasksQuery {
        let mut query = ActiveTasksQuery {
            cursor: None,
            ..self.site.clone()
        };
        if query
            .filter
            .q
            .as_deref()
            .is_none_or(|q| q.trim().is_empty())
        {
            query.filter.q = self.narrow.scope.clone();
        }
        query
    }

    /// The list is read in start-date order, oldest first.
    fn oldest_first(&self) -> Option<bool> {
        (self.site.sort == SortKey::StartDate).then_some(self.site.order == Order::Asc)
    }

    /// The same list read oldest first, when that reads less: newest first
    /// with a start-date range that ends in the past and has no start
    /// ("more than 24 hours ago") lies at the far end of the Site's
    /// answer, but at its near end read oldest first (then reversed: the
    /// newest of the range come last).
    pub fn read_oldest_first(&self) -> Option<ListQuery> {
        let open_start = matches!(
            self.narrow.started,
            Some(
                StartedFilter::OlderThan { .. }
                    | StartedFilter::Between {
                        from: None,
                        to: Some(_)
                    }
            )
        );
        (open_start && self.oldest_first() == Some(false)).then(|| ListQuery {
            site: ActiveTasksQuery {
                sort: SortKey::StartDate,
                order: Order::Asc,
                ..self.site.clone()
            },
            rows: self.rows,
            narrow: self.narrow.clone(),
        })
    }

    /// Read in this query's order at `now`, no task after `task` can
    /// match: the list is in start-date order and `task` is already past
    /// the start-date range. (Reading the Site's pages can stop there.)
    pub fn past_the_range(&self, task: &Task, now: Timestamp) -> bool {
        let (after, before) = self.narrow.started_range(now);
        match self.oldest_first() {
            Some(false) => after.is_some_and(|after| task.start_date < after),
            Some(true) => before.is_some_and(|before| task.start_date >= before),
            None => false,
        }
    }
}

/// Filters of the Active tasks list the contract's query cannot express;
/// the backend applies them to every task the Site answers.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Narrowing {
    /// Only tasks whose scope contains this text (case-insensitively).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
    /// Only tasks that entered the queue in this range (a relative range
    /// is taken at the time of each reading, so a list that stays open
    /// keeps showing "the last hour").
    #[serde(skip_serializing_if = "Option::is_none")]
    pub started: Option<StartedFilter>,
}

impl Narrowing {
    /// Nothing to narrow: the Site's answer is the list.
    pub fn is_empty(&self) -> bool {
        self.scope.as_deref().is_none_or(|s| s.trim().is_empty()) && self.started.is_none()
    }

    /// The start-date range at `now`: (at or after, before).
    fn started_range(&self, now: Timestamp) -> (Option<Timestamp>, Option<Timestamp>) {
        self.started
            .map_or((None, None), |started| started.range(now))
    }

    /// `task` passes every narrowing filter at `now`.
    pub fn matches(&self, task: &Task, now: Timestamp) -> bool {
        let scope = self.scope.as_deref().map(str::trim).unwrap_or_default();
        let (after, before) = self.started_range(now);
        (scope.is_empty() || task.scope.to_lowercase().contains(&scope.to_lowercase()))
            && after.is_none_or(|after| task.start_date >= after)
            && before.is_none_or(|before| task.start_date < before)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn task(scope: &str, start: &str) -> Task {
        serde_json::from_value(serde_json::json!({
            "id": "scan-1", "kind": "scan", "number": 1, "label": "Scan #1",
            "target": {"type": "segment", "name": "HQ-LAN"},
            "start_date": start, "scope": scope, "initiator": "Schedule",
            "schedule": null, "status": "queued", "audit_service": null,
            "running_since": null, "progress": null, "end_date": null, "errors": 0
        }))
        .unwrap()
    }

    fn at(text: &str) -> Timestamp {
        text.parse().unwrap()
    }

    #[test]
    fn a_task_matches_when_its_scope_contains_the_text_and_it_started_in_the_range() {
        let now = at("2026-11-29T00:00:00Z");
        let narrow = Narrowing {
            scope: Some(" hq-lan ".to_owned()),
            started: Some(StartedFilter::Between {
                from: Some(at("2026-11-28T09:00:00Z")),
                to: Some(at("2026-11-28T10:00:00Z")),
            }),
        };
        assert!(narrow.matches(&task("Segment HQ-LAN", "2026-11-28T09:00:00Z"), now));
        assert!(narrow.matches(&task("Segment HQ-LAN-2", "2026-11-28T09:59:59Z"), now));
        assert!(!narrow.matches(&task("Segment Branch", "2026-11-28T09:30:00Z"), now));
        // The range holds its start, not its end.
        assert!(!narrow.matches(&task("Segment HQ-LAN", "2026-11-28T10:00:00Z"), now));
        assert!(!narrow.matches(&task("Segment HQ-LAN", "2026-11-28T08:59:59Z"), now));
        assert!(Narrowing::default().matches(&task("", "2026-11-28T08:59:59Z"), now));
        let blank = Narrowing {
            scope: Some("  ".to_owned()),
            ..Narrowing::default()
        };
        assert!(blank.is_empty());
        assert!(blank.matches(&task("anything", "2026-11-28T08:59:59Z"), now));
    }

    #[test]
    fn a_relative_range_is_taken_at_each_reading() {
        let narrow = Narrowing {
            started: Some(StartedFilter::Within { hours: 1 }),
            ..Narrowing::default()
        };
        let started = task("s", "2026-11-28T09:30:00Z");
        assert!(narrow.matches(&started, at("2026-11-28T10:00:00Z")));
        assert!(!narrow.matches(&started, at("2026-11-28T10:30:01Z")));
    }

    #[test]
    fn the_scope_is_sent_as_the_search_unless_the_user_searched() {
        let mut query = ListQuery {
            site: ActiveTasksQuery {
                filter: site_api::TaskFilter {
                    statuses: vec![site_api::TaskStatus::Queued],
                    ..site_api::TaskFilter::default()
                },
                cursor: Some("stale".to_owned()),
                ..ActiveTasksQuery::default()
            },
            rows: None,
            narrow: Narrowing {
                scope: Some("HQ-LAN".to_owned()),
                ..Narrowing::default()
            },
        };
        let sent = query.site_query();
        assert_eq!(sent.filter.q.as_deref(), Some("HQ-LAN"));
        assert_eq!(sent.filter.statuses, [site_api::TaskStatus::Queued]);
        assert_eq!(sent.cursor, None);
        query.site.filter.q = Some("ws-0042".to_owned());
        assert_eq!(query.site_query().filter.q.as_deref(), Some("ws-0042"));
    }

    #[test]
    fn reading_stops_past_the_range_only_in_start_date_order() {
        let now = at("2026-11-29T00:00:00Z");
        let mut query = ListQuery {
            narrow: Narrowing {
                started: Some(StartedFilter::Between {
                    from: Some(at("2026-11-28T09:00:00Z")),
                    to: Some(at("2026-11-28T10:00:00Z")),
                }),
                ..Narrowing::default()
            },
            ..ListQuery::default()
        };
        let early = task("s", "2026-11-28T08:00:00Z");
        let inside = task("s", "2026-11-28T09:30:00Z");
        let late = task("s", "2026-11-28T10:30:00Z");
        // Newest first (the default): past once older than the range.
        assert!(query.past_the_range(&early, now));
        assert!(!query.past_the_range(&inside, now));
        assert!(!query.past_the_range(&late, now));
        // Oldest first: past once newer.
        query.site.sort = SortKey::StartDate;
        query.site.order = Order::Asc;
        assert!(query.past_the_range(&late, now));
        assert!(!query.past_the_range(&early, now));
        // Any other order: every page is read.
        query.site.sort = SortKey::Scope;
        assert!(!query.past_the_range(&late, now));
        assert!(!query.past_the_range(&early, now));
    }

    #[test]
    fn a_range_open_at_its_start_is_read_oldest_first() {
        let older = |started| ListQuery {
            narrow: Narrowing {
                started: Some(started),
                ..Narrowing::default()
            },
            ..ListQuery::default()
        };
        let query = older(StartedFilter::OlderThan { hours: 24 });
        let flipped = query.read_oldest_first().unwrap();
        assert_eq!(flipped.site.sort, SortKey::StartDate);
        assert_eq!(flipped.site.order, Order::Asc);
        assert_eq!(flipped.narrow, query.narrow);
        let before = older(StartedFilter::Between {
            from: None,
            to: Some(at("2026-11-28T09:00:00Z")),
        });
        assert!(before.read_oldest_first().is_some());
        // A range with a start, or another order, reads as asked.
        assert!(older(StartedFilter::Within { hours: 1 })
            .read_oldest_first()
            .is_none());
        let mut by_scope = query.clone();
        by_scope.site.sort = SortKey::Scope;
        assert!(by_scope.read_oldest_first().is_none());
        let mut ascending = query;
        ascending.site.order = Order::Asc;
        assert!(ascending.read_oldest_first().is_none());
    }

    #[test]
    fn an_empty_narrowing_is_not_sent() {
        let text = serde_json::to_string(&ListQuery::default()).unwrap();
        assert_eq!(text, r#"{"site":{}}"#);
        let back: ListQuery = serde_json::from_str(r#"{"site":{"q":"x"},"rows":3000}"#).unwrap();
        assert_eq!(back.site.filter.q.as_deref(), Some("x"));
        assert_eq!(back.rows, Some(3000));
        assert!(back.narrow.is_empty());
    }
}
