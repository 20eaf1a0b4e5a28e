//! Reading the Active tasks the window asks for: page after page of the
//! Site's answer, following its cursors, and the filter menus' counts. The
//! list command and "cancel all matching" both read through here.

use site_api::{
    ActiveTasksPage, ActiveTasksQuery, FacetField, FacetsQuery, FacetsResponse, PageLimit, Task,
};
use taskdeck_ipc::ListQuery;

use crate::error::Error;
use crate::site_client::SiteClient;

/// The most rows `list_tasks` reads for the window.
pub const MAX_LISTED: usize = 20_000;

/// The Site's largest page (the contract's `limit` bound).
pub const SITE_PAGE: u32 = 1000;

/// Reads up to `rows` tasks matching `query`, page after page, handing each
/// page's tasks to `keep`; returns the last page (its cursor, total, counts
/// and revision; its tasks already given to `keep`). The Site filters and
/// sorts: `total` is its count of what matches. A relative start-date
/// range is taken now.
pub async fn read_matching(
    client: &SiteClient,
    site_id: &str,
    query: &ListQuery,
    rows: usize,
    keep: impl FnMut(&mut Vec<Task>),
) -> Result<ActiveTasksPage, Error> {
    let site = query.site_query(chrono::Utc::now());
    read_pages(client, site_id, site, rows, keep).await
}

/// (1.1) For each of `fields`, one after another, the Site's facets of
/// `query` (a relative start-date range taken now).
pub async fn facets(
    client: &SiteClient,
    site_id: &str,
    query: &ListQuery,
    fields: &[FacetField],
) -> Result<Vec<FacetsResponse>, Error> {
    let filter = query.site_query(chrono::Utc::now()).filter;
    let mut answers = Vec::with_capacity(fields.len());
    for &field in fields {
        let query = FacetsQuery {
            field,
            filter: filter.clone(),
        };
        answers.push(client.facets(site_id, &query).await?);
    }
    Ok(answers)
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
