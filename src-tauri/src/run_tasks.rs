//! Running tasks on a Site from the console: creating them in batches the
//! contract allows (`POST …/tasks/batch`, 500 at a time; one by one on a
//! 1.0 Site), waiting out each 429 with the wait reported, and saying what
//! was created and what was not. Also what "every failed task matching the
//! log's filter" means as log queries.

use std::time::Duration;

use site_api::{CreateTaskRequest, LogQuery, TaskKind, TaskStatus};
use taskdeck_ipc::{RunProgress, RunSummary};

use crate::error::Error;
use crate::site_client::SiteClient;

/// The most tasks one batch creates (the contract's limit).
pub const BATCH: usize = site_api::MAX_CREATE_BATCH;
/// How many 429s in a row a run waits out before it stops.
const MAX_WAITS_IN_A_ROW: u32 = 10;
/// The longest wait for one 429.
const MAX_WAIT: Duration = Duration::from_secs(60);

/// Creates `tasks` on `site_id` in order, in batches of [`BATCH`]; calls
/// `progress` after each batch and before each wait. Stops at the first
/// failure other than a 429, and says so in the summary: the tasks before
/// it were created, the rest were not.
pub async fn run_tasks(
    client: &SiteClient,
    site_id: &str,
    tasks: &[CreateTaskRequest],
    mut progress: impl FnMut(RunProgress),
) -> RunSummary {
    let mut summary = RunSummary::new(tasks.len());
    let mut batched = true;
    let mut rest = tasks;
    let mut waits_in_a_row = 0;
    while !rest.is_empty() {
        let take = if batched { rest.len().min(BATCH) } else { 1 };
        let chunk = &rest[..take];
        let created = match batched {
            true => client.create_tasks(site_id, chunk).await,
            false => client
                .create_task_once(site_id, &chunk[0])
                .await
                .map(|task| vec![task]),
        };
        match created {
            Ok(created) => {
                waits_in_a_row = 0;
                summary
                    .created
                    .extend(created.into_iter().map(|task| task.id));
                rest = &rest[take..];
                progress(RunProgress {
                    created: summary.created.len() as u32,
                    total: summary.asked,
                    waiting_secs: None,
                });
            }
            // A 1.0 Site has no batches: one request per task.
            Err(Error::OlderSite(_)) if batched => batched = false,
            Err(Error::RateLimited { retry_after_secs }) if waits_in_a_row < MAX_WAITS_IN_A_ROW => {
                let wait = Duration::from_secs(retry_after_secs.max(1)).min(MAX_WAIT);
                waits_in_a_row += 1;
                summary.waits += 1;
                progress(RunProgress {
                    created: summary.created.len() as u32,
                    total: summary.asked,
                    waiting_secs: Some(wait.as_secs()),
                });
                tokio::time::sleep(wait).await;
            }
            Err(error) => {
                summary.failure = Some(error.to_string());
                break;
            }
        }
    }
    summary
}

/// The log queries whose rows together are the failed ones among those
/// `query` matches, each once: a row with errors is failed whatever its
/// status says (a Site whose `failed_label` is `finished`), and a row
/// without errors is failed when its status is `failed`. Empty when the
/// query can match no failed row.
pub fn failed_queries(query: &LogQuery) -> Vec<LogQuery> {
    let with_errors = LogQuery {
        has_errors: Some(true),
        cursor: None,
        ..query.clone()
    };
    let failed_status: Vec<TaskStatus> =
        match query.statuses.is_empty() || query.statuses.contains(&TaskStatus::Failed) {
            true => vec![TaskStatus::Failed],
            false => Vec::new(),
        };
    let failed_without_errors = (!failed_status.is_empty()).then(|| LogQuery {
        statuses: failed_status,
        has_errors: Some(false),
        cursor: None,
        ..query.clone()
    });
    match query.has_errors {
        Some(true) => vec![with_errors],
        Some(false) => failed_without_errors.into_iter().collect(),
        None => std::iter::once(with_errors)
            .chain(failed_without_errors)
            .collect(),
    }
}

/// Every failed task of `kind`'s log on `site_id` that `query` matches, as
/// the tasks that run them again (same kind, target and scope), newest
/// ended first.
pub async fn failed_in_log(
    client: &SiteClient,
    site_id: &str,
    kind: TaskKind,
    query: &LogQuery,
) -> Result<Vec<CreateTaskRequest>, Error> {
    let mut found = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for mut query in failed_queries(query) {
        query.limit = site_api::PageLimit::MAX;
        loop {
            let page = client.log(site_id, kind, &query).await?;
            for entry in page.entries {
                if entry.task.is_effectively_failed() && seen.insert(entry.task.id) {
                    found.push(CreateTaskRequest::again(&entry.task));
                }
            }
            match page.next_cursor {
                Some(cursor) => query.cursor = Some(cursor),
                None => break,
            }
        }
    }
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failed_rows_are_those_with_errors_and_the_failed_without() {
        let all = failed_queries(&LogQuery::default());
        assert_eq!(all.len(), 2);
        assert_eq!(all[0].has_errors, Some(true));
        assert!(all[0].statuses.is_empty());
        assert_eq!(all[1].has_errors, Some(false));
        assert_eq!(all[1].statuses, vec![TaskStatus::Failed]);
    }

    #[test]
    fn the_logs_own_filters_narrow_the_failed_rows() {
        let search = LogQuery {
            q: Some("hq-lan".to_owned()),
            initiator: Some("Schedule".to_owned()),
            ..LogQuery::default()
        };
        for query in failed_queries(&search) {
            assert_eq!(query.q.as_deref(), Some("hq-lan"));
            assert_eq!(query.initiator.as_deref(), Some("Schedule"));
        }
        // "With errors" ticked: one query, the rows with errors.
        let with_errors = LogQuery {
            has_errors: Some(true),
            ..LogQuery::default()
        };
        assert_eq!(failed_queries(&with_errors).len(), 1);
        // Only Finished rows: those with errors (a Site labelling failures Finished).
        let finished = LogQuery {
            statuses: vec![TaskStatus::Finished],
            ..LogQuery::default()
        };
        let queries = failed_queries(&finished);
        assert_eq!(queries.len(), 1);
        assert_eq!(queries[0].statuses, vec![TaskStatus::Finished]);
        assert_eq!(queries[0].has_errors, Some(true));
        // Finished rows without errors are never failed.
        let clean = LogQuery {
            statuses: vec![TaskStatus::Finished, TaskStatus::Cancelled],
            has_errors: Some(false),
            ..LogQuery::default()
        };
        assert!(failed_queries(&clean).is_empty());
        // Failed rows without errors.
        let failed_clean = LogQuery {
            statuses: vec![TaskStatus::Failed, TaskStatus::Cancelled],
            has_errors: Some(false),
            ..LogQuery::default()
        };
        let queries = failed_queries(&failed_clean);
        assert_eq!(queries.len(), 1);
        assert_eq!(queries[0].statuses, vec![TaskStatus::Failed]);
    }
}
