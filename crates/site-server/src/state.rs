//! The server's shared state: the database pool and each Site's runtime.

use std::collections::HashMap;
use std::sync::Arc;

use site_api::{SiteRole, TaskId, TaskStatus};
use sqlx::AnyPool;
use tokio::sync::{broadcast, Mutex, MutexGuard};
use tokio_util::sync::CancellationToken;

use crate::audit_service::AuditServiceRuntime;
use crate::config::{FailedLabel, Mode, SiteConfig};
use crate::error::AppError;
use crate::events::{ReplayBuffer, Resume, SiteEvent};
use crate::limits::Limits;
use crate::monitor::QueueWatch;

/// Events each Site keeps for clients that reconnect.
pub(crate) const REPLAY_CAPACITY: usize = 4096;

/// What every handler reads through axum's `State`: cheap to clone.
#[derive(Clone)]
pub struct AppState {
    inner: Arc<Inner>,
}

struct Inner {
    pool: AnyPool,
    mode: Mode,
    shutdown: CancellationToken,
    limits: Limits,
    sites: HashMap<String, Arc<SiteRuntime>>,
}

impl AppState {
    /// State over an opened database and the configured Sites.
    pub fn new(
        pool: AnyPool,
        mode: Mode,
        sites: Vec<Arc<SiteRuntime>>,
        shutdown: CancellationToken,
        limits: Limits,
    ) -> AppState {
        let sites = sites
            .into_iter()
            .map(|site| (site.config.id.clone(), site))
            .collect();
        AppState {
            inner: Arc::new(Inner {
                pool,
                mode,
                shutdown,
                limits,
                sites,
            }),
        }
    }

    /// The database.
    pub fn pool(&self) -> &AnyPool {
        &self.inner.pool
    }

    /// Whether test-only inputs are accepted.
    pub fn mode(&self) -> Mode {
        self.inner.mode
    }

    /// Cancelled when the server stops: long-lived responses end then.
    pub fn shutdown(&self) -> &CancellationToken {
        &self.inner.shutdown
    }

    /// The per-client request limits.
    pub fn limits(&self) -> &Limits {
        &self.inner.limits
    }

    /// Every Site, in no particular order.
    pub fn sites(&self) -> impl Iterator<Item = &Arc<SiteRuntime>> {
        self.inner.sites.values()
    }

    /// The Site `id`, if this server hosts it.
    pub fn site(&self, id: &str) -> Option<&Arc<SiteRuntime>> {
        self.inner.sites.get(id)
    }
}

/// A Site as it runs: its configuration, its Audit Services and its event stream.
pub struct SiteRuntime {
    /// The Site's configuration.
    pub config: SiteConfig,
    /// Its Audit Services, in configuration order.
    pub audit_services: Vec<Arc<AuditServiceRuntime>>,
    events: broadcast::Sender<SiteEvent>,
    replay: std::sync::Mutex<ReplayBuffer>,
    write_lock: Mutex<()>,
    /// Single creations waiting for the next write (group commit).
    pending_creations: std::sync::Mutex<Vec<crate::lifecycle::PendingCreation>>,
    runners: std::sync::Mutex<HashMap<TaskId, CancellationToken>>,
    queue_watch: std::sync::Mutex<QueueWatch>,
    server_id: String,
    /// Wakes the event follower (PostgreSQL): a write was committed here.
    committed: tokio::sync::Notify,
    /// See [`SiteRuntime::is_announcer`].
    announcer: std::sync::atomic::AtomicBool,
}

impl SiteRuntime {
    /// The runtime of one configured Site.
    pub fn new(config: SiteConfig) -> SiteRuntime {
        let audit_services = config
            .audit_services
            .iter()
            .cloned()
            .map(|service| Arc::new(AuditServiceRuntime::new(service)))
            .collect();
        let (events, _) = broadcast::channel(1024);
        SiteRuntime {
            config,
            audit_services,
            events,
            replay: std::sync::Mutex::new(ReplayBuffer::new(REPLAY_CAPACITY)),
            write_lock: Mutex::new(()),
            pending_creations: std::sync::Mutex::new(Vec::new()),
            runners: std::sync::Mutex::new(HashMap::new()),
            queue_watch: std::sync::Mutex::new(QueueWatch::default()),
            server_id: String::new(),
            committed: tokio::sync::Notify::new(),
            announcer: std::sync::atomic::AtomicBool::new(true),
        }
    }

    /// The runtime of a Site on the server `server_id`.
    pub fn on_server(config: SiteConfig, server_id: &str) -> SiteRuntime {
        SiteRuntime {
            server_id: server_id.to_owned(),
            ..SiteRuntime::new(config)
        }
    }

    /// The id of the server this runtime lives in (random at each start):
    /// the in-process tasks it claims carry it.
    pub fn server_id(&self) -> &str {
        &self.server_id
    }

    /// Whether this server announces the Site's Audit Service changes and
    /// signals on the event stream: always on SQLite; on PostgreSQL only
    /// the server that holds the Site's announcer lock (`follow::Liveness`),
    /// so that each is announced once however many servers there are.
    pub fn is_announcer(&self) -> bool {
        self.announcer.load(std::sync::atomic::Ordering::SeqCst)
    }

    #[cfg(feature = "postgres")]
    pub(crate) fn set_announcer(&self, announcer: bool) {
        self.announcer
            .store(announcer, std::sync::atomic::Ordering::SeqCst);
    }

    /// Tells the event follower that a write committed here.
    pub(crate) fn wake_follower(&self) {
        self.committed.notify_one();
    }

    /// Waits for [`SiteRuntime::wake_follower`].
    #[cfg(feature = "postgres")]
    pub(crate) async fn committed(&self) {
        self.committed.notified().await
    }

    /// The Site id.
    pub fn id(&self) -> &str {
        &self.config.id
    }

    /// A stored status as this Site reports it (see `failed_label`).
    pub fn wire_status(&self, status: TaskStatus) -> TaskStatus {
        crate::db::wire_status(status, self.config.failed_label)
    }

    /// Registers the runner of a task that just started; the returned token
    /// is cancelled when the task is cancelled or `shutdown` is.
    pub(crate) fn register_runner(
        &self,
        id: TaskId,
        shutdown: &CancellationToken,
    ) -> CancellationToken {
        let token = shutdown.child_token();
        self.runners
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(id, token.clone());
        token
    }

    /// Forgets the runner of a task that is no longer running.
    pub(crate) fn unregister_runner(&self, id: TaskId) {
        self.runners
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&id);
    }

    /// Tells the runner of `id` to stop, if it runs here.
    pub(crate) fn stop_runner(&self, id: TaskId) {
        let runner = self
            .runners
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&id)
            .cloned();
        match runner {
            Some(token) => token.cancel(),
            // Not run here: if an agent runs it, its waiting poll learns now.
            None => {
                for link in self.audit_services.iter().filter_map(|s| s.remote()) {
                    link.wake();
                }
            }
        }
    }

    /// The Audit Service `id`, if the Site has it.
    pub fn audit_service(&self, id: &str) -> Option<&Arc<AuditServiceRuntime>> {
        self.audit_services
            .iter()
            .find(|service| service.reference().id == id)
    }

    /// Records a sample of the queue's length.
    pub(crate) fn observe_queue(&self, queued: u64, now: site_api::Timestamp) {
        self.queue_watch
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .observe(queued, self.config.queue_long_threshold, now);
    }

    /// Since when the queue has been long, as last sampled.
    pub fn queue_watch(&self) -> QueueWatch {
        *self.queue_watch.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// How failed tasks read on this Site.
    pub fn failed_label(&self) -> FailedLabel {
        self.config.failed_label
    }

    /// Serialises the Site's writes, so that revisions are published in the
    /// order they were committed.
    /// Queues a single creation for whoever writes next.
    pub(crate) fn queue_creation(&self, pending: crate::lifecycle::PendingCreation) {
        self.pending_creations
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(pending);
    }

    /// Takes up to `most` queued creations, oldest first.
    pub(crate) fn take_creations(&self, most: usize) -> Vec<crate::lifecycle::PendingCreation> {
        let mut pending = self
            .pending_creations
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        let n = pending.len().min(most);
        pending.drain(..n).collect()
    }

    pub(crate) async fn lock_writes(&self) -> MutexGuard<'_, ()> {
        self.write_lock.lock().await
    }

    /// Sends committed changes to every live subscriber and keeps them for
    /// replay. Called in revision order (under the write lock).
    pub(crate) fn publish(&self, event: SiteEvent) {
        let mut replay = self.replay.lock().unwrap_or_else(|e| e.into_inner());
        replay.push(event.clone());
        // No receivers is fine: nobody is watching.
        let _ = self.events.send(event);
    }

    /// A stream of this Site's changes from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<SiteEvent> {
        self.events.subscribe()
    }

    /// Subscribes a client that last saw `last_seen` (the Site's revision
    /// being `current`): what it missed, then everything new, with no gap
    /// and no repeat between the two.
    pub fn resume(&self, last_seen: u64, current: u64) -> (Resume, broadcast::Receiver<SiteEvent>) {
        let replay = self.replay.lock().unwrap_or_else(|e| e.into_inner());
        // Subscribing under the replay lock: nothing is published in between.
        let receiver = self.events.subscribe();
        (replay.resume(last_seen, current), receiver)
    }

    /// Wakes the Site's Audit Services: a task was queued.
    pub(crate) fn wake_audit_services(&self) {
        for service in &self.audit_services {
            service.wake();
        }
    }
}

/// A caller's access to one Site: only made when the caller has a role there.
pub struct SiteAccess {
    /// The Site.
    pub site: Arc<SiteRuntime>,
    /// The caller's role on it.
    pub role: SiteRole,
}

impl SiteAccess {
    /// Fails with 403 unless the caller is a Site Administrator here.
    pub fn require_admin(&self) -> Result<(), AppError> {
        if self.role.is_admin() {
            Ok(())
        } else {
            Err(AppError::Forbidden(
                "only Site Administrators may do this on this Site",
            ))
        }
    }
}

/// Parses a task id from a path; an id that does not parse names no task.
pub fn parse_task_id(text: &str) -> Result<TaskId, AppError> {
    text.parse()
        .map_err(|_| AppError::NotFound(format!("there is no task {text:?} on this Site")))
}
