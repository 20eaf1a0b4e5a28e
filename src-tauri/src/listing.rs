//! Reading the Active tasks the window asks for: page after page of the
//! Site's answer, following its cursors, narrowed by what the contract
//! cannot filter (scope, start dates). The list command and "cancel all
//! matching" both read through here.

use site_api::{ActiveTasksPage, ActiveTasksQuery, PageLimit, Task};
use taskdeck_ipc::ListQuery;

use crate::error::Error;
use crate::site_client::SiteClient;

/// The most rows `list_tasks` reads for the window.
pub const MAX_LISTED: usize = 20_000;

/// The Site's largest page (the contract's `limit` bound).
pub const SITE_PAGE: u32 = 1000;

/// Reads up to `rows` tasks matching `query`, page after page, handing each
/// page's tasks to `keep`; returns the last page (its cursor, total, counts
/// and revision; its tasks already given to `keep`).
///
/// With a narrowing, the pages of the Site's nearest query are read (up
/// to where the start-date order leaves the range) and narrowed here.
/// `Counting::Exact` reads them all, so that `total` counts exactly what
/// matches (tasks beyond `rows` are counted, not kept); `Counting::Rows`
/// stops once it holds `rows` tasks, and then answers with `total` as
/// counted so far and `next_cursor` set: more may match (see
/// [`count_matching`]).
pub async fn read_matching(
    client: &SiteClient,
    site_id: &str,
    query: &ListQuery,
    rows: usize,
    counting: Counting,
    mut keep: impl FnMut(&mut Vec<Task>),
) -> Result<ActiveTasksPage, Error> {
    if query.narrow.is_empty() {
        return read_pages(client, site_id, query.site_query(), rows, keep).await;
    }
    if let Some(oldest_first) = query.read_oldest_first() {
        // The range lies at the start of the oldest-first answer: read it
        // all (the count is exact), keep its newest `rows`, newest first.
        let mut newest = std::collections::VecDeque::with_capacity(rows.min(4096));
        let mut last = read_narrowed(
            client,
            site_id,
            &oldest_first,
            usize::MAX,
            Counting::Exact,
            |page| {
                for task in page.drain(..) {
                    if newest.len() == rows {
                        newest.pop_front();
                    }
                    if rows > 0 {
                        newest.push_back(task);
                    }
                }
            },
        )
        .await?;
        let mut tasks: Vec<Task> = newest.into_iter().rev().collect();
        keep(&mut tasks);
        last.next_cursor = None;
        return Ok(last);
    }
    read_narrowed(client, site_id, query, rows, counting, keep).await
}

/// [`read_matching`] with a narrowing, in the query's own order.
async fn read_narrowed(
    client: &SiteClient,
    site_id: &str,
    query: &ListQuery,
    rows: usize,
    counting: Counting,
    mut keep: impl FnMut(&mut Vec<Task>),
) -> Result<ActiveTasksPage, Error> {
    let mut site = query.site_query();
    site.limit = PageLimit::MAX;
    let now = chrono::Utc::now();
    let (mut kept, mut total) = (0, 0);
    loop {
        let mut page = client.page(site_id, &site).await?;
        let past = page.tasks.iter().position(|t| query.past_the_range(t, now));
        page.tasks.truncate(past.unwrap_or(page.tasks.len()));
        page.tasks.retain(|task| query.narrow.matches(task, now));
        total += page.tasks.len() as u64;
        page.tasks.truncate(rows - kept);
        kept += page.tasks.len();
        keep(&mut page.tasks);
        match page.next_cursor.take() {
            Some(cursor) if past.is_none() && (counting == Counting::Exact || kept < rows) => {
                site.cursor = Some(cursor)
            }
            Some(cursor) if past.is_none() => {
                page.total = total;
                page.next_cursor = Some(cursor);
                return Ok(page);
            }
            _ => {
                page.total = total;
                return Ok(page);
            }
        }
    }
}

/// How far a narrowed reading goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Counting {
    /// Every page: `total` is exact.
    Exact,
    /// Until the rows wanted are in hand: `total` may be short.
    Rows,
}

/// How many active tasks of the Site match `query`, exactly.
pub async fn count_matching(
    client: &SiteClient,
    site_id: &str,
    query: &ListQuery,
) -> Result<u64, Error> {
    if query.narrow.is_empty() {
        let mut site = query.site_query();
        site.limit = PageLimit::new(1).unwrap_or_default();
        return Ok(client.page(site_id, &site).await?.total);
    }
    let page = read_matching(client, site_id, query, 0, Counting::Exact, |_| {}).await?;
    Ok(page.total)
}

/// Reads up to `rows` tasks of the Site's answer to `query`, following its
/// cursors, handing each page's tasks to `keep`.
pub async fn read_pages(
    client: &SiteClient,
    site_id: &str,
    mut query: ActiveTasksQuery,
    rows: usize,
    mut keep: impl FnMut(&mut Vec<Task>),
) -> Result<ActiveTasksPage, Error> {
    query.cursor = None;
    let mut read = 0;
    loop {
        let wanted = (rows - read).clamp(1, SITE_PAGE as usize) as u32;
        query.limit = PageLimit::new(wanted).unwrap_or(PageLimit::MAX);
        let mut page = client.page(site_id, &query).await?;
        read += page.tasks.len();
        keep(&mut page.tasks);
        match page.next_cursor.take() {
            Some(cursor) if read < rows => query.cursor = Some(cursor),
            next => {
                page.next_cursor = next;
                return Ok(page);
            }
        }
    }
}
