//! Following one Site: the first page, then its event stream.
//!
//! - The stream resumes with `Last-Event-ID` after a break (the server
//!   replays what was missed), reconnecting with backoff from 1 s to 30 s.
//! - A `reset` (too far behind to replay) refetches the list, and the logs
//!   are read for failures that ended while the link was down.
//! - A stream silent past the keep-alive limit counts as broken.
//! - When the stream cannot be opened three times running, the list is read
//!   every few seconds with `If-None-Match` instead, and the stream is tried
//!   again every minute.
//!
//! What happens is told to a [`LiveSink`]; the Tauri sink forwards it to the
//! window and the OS, a test sink records it.

use std::sync::{Arc, RwLock};
use std::time::Duration;

use site_api::{
    ActiveTasksQuery, AuditService, LiveEvent, LogQuery, PageLimit, Signal, Task, TaskKind,
    Timestamp,
};
use taskdeck_ipc::LinkState;
use tokio_util::sync::CancellationToken;

use super::failures::{FailureNotice, FailureWatch, NotifySettings};
use super::list::{Applied, LiveList};
use crate::error::Error;
use crate::site_client::{PageRead, SiteClient, StreamEvent};

/// Rows kept of the list (the first page).
pub const PAGE_LIMIT: u32 = 1000;
/// Changes are sent on at most this often.
/// The first change after a quiet spell goes out at once; changes arriving
/// faster are gathered and sent on the next tick.
const FLUSH_EVERY: Duration = Duration::from_millis(50);
/// Reconnect backoff.
const MIN_BACKOFF: Duration = Duration::from_secs(1);
const MAX_BACKOFF: Duration = Duration::from_secs(30);
/// Failed stream openings before polling instead.
const STREAM_TRIES: u32 = 3;
/// Polling while the stream is unavailable and the window is in front.
pub const POLL_FOCUSED: Duration = Duration::from_secs(5);
/// Polling while the stream is unavailable and the window is not in front.
pub const POLL_BACKGROUND: Duration = Duration::from_secs(60);
/// How long to poll before trying the stream again.
const RETRY_STREAM_AFTER: Duration = Duration::from_secs(60);
/// Log rows ended this long before a break are read again on catch-up.
const CATCH_UP_MARGIN: chrono::Duration = chrono::Duration::seconds(5);

/// Where a follower reports.
pub trait LiveSink: Send + Sync + 'static {
    /// The list changed (rows, counts or revision).
    fn list_changed(&self, site_id: &str, list: &LiveList);
    /// Tasks changed, in event order.
    fn tasks_changed(&self, site_id: &str, tasks: Vec<Task>);
    /// An Audit Service changed.
    fn audit_service(&self, site_id: &str, service: AuditService);
    /// A signal came into force.
    fn signal(&self, site_id: &str, signal: Signal);
    /// A task failed: show a notification.
    fn failure(&self, notice: FailureNotice);
    /// The link's state changed.
    fn link(&self, site_id: &str, state: LinkState);
    /// The last error, or `None` once things work again.
    fn error(&self, site_id: &str, error: Option<&Error>);
}

/// Whether the user is looking: the polling fallback reads every
/// [`POLL_FOCUSED`] while the window is focused, every [`POLL_BACKGROUND`]
/// otherwise, and at once when the window comes back to the front.
#[derive(Debug)]
pub struct Attention {
    focused: std::sync::atomic::AtomicBool,
    returned: tokio::sync::Notify,
}

impl Default for Attention {
    /// Focused: the window opens in front.
    fn default() -> Attention {
        Attention {
            focused: std::sync::atomic::AtomicBool::new(true),
            returned: tokio::sync::Notify::new(),
        }
    }
}

impl Attention {
    /// The window gained (`true`) or lost the focus.
    pub fn set_focused(&self, focused: bool) {
        let was = self
            .focused
            .swap(focused, std::sync::atomic::Ordering::Relaxed);
        if focused && !was {
            self.returned.notify_waiters();
        }
    }

    /// Is the window focused?
    pub fn focused(&self) -> bool {
        self.focused.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// How long to wait between polls now.
    pub fn poll_every(&self) -> Duration {
        if self.focused() {
            POLL_FOCUSED
        } else {
            POLL_BACKGROUND
        }
    }
}

/// Who follows, and how.
pub struct Follower<S: LiveSink> {
    /// The Site's client.
    pub client: Arc<SiteClient>,
    /// The Site.
    pub site_id: String,
    /// The user's email (for "only my tasks").
    pub me: String,
    /// Notification settings, read at each failure.
    pub settings: Arc<RwLock<NotifySettings>>,
    /// Whether the window is in front (sets the polling pace).
    pub attention: Arc<Attention>,
    /// Where to report.
    pub sink: S,
}

/// Why a stream session ended.
enum Next {
    /// Read the list again (reset, or the window emptied).
    Refetch,
    /// Reconnect the stream after the link broke.
    Reconnect,
    /// Told to stop.
    Stop,
}

impl<S: LiveSink> Follower<S> {
    /// Follows the Site until `stop`.
    pub async fn run(self, stop: CancellationToken) {
        let mut watch = FailureWatch::default();
        let mut backoff = MIN_BACKOFF;
        let mut broke_at: Option<Timestamp> = None;
        tracing::info!(site = %self.site_id, server = %self.client.base(), "following the Site");
        self.sink.link(&self.site_id, LinkState::Connecting);
        'refetch: loop {
            let mut list = match self.client.first_page(&self.site_id, PAGE_LIMIT).await {
                Ok(page) => LiveList::new(page, PAGE_LIMIT as usize),
                Err(error) => {
                    self.broken(&error, &mut broke_at);
                    if self.pause(&stop, wait_after(&error, &mut backoff)).await {
                        return;
                    }
                    continue 'refetch;
                }
            };
            self.sink.error(&self.site_id, None);
            self.sink.list_changed(&self.site_id, &list);
            if let Some(since) = broke_at.take() {
                self.catch_up(&mut watch, since).await;
            }
            let mut failed_opens = 0;
            loop {
                let stream = self
                    .client
                    .events(&self.site_id, Some(list.revision()))
                    .await;
                let mut stream = match stream {
                    Ok(stream) => stream,
                    Err(error) => {
                        self.broken(&error, &mut broke_at);
                        failed_opens += 1;
                        if failed_opens >= STREAM_TRIES && !is_transport(&error) {
                            // The Site answers but gives no stream: poll.
                            match self.poll(&mut list, &mut watch, &stop).await {
                                Next::Stop => return,
                                _ => {
                                    failed_opens = 0;
                                    continue;
                                }
                            }
                        }
                        if self.pause(&stop, wait_after(&error, &mut backoff)).await {
                            return;
                        }
                        continue;
                    }
                };
                failed_opens = 0;
                backoff = MIN_BACKOFF;
                self.sink.error(&self.site_id, None);
                self.sink.link(&self.site_id, LinkState::Live);
                let next = self
                    .stream(&mut stream, &mut list, &mut watch, &mut broke_at, &stop)
                    .await;
                match next {
                    Next::Stop => return,
                    Next::Refetch => continue 'refetch,
                    Next::Reconnect => {
                        self.reconnecting(&mut broke_at);
                        if self.pause(&stop, backoff).await {
                            return;
                        }
                        backoff = (backoff * 2).min(MAX_BACKOFF);
                    }
                }
            }
        }
    }

    /// Reads events until the stream breaks, a refetch is due, or `stop`.
    /// `broke_at` is cleared by the first event that is not a reset: the
    /// server then replayed what was missed, so no catch-up is needed.
    async fn stream(
        &self,
        stream: &mut crate::site_client::EventStream,
        list: &mut LiveList,
        watch: &mut FailureWatch,
        broke_at: &mut Option<Timestamp>,
        stop: &CancellationToken,
    ) -> Next {
        let mut changed: Vec<Task> = Vec::new();
        let mut flush = tokio::time::interval(FLUSH_EVERY);
        let mut last_flush = tokio::time::Instant::now() - FLUSH_EVERY;
        loop {
            tokio::select! {
                event = stream.next() => match event {
                    Some(Ok(StreamEvent { revision, event })) => {
                        if event != LiveEvent::Reset {
                            *broke_at = None;
                        }
                        match event {
                        LiveEvent::Task(task) => {
                            if list.apply(revision, task.clone()) == Applied::Changed {
                                self.check_failure(watch, &task, None).await;
                                changed.push(task);
                                if last_flush.elapsed() >= FLUSH_EVERY {
                                    self.flush(list, &mut changed);
                                    last_flush = tokio::time::Instant::now();
                                }
                            }
                        }
                        LiveEvent::AuditService(service) => self.sink.audit_service(&self.site_id, service),
                        LiveEvent::Signal(signal) => {
                            let settings = self.settings.read().unwrap_or_else(|e| e.into_inner()).clone();
                            if let Some(notice) = watch.on_signal(&self.site_id, &signal, &settings) {
                                self.sink.failure(notice);
                            }
                            self.sink.signal(&self.site_id, signal);
                        }
                        LiveEvent::Reset => {
                            self.flush(list, &mut changed);
                            return Next::Refetch;
                        }
                    }},
                    Some(Err(error)) => {
                        tracing::warn!(%error, site = %self.site_id, "the event stream broke");
                        self.flush(list, &mut changed);
                        self.sink.error(&self.site_id, Some(&error));
                        return Next::Reconnect;
                    }
                    None => {
                        self.flush(list, &mut changed);
                        return Next::Reconnect;
                    }
                },
                _ = flush.tick() => {
                    if !changed.is_empty() {
                        self.flush(list, &mut changed);
                        last_flush = tokio::time::Instant::now();
                    }
                    if list.needs_refetch() {
                        return Next::Refetch;
                    }
                }
                _ = stop.cancelled() => return Next::Stop,
            }
        }
    }

    fn flush(&self, list: &LiveList, changed: &mut Vec<Task>) {
        if changed.is_empty() {
            return;
        }
        self.sink.list_changed(&self.site_id, list);
        self.sink
            .tasks_changed(&self.site_id, std::mem::take(changed));
    }

    /// Reads the list with `If-None-Match`, and the logs for failures, at
    /// the [`Attention`]'s pace, for [`RETRY_STREAM_AFTER`].
    async fn poll(
        &self,
        list: &mut LiveList,
        watch: &mut FailureWatch,
        stop: &CancellationToken,
    ) -> Next {
        self.sink.link(&self.site_id, LinkState::Polling);
        let query = ActiveTasksQuery {
            limit: PageLimit::new(PAGE_LIMIT).unwrap_or(PageLimit::MAX),
            ..ActiveTasksQuery::default()
        };
        let mut etag: Option<String> = None;
        let until = tokio::time::Instant::now() + RETRY_STREAM_AFTER;
        let mut since = chrono::Utc::now();
        while tokio::time::Instant::now() < until {
            let read_at = chrono::Utc::now();
            match self
                .client
                .active_tasks(&self.site_id, &query, etag.as_deref())
                .await
            {
                Ok(PageRead::Page { page, etag: tag }) => {
                    etag = tag;
                    *list = LiveList::new(page, PAGE_LIMIT as usize);
                    self.sink.list_changed(&self.site_id, list);
                    self.sink.error(&self.site_id, None);
                }
                Ok(PageRead::Unchanged) => {}
                Err(error) => self.sink.error(&self.site_id, Some(&error)),
            }
            self.catch_up(watch, since).await;
            since = read_at;
            tokio::select! {
                stopped = self.pause(stop, self.attention.poll_every()) => if stopped {
                    return Next::Stop;
                },
                // Back in front: read now.
                _ = self.attention.returned.notified() => {}
            }
        }
        Next::Reconnect
    }

    /// Announces failures that ended since `since` (read from the logs),
    /// for when events were missed.
    async fn catch_up(&self, watch: &mut FailureWatch, since: Timestamp) {
        for kind in [TaskKind::Scan, TaskKind::Audit] {
            let query = LogQuery {
                has_errors: Some(true),
                since: Some(since - CATCH_UP_MARGIN),
                ..LogQuery::default()
            };
            match self.client.log(&self.site_id, kind, &query).await {
                Ok(page) => {
                    for entry in page.entries.iter().rev() {
                        let first = entry.error_messages.first().map(String::as_str);
                        self.check_failure(watch, &entry.task, Some(first)).await;
                    }
                }
                Err(error) => {
                    tracing::warn!(%error, site = %self.site_id, "cannot read the log for missed failures")
                }
            }
        }
    }

    /// Notifies if `task` just failed. `first_error`: `Some` when the
    /// messages are known (from a log row); else they are looked up.
    async fn check_failure(
        &self,
        watch: &mut FailureWatch,
        task: &Task,
        first_error: Option<Option<&str>>,
    ) {
        if !task.is_effectively_failed() {
            return;
        }
        let settings = self
            .settings
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        let looked_up;
        let first_error = match first_error {
            Some(known) => known,
            None => {
                looked_up = self.first_error(task).await;
                looked_up.as_deref()
            }
        };
        if let Some(notice) = watch.on_task(&self.site_id, task, &self.me, first_error, &settings) {
            self.sink.failure(notice);
        }
    }

    /// The first error message of an ended task, from its log row.
    async fn first_error(&self, task: &Task) -> Option<String> {
        let query = LogQuery {
            q: Some(task.label.clone()),
            limit: PageLimit::new(20).unwrap_or_default(),
            ..LogQuery::default()
        };
        let lookup = self.client.log(&self.site_id, task.kind, &query);
        let page = tokio::time::timeout(Duration::from_secs(2), lookup)
            .await
            .ok()?
            .ok()?;
        page.entries
            .into_iter()
            .find(|entry| entry.task.id == task.id)?
            .error_messages
            .into_iter()
            .next()
    }

    fn broken(&self, error: &Error, broke_at: &mut Option<Timestamp>) {
        tracing::warn!(%error, site = %self.site_id, "the Site cannot be followed");
        self.sink.error(&self.site_id, Some(error));
        self.reconnecting(broke_at);
    }

    /// Records when the link broke (the first time, until it is whole again)
    /// and reports reconnecting since then.
    fn reconnecting(&self, broke_at: &mut Option<Timestamp>) {
        let since = *broke_at.get_or_insert_with(chrono::Utc::now);
        self.sink
            .link(&self.site_id, LinkState::Reconnecting { since });
    }

    /// Sleeps `wait`; true if told to stop meanwhile.
    async fn pause(&self, stop: &CancellationToken, wait: Duration) -> bool {
        tokio::select! {
            _ = tokio::time::sleep(wait) => false,
            _ = stop.cancelled() => true,
        }
    }
}

/// The wait after `error`: its `Retry-After` for a 429, else the backoff,
/// which doubles.
fn wait_after(error: &Error, backoff: &mut Duration) -> Duration {
    match error {
        Error::RateLimited { retry_after_secs } => Duration::from_secs(*retry_after_secs),
        _ => {
            let wait = *backoff;
            *backoff = (*backoff * 2).min(MAX_BACKOFF);
            wait
        }
    }
}

fn is_transport(error: &Error) -> bool {
    matches!(error, Error::Unreachable { .. } | Error::Tls(_))
}
