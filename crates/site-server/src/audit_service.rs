//! Audit Services: slot pools that take queued tasks FIFO and run them.
//!
//! Each service runs one dispatch loop: while it has a free slot it claims the
//! oldest queued tasks through [`lifecycle::claim_for`] and runs each on a slot.
//! Runners report progress and the outcome through the lifecycle module too;
//! they never touch a status themselves.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rand::Rng;
use site_api::{
    AuditService, AuditServiceState, ObjectRef, Progress, SimulateSpec, SimulatedOutcome, Task,
    TaskId, TaskKind, TaskStatus, Timestamp,
};
use sqlx::AnyPool;
use tokio::sync::{mpsc, oneshot, Notify};
use tokio_util::sync::CancellationToken;

use crate::config::{AuditServiceConfig, RunnerKind};
use crate::db::{self, TaskRow};
use crate::error::AppError;
use crate::lifecycle::{self, Completion, Holder};
use crate::remote::RemoteLink;
use crate::state::SiteRuntime;

/// An Audit Service without a heartbeat for this long is offline.
pub const OFFLINE_AFTER: Duration = Duration::from_secs(30);

/// A service is online while its dispatch loop has beaten within
/// [`OFFLINE_AFTER`]; one that has not beaten yet is starting, so online.
pub fn state_at(last_heartbeat: Option<Timestamp>, now: Timestamp) -> AuditServiceState {
    match last_heartbeat {
        Some(beat) if (now - beat).to_std().unwrap_or_default() > OFFLINE_AFTER => {
            AuditServiceState::Offline
        }
        _ => AuditServiceState::Online,
    }
}

/// How often an idle dispatch loop looks at the queue even without a wake-up.
const IDLE_POLL: Duration = Duration::from_secs(1);

/// One Audit Service as it runs.
pub struct AuditServiceRuntime {
    config: AuditServiceConfig,
    busy: AtomicU32,
    wake: Notify,
    last_heartbeat: Mutex<Option<Timestamp>>,
    /// For a remote service: what is known of its agent.
    remote: Option<RemoteLink>,
}

impl AuditServiceRuntime {
    /// A service with all slots free.
    pub fn new(config: AuditServiceConfig) -> AuditServiceRuntime {
        AuditServiceRuntime {
            busy: AtomicU32::new(0),
            wake: Notify::new(),
            last_heartbeat: Mutex::new(None),
            remote: config.is_remote().then(|| RemoteLink::new(&config)),
            config,
        }
    }

    /// Its configuration.
    pub fn config(&self) -> &AuditServiceConfig {
        &self.config
    }

    /// Its agent's link, if it is a remote service.
    pub fn remote(&self) -> Option<&RemoteLink> {
        self.remote.as_ref()
    }

    /// Its id and name, as tasks reference it.
    pub fn reference(&self) -> ObjectRef {
        ObjectRef {
            id: self.config.id.clone(),
            name: self.config.name.clone(),
        }
    }

    /// Its state as this server knows it (on PostgreSQL, `busy` counts
    /// only the tasks this server runs: [`snapshots`] counts them all).
    pub fn snapshot(&self) -> AuditService {
        if let Some(link) = &self.remote {
            let lease = link.lease();
            return AuditService {
                id: self.config.id.clone(),
                name: self.config.name.clone(),
                slots: self.config.slots,
                busy: link.busy(),
                state: link.state(),
                last_heartbeat: lease.as_ref().and_then(|lease| lease.last_heartbeat()),
                runner: site_api::RunnerKind::Remote,
                address: lease.as_ref().and_then(|lease| lease.address.clone()),
                version: lease.map(|lease| lease.version),
            };
        }
        let last_heartbeat = *self
            .last_heartbeat
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        AuditService {
            id: self.config.id.clone(),
            name: self.config.name.clone(),
            slots: self.config.slots,
            busy: self.busy.load(Ordering::SeqCst),
            state: state_at(last_heartbeat, db::now()),
            last_heartbeat,
            runner: match self.config.runner {
                RunnerKind::Simulated => site_api::RunnerKind::Simulated,
                RunnerKind::Command => site_api::RunnerKind::Command,
                RunnerKind::Remote => site_api::RunnerKind::Remote,
            },
            // Only remote services have an agent's address and version.
            address: None,
            version: None,
        }
    }

    /// Asks the dispatch loop to look at the queue now.
    pub fn wake(&self) {
        self.wake.notify_one();
        if let Some(link) = &self.remote {
            link.wake();
        }
    }

    fn heartbeat(&self) {
        *self
            .last_heartbeat
            .lock()
            .unwrap_or_else(|e| e.into_inner()) = Some(db::now());
    }
}

/// Runs the dispatch loop of `service` until `shutdown`.
pub async fn dispatch(
    pool: AnyPool,
    site: Arc<SiteRuntime>,
    service: Arc<AuditServiceRuntime>,
    shutdown: CancellationToken,
) {
    let reference = service.reference();
    let completions = Completer::spawn(pool.clone(), site.clone(), service.clone(), &shutdown);
    loop {
        service.heartbeat();
        // Never claim once stopping: queued tasks stay queued for the next start.
        while !shutdown.is_cancelled() {
            let free = service
                .config
                .slots
                .saturating_sub(service.busy.load(Ordering::SeqCst));
            // The service's slots bound the claim across every server
            // claiming for it (counted in the claiming transaction).
            let claim = lifecycle::claim_for(
                &pool,
                &site,
                &reference,
                Holder::Server,
                free,
                Some(service.config.slots),
            );
            match claim.await {
                Ok(claimed) if claimed.is_empty() => break,
                Ok(claimed) => completions.start_slots(claimed, &shutdown),
                Err(error) => {
                    tracing::error!(%error, service = %reference.id, "cannot claim a task");
                    break;
                }
            }
        }
        tokio::select! {
            _ = service.wake.notified() => {}
            _ = tokio::time::sleep(IDLE_POLL) => {}
            _ = shutdown.cancelled() => return,
        }
    }
}

/// One busy slot of a service: what it needs (the pool, the Site, the
/// service) is its service's writer's.
struct Slot {
    completions: Completer,
}

/// A completion waiting to be written, and who waits for it.
type PendingCompletion = (TaskId, Completion, oneshot::Sender<()>);

/// Records the ends of a service's tasks with group commit, and gives
/// each slot it frees the next queued task in the same transaction
/// ([`lifecycle::complete_and_claim`]): every completion that arrives
/// while a write is under way goes into the next one, so many slots
/// ending at once cost one write, not one each, and a busy service's
/// slots never wait for its dispatch loop.
#[derive(Clone)]
struct Completer {
    sender: mpsc::UnboundedSender<PendingCompletion>,
    pool: AnyPool,
    site: Arc<SiteRuntime>,
    service: Arc<AuditServiceRuntime>,
}

/// The most completions written in one transaction.
const MAX_COMPLETIONS_PER_WRITE: usize = 256;

/// Adds to `batch` the completions waiting in `receiver`, and those that
/// arrive while the slots that end at the same moment (a timer tick, a
/// burst of reports) get to run: it yields until a round brings nothing,
/// so a cohort of slots is written as one transaction, not split in two
/// (which would split its replacements too, and so on).
async fn gather(
    receiver: &mut mpsc::UnboundedReceiver<PendingCompletion>,
    batch: &mut Vec<PendingCompletion>,
) {
    const ROUNDS: usize = 4;
    for _ in 0..ROUNDS {
        let before = batch.len();
        while batch.len() < MAX_COMPLETIONS_PER_WRITE {
            match receiver.try_recv() {
                Ok(next) => batch.push(next),
                Err(_) => break,
            }
        }
        if batch.len() == before || batch.len() >= MAX_COMPLETIONS_PER_WRITE {
            return;
        }
        tokio::task::yield_now().await;
    }
}

impl Completer {
    /// Starts the writer; it stops when the last sender is dropped.
    fn spawn(
        pool: AnyPool,
        site: Arc<SiteRuntime>,
        service: Arc<AuditServiceRuntime>,
        shutdown: &CancellationToken,
    ) -> Completer {
        let (sender, mut receiver) = mpsc::unbounded_channel::<PendingCompletion>();
        // Weak: the writer itself must not keep the channel open.
        let weak = sender.downgrade();
        let reference = service.reference();
        let slots = service.config.slots;
        let (writer_pool, writer_site, writer_service) =
            (pool.clone(), site.clone(), service.clone());
        let shutdown = shutdown.clone();
        tokio::spawn(async move {
            let (pool, site, service) = (writer_pool, writer_site, writer_service);
            while let Some(first) = receiver.recv().await {
                let mut batch = vec![first];
                gather(&mut receiver, &mut batch).await;
                // Once stopping, a freed slot takes nothing.
                let take = u32::from(!shutdown.is_cancelled());
                let (ends, waiters): (Vec<_>, Vec<_>) = batch
                    .into_iter()
                    .map(|(id, completion, done)| {
                        let end = lifecycle::EndAndTake {
                            id,
                            completion,
                            take,
                        };
                        (end, done)
                    })
                    .unzip();
                let written = lifecycle::complete_and_claim(
                    &pool,
                    &site,
                    &reference,
                    Holder::Server,
                    slots,
                    ends,
                )
                .await;
                match written {
                    Ok(results) => {
                        let claimed: Vec<_> =
                            results.into_iter().flat_map(|(_, next)| next).collect();
                        if let Some(sender) = weak.upgrade() {
                            let completer = Completer {
                                sender,
                                pool: pool.clone(),
                                site: site.clone(),
                                service: service.clone(),
                            };
                            completer.start_slots(claimed, &shutdown);
                        }
                    }
                    Err(error) => {
                        tracing::error!(%error, site = site.id(), "cannot record the end of tasks");
                    }
                }
                for done in waiters {
                    let _ = done.send(());
                }
            }
        });
        Completer {
            sender,
            pool,
            site,
            service,
        }
    }

    /// Runs each of `claimed` on a slot of its own.
    fn start_slots(&self, claimed: Vec<(Task, TaskRow)>, shutdown: &CancellationToken) {
        for (task, row) in claimed {
            self.service.busy.fetch_add(1, Ordering::SeqCst);
            let slot = Slot {
                completions: self.clone(),
            };
            tokio::spawn(slot.run(task, row, shutdown.clone()));
        }
    }

    /// Records that `id` ended as `completion`; returns once written.
    async fn complete(&self, id: TaskId, completion: Completion) {
        let (done, written) = oneshot::channel();
        if self.sender.send((id, completion, done)).is_ok() {
            let _ = written.await;
        }
    }
}

impl Slot {
    async fn run(self, task: Task, row: TaskRow, shutdown: CancellationToken) {
        // Stops on shutdown, and when the task is cancelled.
        let stop = self.completions.site.register_runner(task.id, &shutdown);
        let completion = match self.completions.service.config.runner {
            RunnerKind::Simulated => {
                let spec = row
                    .simulate
                    .as_deref()
                    .and_then(|json| serde_json::from_str::<SimulateSpec>(json).ok())
                    .unwrap_or_else(|| demo_spec(task.kind, &mut rand::rng()));
                self.simulate(&task, spec, &stop).await
            }
            // Remote services have no dispatch loop: their agents claim.
            RunnerKind::Remote => None,
            RunnerKind::Command => {
                let (pool, site, id) = (
                    self.completions.pool.clone(),
                    self.completions.site.clone(),
                    task.id,
                );
                let progress = move |progress| {
                    let (pool, site) = (pool.clone(), site.clone());
                    async move {
                        if let Err(error) =
                            lifecycle::report_progress(&pool, &site, id, Holder::Server, progress)
                                .await
                        {
                            tracing::warn!(%error, task = %id, "cannot record progress");
                        }
                    }
                };
                taskdeck_runner::run(
                    &self.completions.service.config.program(),
                    &task,
                    &stop,
                    progress,
                )
                .await
            }
        };
        self.completions.site.unregister_runner(task.id);
        // None: stopped. A cancel already recorded the end; at shutdown the
        // server ends running tasks itself.
        if let Some(completion) = completion {
            self.completions.complete(task.id, completion).await;
        }
        self.completions.service.busy.fetch_sub(1, Ordering::SeqCst);
        self.completions.service.wake();
    }

    /// Plays `spec` out: progress in steps, then the outcome. `None` if
    /// told to stop.
    async fn simulate(
        &self,
        task: &Task,
        spec: SimulateSpec,
        stop: &CancellationToken,
    ) -> Option<Completion> {
        let total = units_of_work(task);
        let steps = plan_steps(spec.duration_ms);
        let step = Duration::from_millis(spec.duration_ms / steps);
        let mut done_steps = 0;
        loop {
            if step.is_zero() && spec.outcome != SimulatedOutcome::Hang {
                // Nothing to wait for (a timer would still take a tick).
                if stop.is_cancelled() {
                    return None;
                }
            } else {
                tokio::select! {
                    _ = tokio::time::sleep(step) => {}
                    _ = stop.cancelled() => return None,
                }
            }
            if spec.outcome == SimulatedOutcome::Hang {
                continue;
            }
            done_steps += 1;
            if done_steps >= steps {
                break;
            }
            let progress = Progress {
                done: total * done_steps / steps,
                total,
            };
            if let Ok(None) = lifecycle::report_progress(
                &self.completions.pool,
                &self.completions.site,
                task.id,
                Holder::Server,
                progress,
            )
            .await
            {
                // No longer running: someone else ended it.
                return None;
            }
        }
        let failed = spec.outcome == SimulatedOutcome::Failed;
        let n_errors = if failed {
            spec.errors.max(1)
        } else {
            spec.errors
        };
        Some(Completion {
            status: if failed {
                TaskStatus::Failed
            } else {
                TaskStatus::Finished
            },
            error_messages: (0..n_errors).map(|i| simulated_error(task, i)).collect(),
        })
    }
}

/// How many progress steps a simulated run of `duration_ms` takes: about one
/// a second, at least one, at most twenty.
pub fn plan_steps(duration_ms: u64) -> u64 {
    (duration_ms / 1000).clamp(1, 20)
}

fn units_of_work(task: &Task) -> u64 {
    // Stable per task, so repeated runs of a test see the same totals.
    let spread = task.number % 7;
    match task.kind {
        TaskKind::Scan => 40 + spread * 30,
        TaskKind::Audit => 24 + spread * 12,
    }
}

fn simulated_error(task: &Task, index: u64) -> String {
    const CAUSES: [&str; 4] = [
        "connection refused",
        "timed out after 30 s",
        "access denied",
        "WMI query failed",
    ];
    let cause = CAUSES[((task.number + index) % CAUSES.len() as u64) as usize];
    format!("{}: {cause}", task.target.name)
}

/// A realistic run for demo traffic: scans take seconds to a minute, audits
/// longer; about one in ten fails.
pub fn demo_spec(kind: TaskKind, rng: &mut impl Rng) -> SimulateSpec {
    let duration_ms = match kind {
        TaskKind::Scan => rng.random_range(6_000..40_000),
        TaskKind::Audit => rng.random_range(12_000..75_000),
    };
    let roll: f64 = rng.random();
    let (outcome, errors) = if roll < 0.10 {
        (SimulatedOutcome::Failed, rng.random_range(1..4))
    } else {
        (SimulatedOutcome::Finished, 0)
    };
    SimulateSpec {
        duration_ms,
        outcome,
        errors,
    }
}

/// Every Audit Service of `site` as the API reports it. On PostgreSQL,
/// where several servers serve the Site, what another server knows counts
/// too: each remote service's lease is read afresh (its agent may talk to
/// another server), and `busy` is counted in the database, the tasks
/// running on the service whichever server runs them.
pub async fn snapshots(pool: &AnyPool, site: &SiteRuntime) -> Result<Vec<AuditService>, AppError> {
    let postgres = db::Dialect::of(pool) == db::Dialect::Postgres;
    if postgres {
        for service in &site.audit_services {
            if let Some(link) = service.remote() {
                let id = &service.config.id;
                if let Some(row) = crate::remote::lease::latest(pool, site.id(), id).await? {
                    link.remember(row);
                }
            }
        }
    }
    let mut services: Vec<AuditService> =
        site.audit_services.iter().map(|s| s.snapshot()).collect();
    if postgres {
        let running: Vec<(String, i64)> = sqlx::query_as(
            "SELECT audit_service_id, COUNT(*) FROM tasks
              WHERE site_id = $1 AND status = 'running' AND audit_service_id IS NOT NULL
              GROUP BY audit_service_id",
        )
        .bind(site.id())
        .fetch_all(pool)
        .await?;
        for service in &mut services {
            service.busy = running
                .iter()
                .find(|(id, _)| *id == service.id)
                .map_or(0, |(_, n)| u32::try_from(*n).unwrap_or(u32::MAX));
        }
    }
    Ok(services)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_service_is_offline_once_its_heartbeat_is_older_than_the_limit() {
        let now = db::now();
        let age = |secs: i64| Some(now - chrono::Duration::seconds(secs));
        assert_eq!(state_at(None, now), AuditServiceState::Online);
        assert_eq!(state_at(age(1), now), AuditServiceState::Online);
        assert_eq!(state_at(age(30), now), AuditServiceState::Online);
        assert_eq!(state_at(age(31), now), AuditServiceState::Offline);
    }

    #[test]
    fn steps_are_about_one_a_second_within_bounds() {
        assert_eq!(plan_steps(0), 1);
        assert_eq!(plan_steps(300), 1);
        assert_eq!(plan_steps(5_500), 5);
        assert_eq!(plan_steps(600_000), 20);
    }

    #[test]
    fn demo_runs_are_realistic() {
        let mut rng = rand::rng();
        let mut failures = 0;
        for _ in 0..1000 {
            let spec = demo_spec(TaskKind::Audit, &mut rng);
            assert!((12_000..75_000).contains(&spec.duration_ms));
            if spec.outcome == SimulatedOutcome::Failed {
                failures += 1;
                assert!(spec.errors >= 1);
            } else {
                assert_eq!(spec.outcome, SimulatedOutcome::Finished);
            }
        }
        assert!((30..250).contains(&failures), "{failures} failures in 1000");
    }
}
