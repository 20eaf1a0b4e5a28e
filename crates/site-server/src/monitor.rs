//! The Site monitor: samples the queue, and derives the operational signals
//! (a long queue, a task running for hours, an Audit Service offline) and
//! the statistics from what is stored.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use site_api::{
    AuditService, AuditServiceState, Signal, Stats, StatsBucket, StatsNow, TaskId, TaskStatus,
    Timestamp,
};
use sqlx::AnyPool;
use tokio_util::sync::CancellationToken;

use crate::db::{self, kind_column, parse_column, status_column};
use crate::error::AppError;
use crate::events::Change;
use crate::lifecycle;
use crate::state::SiteRuntime;

/// How often the queue is sampled.
pub const SAMPLE_EVERY: Duration = Duration::from_secs(5);
/// How far back `/stats` looks, in minutes.
pub const HISTORY_MINUTES: i64 = 24 * 60;

/// A Site's revision and its queued and running counts, as `lifecycle`
/// keeps them in the `sites` row (no scan).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SiteCounters {
    /// The Site's event revision.
    pub revision: u64,
    /// Tasks waiting for a slot.
    pub queued: u64,
    /// Tasks running.
    pub running: u64,
}

/// The Site's counters now.
pub async fn counters(pool: &AnyPool, site: &SiteRuntime) -> Result<SiteCounters, AppError> {
    let mut connection = pool.acquire().await?;
    counters_in(&mut connection, site).await
}

/// [`counters`] on a given connection (or inside a transaction).
pub async fn counters_in(
    connection: &mut sqlx::AnyConnection,
    site: &SiteRuntime,
) -> Result<SiteCounters, AppError> {
    let (revision, queued, running): (i64, i64, i64) =
        sqlx::query_as("SELECT revision, queued, running FROM sites WHERE id = $1")
            .bind(site.id())
            .fetch_one(connection)
            .await?;
    Ok(SiteCounters {
        revision: revision.max(0) as u64,
        queued: queued.max(0) as u64,
        running: running.max(0) as u64,
    })
}

/// Queued and running tasks of a Site now.
pub async fn queue_counts(pool: &AnyPool, site: &SiteRuntime) -> Result<(u64, u64), AppError> {
    let counters = counters(pool, site).await?;
    Ok((counters.queued, counters.running))
}

/// How often Audit Services are looked at for changes to announce.
pub const WATCH_EVERY: Duration = Duration::from_secs(1);

/// Until `shutdown`: announces Audit Service changes every [`WATCH_EVERY`],
/// and every [`SAMPLE_EVERY`] samples the queue and announces new signals.
pub async fn run(pool: AnyPool, site: Arc<SiteRuntime>, shutdown: CancellationToken) {
    let mut announced = Announced::new(&site);
    let mut next_sample = tokio::time::Instant::now();
    loop {
        if let Err(error) = crate::remote::expire(&pool, &site).await {
            tracing::warn!(%error, site = site.id(), "cannot end leases that ran out");
        }
        let snapshots = match crate::audit_service::snapshots(&pool, &site).await {
            Ok(snapshots) => snapshots,
            Err(error) => {
                tracing::warn!(%error, site = site.id(), "cannot count busy slots");
                site.audit_services.iter().map(|s| s.snapshot()).collect()
            }
        };
        let mut changes: Vec<Change> = announced
            .services_changed(snapshots)
            .into_iter()
            .map(Change::AuditService)
            .collect();
        if tokio::time::Instant::now() >= next_sample {
            next_sample += SAMPLE_EVERY;
            if let Err(error) = sample(&pool, &site).await {
                tracing::warn!(%error, site = site.id(), "cannot sample the queue");
            }
            match signals(&pool, &site).await {
                Ok(now) => changes.extend(announced.signals_started(now).map(Change::Signal)),
                Err(error) => tracing::warn!(%error, site = site.id(), "cannot read signals"),
            }
        }
        // Every server keeps `announced` up to date, so one that becomes
        // the announcer (another died) repeats nothing already said.
        if !site.is_announcer() {
            changes.clear();
        }
        if let Err(error) = lifecycle::announce(&pool, &site, changes).await {
            tracing::warn!(%error, site = site.id(), "cannot announce changes");
        }
        tokio::select! {
            _ = tokio::time::sleep(WATCH_EVERY) => {}
            _ = shutdown.cancelled() => return,
        }
    }
}

/// What the event stream was last told about Audit Services and signals,
/// so each change is announced once.
#[derive(Debug, Default)]
pub struct Announced {
    /// Per Audit Service id: what an `audit_service` event tells of it.
    services: HashMap<String, ServiceSeen>,
    /// The identities of the signals in force.
    signals: HashSet<String>,
}

impl Announced {
    /// Starts from the Site's Audit Services as they are (clients read them
    /// from the list when they connect).
    pub fn new(site: &SiteRuntime) -> Announced {
        let mut announced = Announced::default();
        let _ = announced.services_changed(site.audit_services.iter().map(|s| s.snapshot()));
        announced
    }

    /// The services whose slots, busy slots, state, agent address or
    /// version differ from what was announced (a heartbeat alone is no
    /// change: clients age it themselves).
    pub fn services_changed(
        &mut self,
        now: impl IntoIterator<Item = AuditService>,
    ) -> Vec<AuditService> {
        now.into_iter()
            .filter(|service| {
                let seen = ServiceSeen::of(service);
                self.services.insert(service.id.clone(), seen.clone()) != Some(seen)
            })
            .collect()
    }

    /// The signals of `now` that were not in force at the last call.
    pub fn signals_started(&mut self, now: Vec<Signal>) -> impl Iterator<Item = Signal> {
        let keys: HashSet<String> = now.iter().map(signal_key).collect();
        let previous = std::mem::replace(&mut self.signals, keys);
        now.into_iter()
            .filter(move |signal| !previous.contains(&signal_key(signal)))
    }
}

/// What an `audit_service` event tells that can change.
#[derive(Debug, Clone, PartialEq, Eq)]
struct ServiceSeen {
    slots: u32,
    busy: u32,
    state: AuditServiceState,
    address: Option<String>,
    version: Option<String>,
}

impl ServiceSeen {
    fn of(service: &AuditService) -> ServiceSeen {
        ServiceSeen {
            slots: service.slots,
            busy: service.busy,
            state: service.state,
            address: service.address.clone(),
            version: service.version.clone(),
        }
    }
}

/// What makes a signal the same signal over time: its kind and subject.
fn signal_key(signal: &Signal) -> String {
    match signal {
        Signal::QueueLong { .. } => "queue_long".to_owned(),
        Signal::TaskRunningLong { task, .. } => format!("task_running_long:{task}"),
        Signal::AuditServiceOffline { audit_service, .. } => {
            format!("audit_service_offline:{}", audit_service.id)
        }
    }
}

async fn sample(pool: &AnyPool, site: &SiteRuntime) -> Result<(), AppError> {
    let (queued, running) = queue_counts(pool, site).await?;
    let now = db::now();
    site.observe_queue(queued, now);
    sqlx::query(
        "INSERT INTO queue_samples (site_id, minute, queued, running) VALUES ($1, $2, $3, $4)
         ON CONFLICT (site_id, minute) DO UPDATE SET queued = excluded.queued, running = excluded.running",
    )
    .bind(site.id())
    .bind(now.timestamp() / 60)
    .bind(queued as i64)
    .bind(running as i64)
    .execute(pool)
    .await?;
    Ok(())
}

/// Tracks since when a Site's queue has been at or over its threshold.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct QueueWatch {
    long_since: Option<Timestamp>,
    queued: u64,
}

impl QueueWatch {
    /// Takes a sample of `queued` tasks at `now`.
    pub fn observe(&mut self, queued: u64, threshold: u64, now: Timestamp) {
        self.queued = queued;
        if queued >= threshold {
            self.long_since.get_or_insert(now);
        } else {
            self.long_since = None;
        }
    }

    /// The `queue_long` signal, if the queue has been long for `window`.
    pub fn signal(&self, threshold: u64, window: Duration, now: Timestamp) -> Option<Signal> {
        let since = self.long_since?;
        let long_for = (now - since).to_std().unwrap_or_default();
        (long_for >= window).then(|| Signal::QueueLong {
            since,
            queued: self.queued,
            threshold,
            message: format!(
                "{} tasks have waited in the queue (threshold {threshold}) for over {} minutes: check Audit Service capacity and health.",
                self.queued,
                window.as_secs() / 60
            ),
        })
    }
}

/// Every signal in force on the Site now.
pub async fn signals(pool: &AnyPool, site: &SiteRuntime) -> Result<Vec<Signal>, AppError> {
    let now = db::now();
    let mut signals = Vec::new();
    signals.extend(site.queue_watch().signal(
        site.config.queue_long_threshold,
        site.config.queue_long_window,
        now,
    ));
    let limit = chrono::Duration::from_std(site.config.running_long_after)
        .map_err(|e| AppError::Internal(e.to_string()))?;
    let rows: Vec<(String, i64, i64)> = sqlx::query_as(
        "SELECT kind, number, running_since FROM tasks
          WHERE site_id = $1 AND status = $2 AND running_since <= $3
          ORDER BY running_since",
    )
    .bind(site.id())
    .bind(status_column(TaskStatus::Running))
    .bind(db::to_db_time(now - limit))
    .fetch_all(pool)
    .await?;
    for (kind, number, running_since) in rows {
        let task = TaskId::new(parse_column("kind", &kind)?, number as u64);
        let running_since = db::from_db_time(running_since)?;
        let hours = (now - running_since).num_minutes() as f64 / 60.0;
        signals.push(Signal::TaskRunningLong {
            task,
            running_since,
            message: format!(
                "{} has been running for {hours:.1} hours: the target may be unreachable or a script hung. Cancel and investigate.",
                task.label()
            ),
        });
    }
    for service in &site.audit_services {
        let snapshot = service.snapshot();
        if snapshot.state == AuditServiceState::Offline {
            let since = match service.remote() {
                Some(link) => link.offline_since(),
                None => snapshot.last_heartbeat.unwrap_or(now),
            };
            let message = match (service.remote(), snapshot.last_heartbeat) {
                (Some(_), None) => format!(
                    "No agent has joined {} yet: start taskdeck-audit-service on its host.",
                    snapshot.name
                ),
                (Some(_), Some(_)) => format!(
                    "The agent of {} has not sent a heartbeat since {}: its host may be down or cut off.",
                    snapshot.name,
                    since.format("%H:%M:%S UTC")
                ),
                (None, _) => format!(
                    "{} has not sent a heartbeat since {}.",
                    snapshot.name,
                    since.format("%H:%M UTC")
                ),
            };
            signals.push(Signal::AuditServiceOffline {
                audit_service: service.reference(),
                since,
                message,
            });
        }
    }
    Ok(signals)
}

/// The queue and slots now, and one-minute buckets over the last 24 hours.
pub async fn stats(pool: &AnyPool, site: &SiteRuntime) -> Result<Stats, AppError> {
    let now = db::now();
    let (queued, running) = queue_counts(pool, site).await?;
    let (mut slots_total, mut slots_busy) = (0, 0);
    for snapshot in crate::audit_service::snapshots(pool, site).await? {
        slots_total += u64::from(snapshot.slots);
        slots_busy += u64::from(snapshot.busy);
    }
    let this_minute = now.timestamp() / 60;
    let first_minute = this_minute - HISTORY_MINUTES + 1;
    let samples: Vec<(i64, i64, i64)> = sqlx::query_as(
        "SELECT minute, queued, running FROM queue_samples
          WHERE site_id = $1 AND minute >= $2 ORDER BY minute",
    )
    .bind(site.id())
    .bind(first_minute)
    .fetch_all(pool)
    .await?;
    let ended: Vec<(i64, String, i64)> = sqlx::query_as(
        "SELECT end_date / 60, status, COUNT(*) FROM tasks
          WHERE site_id = $1 AND kind IN ($2, $3) AND end_date >= $4
          GROUP BY end_date / 60, status",
    )
    .bind(site.id())
    .bind(kind_column(site_api::TaskKind::Scan))
    .bind(kind_column(site_api::TaskKind::Audit))
    .bind(first_minute * 60)
    .fetch_all(pool)
    .await?;
    let mut history = Vec::with_capacity(HISTORY_MINUTES as usize);
    let mut samples = samples.into_iter().peekable();
    let (mut last_queued, mut last_running) = (0, 0);
    for minute in first_minute..=this_minute {
        while let Some((_, q, r)) = samples.next_if(|(m, _, _)| *m <= minute) {
            last_queued = q as u64;
            last_running = r as u64;
        }
        let at: DateTime<Utc> = db::from_db_time(minute * 60)?;
        history.push(StatsBucket {
            at,
            queued: last_queued,
            running: last_running,
            finished: 0,
            failed: 0,
            cancelled: 0,
        });
    }
    // The minute under way ends now: it shows the queue as it is.
    if let Some(current) = history.last_mut() {
        current.queued = queued;
        current.running = running;
    }
    for (minute, status, count) in ended {
        let Some(bucket) = history.get_mut((minute - first_minute) as usize) else {
            continue;
        };
        match parse_column::<TaskStatus>("status", &status)? {
            TaskStatus::Finished => bucket.finished += count as u64,
            TaskStatus::Failed => bucket.failed += count as u64,
            TaskStatus::Cancelled => bucket.cancelled += count as u64,
            TaskStatus::Queued | TaskStatus::Running => {}
        }
    }
    Ok(Stats {
        now: StatsNow {
            queued,
            running,
            slots_total,
            slots_busy,
        },
        history,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(minute: i64) -> Timestamp {
        db::from_db_time(1_764_000_000 + minute * 60).unwrap()
    }

    #[test]
    fn a_queue_is_long_only_after_staying_over_the_threshold_for_the_window() {
        let window = Duration::from_secs(15 * 60);
        let mut watch = QueueWatch::default();
        watch.observe(60, 50, at(0));
        assert_eq!(watch.signal(50, window, at(10)), None);
        watch.observe(55, 50, at(10));
        let signal = watch
            .signal(50, window, at(15))
            .expect("long for 15 minutes");
        match signal {
            Signal::QueueLong {
                since,
                queued,
                threshold,
                ..
            } => {
                assert_eq!((since, queued, threshold), (at(0), 55, 50));
            }
            other => panic!("{other:?}"),
        }
        watch.observe(49, 50, at(16));
        assert_eq!(
            watch.signal(50, window, at(40)),
            None,
            "drained below the threshold"
        );
        watch.observe(50, 50, at(41));
        assert_eq!(
            watch.signal(50, window, at(50)),
            None,
            "the window starts again"
        );
    }

    fn service(busy: u32, state: AuditServiceState, beat_minute: i64) -> AuditService {
        AuditService {
            id: "as-1".to_owned(),
            name: "AS-1".to_owned(),
            slots: 4,
            busy,
            state,
            last_heartbeat: Some(at(beat_minute)),
            runner: site_api::RunnerKind::Simulated,
            address: None,
            version: None,
        }
    }

    #[test]
    fn audit_services_are_announced_when_slots_or_state_change_not_on_heartbeats() {
        let mut announced = Announced::default();
        let online = AuditServiceState::Online;
        assert_eq!(announced.services_changed([service(0, online, 0)]).len(), 1);
        assert!(announced
            .services_changed([service(0, online, 1)])
            .is_empty());
        assert_eq!(
            announced.services_changed([service(2, online, 2)]),
            [service(2, online, 2)]
        );
        let offline = AuditServiceState::Offline;
        assert_eq!(
            announced.services_changed([service(2, offline, 2)]).len(),
            1
        );
        assert!(announced
            .services_changed([service(2, offline, 2)])
            .is_empty());
    }

    fn running_long(task: &str, message: &str) -> Signal {
        Signal::TaskRunningLong {
            task: task.parse().unwrap(),
            running_since: at(0),
            message: message.to_owned(),
        }
    }

    #[test]
    fn a_signal_is_announced_once_when_it_starts_and_again_only_after_it_ended() {
        let mut announced = Announced::default();
        let started: Vec<Signal> = announced
            .signals_started(vec![running_long("scan-1", "1.0 hours")])
            .collect();
        assert_eq!(started.len(), 1);
        // Still in force, with a new message: not new.
        let started: Vec<Signal> = announced
            .signals_started(vec![
                running_long("scan-1", "1.5 hours"),
                running_long("audit-2", "2 hours"),
            ])
            .collect();
        assert_eq!(started, [running_long("audit-2", "2 hours")]);
        assert_eq!(announced.signals_started(vec![]).count(), 0);
        assert_eq!(
            announced
                .signals_started(vec![running_long("scan-1", "again")])
                .count(),
            1
        );
    }
}
