//! Several servers on one PostgreSQL database (1.1): each server streams
//! every Site's events from the `events` table, whichever server wrote
//! them, and keeps the others' dead in-process tasks from running forever.
//!
//! - Events: a write stores its events in its own transaction (under the
//!   Site's row lock, so commit order is revision order) and sends
//!   `NOTIFY taskdeck_events` with the Site's id. One listening connection
//!   per server wakes the Site's follower, which reads what came after the
//!   last revision it published and publishes it, in order, to the Site's
//!   subscribers and replay buffer. A poll every second covers a lost
//!   notification or listener. At start the replay buffer is filled from
//!   the table, so `Last-Event-ID` resumes on any server.
//! - Liveness ([`Liveness`]): each server beats its `servers` row every few
//!   seconds, by the database's clock, and holds an advisory lock while it
//!   lives. Every server fails the running in-process tasks of servers
//!   whose lock is free (killed) or whose row is older than
//!   [`DEAD_AFTER_MS`] (frozen, cut off), and removes their rows.

use std::sync::Arc;
use std::time::{Duration, Instant};

use sqlx::postgres::PgListener;
use sqlx::AnyPool;
use tokio_util::sync::CancellationToken;

use crate::db::Dialect;
use crate::error::AppError;
use crate::events::{Change, SiteEvent};
use crate::lifecycle::{self, Interrupted};
use crate::state::SiteRuntime;

/// The channel writes notify on.
pub const CHANNEL: &str = "taskdeck_events";

/// How often a follower reads the table without being woken.
const POLL: Duration = Duration::from_secs(1);

/// The most events read at once.
const BATCH: i64 = 1000;

/// Events kept per Site for replay, in the table.
const KEPT_EVENTS: i64 = 20_000;

/// How often a server beats its row and looks for dead servers.
const BEAT: Duration = Duration::from_secs(3);

/// A server whose row is older than this is dead (ms).
pub const DEAD_AFTER_MS: i64 = 15_000;

/// The message of an in-process task whose server died.
pub const SERVER_LOST_MESSAGE: &str =
    "Interrupted: the Site server running the task stopped answering.";

/// Fills the Site's replay buffer from the table: the revision its
/// follower goes on from.
pub async fn preload(pool: &AnyPool, site: &SiteRuntime) -> Result<i64, AppError> {
    let mut rows: Vec<(i64, String, String)> = sqlx::query_as(
        "SELECT revision, name, data FROM events WHERE site_id = $1
          ORDER BY revision DESC LIMIT $2",
    )
    .bind(site.id())
    .bind(crate::state::REPLAY_CAPACITY as i64)
    .fetch_all(pool)
    .await?;
    rows.reverse();
    let mut last = match rows.last() {
        Some((revision, _, _)) => *revision,
        None => {
            sqlx::query_scalar("SELECT revision FROM sites WHERE id = $1")
                .bind(site.id())
                .fetch_one(pool)
                .await?
        }
    };
    for row in rows {
        last = publish(site, row)?.max(last);
    }
    Ok(last)
}

fn publish(
    site: &SiteRuntime,
    (revision, name, data): (i64, String, String),
) -> Result<i64, AppError> {
    let change = Change::from_json(&name, &data).map_err(AppError::Internal)?;
    publish_change(site, revision, change);
    Ok(revision)
}

/// Publishes an event read as it happened (not at start), after doing
/// what it asks of this server when another server made the change: a
/// queued task wakes the Site's Audit Services (this server's dispatch and
/// the polls of agents waiting here), and a cancelled one stops its
/// program if it runs here. (For this server's own changes both were done
/// already, and doing them again changes nothing.)
fn publish_live(
    site: &SiteRuntime,
    (revision, name, data): (i64, String, String),
) -> Result<i64, AppError> {
    let change = Change::from_json(&name, &data).map_err(AppError::Internal)?;
    if let Change::Task(task) = &change {
        match task.status {
            site_api::TaskStatus::Queued => site.wake_audit_services(),
            site_api::TaskStatus::Cancelled => site.stop_runner(task.id),
            _ => {}
        }
    }
    publish_change(site, revision, change);
    Ok(revision)
}

fn publish_change(site: &SiteRuntime, revision: i64, change: Change) {
    site.publish(SiteEvent {
        revision: revision as u64,
        change,
    });
}

/// Streams the Site's events from the table, from after `last`, until `shutdown`.
pub async fn follow(
    pool: AnyPool,
    site: Arc<SiteRuntime>,
    mut last: i64,
    shutdown: CancellationToken,
) {
    let mut pruned = Instant::now();
    loop {
        let mut full = false;
        match read_after(&pool, &site, last).await {
            Ok(rows) => {
                full = rows.len() as i64 == BATCH;
                for row in rows {
                    match publish_live(&site, row) {
                        Ok(revision) => last = revision,
                        Err(error) => tracing::error!(%error, site = site.id(), "skipped an event"),
                    }
                }
            }
            Err(error) => tracing::warn!(%error, site = site.id(), "cannot read events"),
        }
        if pruned.elapsed() > Duration::from_secs(60) {
            pruned = Instant::now();
            if let Err(error) =
                sqlx::query("DELETE FROM events WHERE site_id = $1 AND revision < $2")
                    .bind(site.id())
                    .bind(last - KEPT_EVENTS)
                    .execute(&pool)
                    .await
            {
                tracing::warn!(%error, site = site.id(), "cannot prune events");
            }
        }
        if full {
            continue;
        }
        tokio::select! {
            _ = site.committed() => {}
            _ = tokio::time::sleep(POLL) => {}
            _ = shutdown.cancelled() => return,
        }
    }
}

async fn read_after(
    pool: &AnyPool,
    site: &SiteRuntime,
    last: i64,
) -> Result<Vec<(i64, String, String)>, sqlx::Error> {
    sqlx::query_as(
        "SELECT revision, name, data FROM events WHERE site_id = $1 AND revision > $2
          ORDER BY revision LIMIT $3",
    )
    .bind(site.id())
    .bind(last)
    .bind(BATCH)
    .fetch_all(pool)
    .await
}

/// Listens for other servers' writes and wakes the followers of their
/// Sites, until `shutdown`; reconnects after a lost connection (the
/// followers' polls cover the gap).
pub async fn listen(url: String, sites: Vec<Arc<SiteRuntime>>, shutdown: CancellationToken) {
    loop {
        let listener = async {
            let mut listener = PgListener::connect(&url).await?;
            listener.listen(CHANNEL).await?;
            loop {
                let notification = listener.recv().await?;
                if let Some(site) = sites.iter().find(|s| s.id() == notification.payload()) {
                    site.wake_follower();
                }
            }
            #[allow(unreachable_code)]
            Ok::<(), sqlx::Error>(())
        };
        tokio::select! {
            result = listener => {
                if let Err(error) = result {
                    tracing::warn!(%error, "lost the event listener; reconnecting");
                }
            }
            _ = shutdown.cancelled() => return,
        }
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_secs(1)) => {}
            _ = shutdown.cancelled() => return,
        }
    }
}

/// A server's part in Sites it shares with other servers on one database:
/// its [`Liveness`], and where each Site's follower goes on from.
pub struct Following {
    url: String,
    liveness: Liveness,
    followed: Vec<(Arc<SiteRuntime>, i64)>,
}

impl Following {
    /// Registers this server, ends the tasks of servers that died (this
    /// one's last life among them) now rather than at the next sweep, and
    /// announces each Site no server announces yet.
    pub async fn start(
        url: &str,
        server_id: &str,
        pool: &AnyPool,
        sites: &[Arc<SiteRuntime>],
    ) -> Result<Following, AppError> {
        let mut liveness = Liveness::register(url, server_id).await?;
        liveness.sweep(pool, sites).await?;
        liveness.claim_announcers(sites).await?;
        Ok(Following {
            url: url.to_owned(),
            liveness,
            followed: Vec::new(),
        })
    }

    /// Fills `site`'s replay buffer from the table ([`preload`]); its
    /// follower goes on from there.
    pub async fn preload(
        &mut self,
        pool: &AnyPool,
        site: &Arc<SiteRuntime>,
    ) -> Result<(), AppError> {
        let last = preload(pool, site).await?;
        self.followed.push((site.clone(), last));
        Ok(())
    }

    /// Spawns the listener, the heartbeat, each preloaded Site's follower
    /// and the pruning of the shared rate limits, until `shutdown`.
    pub fn spawn(
        self,
        tasks: &mut tokio::task::JoinSet<()>,
        pool: &AnyPool,
        sites: Vec<Arc<SiteRuntime>>,
        shutdown: &CancellationToken,
    ) {
        tasks.spawn(listen(self.url.clone(), sites.clone(), shutdown.clone()));
        tasks.spawn(beat(
            self.url,
            self.liveness,
            pool.clone(),
            sites,
            shutdown.clone(),
        ));
        for (site, last) in self.followed {
            tasks.spawn(follow(pool.clone(), site, last, shutdown.clone()));
        }
        tasks.spawn(crate::limits::prune(pool.clone(), shutdown.clone()));
    }
}

/// A server's hold on its `servers` row: a connection of its own holding
/// a session advisory lock on the row's `lock_key`. PostgreSQL releases
/// the lock the moment the server's process dies and its connection
/// closes, so the others know a killed server is dead at once; a frozen or
/// cut-off one is known dead when its heartbeat is [`DEAD_AFTER_MS`] old.
pub struct Liveness {
    connection: sqlx::PgConnection,
    server_id: String,
    lock_key: i64,
    /// The Sites whose announcer lock this connection holds.
    announcing: std::collections::HashSet<String>,
}

/// The first key of every Site's announcer lock (the second is the hash
/// of its id): a session advisory lock in the two-key space, apart from
/// the servers' own one-key locks.
const ANNOUNCER_LOCK: i32 = 7_215_002;

impl Liveness {
    /// Adds this server's row and takes its lock.
    pub async fn register(url: &str, server_id: &str) -> Result<Liveness, AppError> {
        use rand::Rng;
        use sqlx::Connection;
        let mut connection = sqlx::PgConnection::connect(url).await?;
        let lock_key: i64 = rand::rng().random();
        sqlx::query("SELECT pg_advisory_lock($1)")
            .bind(lock_key)
            .execute(&mut connection)
            .await?;
        let mut liveness = Liveness {
            connection,
            server_id: server_id.to_owned(),
            lock_key,
            announcing: std::collections::HashSet::new(),
        };
        liveness.beat().await?;
        Ok(liveness)
    }

    /// Takes the announcer lock of each Site that no live server holds, so
    /// that one server announces each Site's Audit Services and signals.
    /// A server that dies frees its locks with its connection; another
    /// takes them at its next beat.
    pub async fn claim_announcers(&mut self, sites: &[Arc<SiteRuntime>]) -> Result<(), AppError> {
        for site in sites {
            if !self.announcing.contains(site.id()) {
                let taken: bool =
                    sqlx::query_scalar("SELECT pg_try_advisory_lock($1, hashtext($2))")
                        .bind(ANNOUNCER_LOCK)
                        .bind(site.id())
                        .fetch_one(&mut self.connection)
                        .await?;
                if taken {
                    self.announcing.insert(site.id().to_owned());
                }
            }
            site.set_announcer(self.announcing.contains(site.id()));
        }
        Ok(())
    }

    /// Moves this server's heartbeat to now (re-adding a row that a
    /// server that thought it dead removed).
    async fn beat(&mut self) -> Result<(), AppError> {
        let now = Dialect::Postgres.now_ms();
        sqlx::query(&format!(
            "INSERT INTO servers (id, started_at, last_seen, lock_key) VALUES ($1, {now}, {now}, $2)
             ON CONFLICT (id) DO UPDATE SET last_seen = excluded.last_seen"
        ))
        .bind(&self.server_id)
        .bind(self.lock_key)
        .execute(&mut self.connection)
        .await?;
        Ok(())
    }

    /// The ids of the other servers that are dead: their lock is free, or
    /// their heartbeat too old.
    async fn dead_servers(&mut self) -> Result<Vec<String>, AppError> {
        let now = Dialect::Postgres.now_ms();
        let rows: Vec<(String, i64, bool)> = sqlx::query_as(&format!(
            "SELECT id, lock_key, last_seen <= {now} - $1 FROM servers WHERE id <> $2"
        ))
        .bind(DEAD_AFTER_MS)
        .bind(&self.server_id)
        .fetch_all(&mut self.connection)
        .await?;
        let mut dead = Vec::new();
        for (id, lock_key, silent) in rows {
            let free: bool = sqlx::query_scalar("SELECT pg_try_advisory_lock($1)")
                .bind(lock_key)
                .fetch_one(&mut self.connection)
                .await?;
            if free {
                sqlx::query("SELECT pg_advisory_unlock($1)")
                    .bind(lock_key)
                    .execute(&mut self.connection)
                    .await?;
            }
            if free || silent {
                dead.push(id);
            }
        }
        Ok(dead)
    }

    /// Removes the rows of dead servers, then fails the running in-process
    /// tasks of every server without a row. Each task ends once however
    /// many servers sweep: the state machine's update is conditional.
    pub async fn sweep(
        &mut self,
        pool: &AnyPool,
        sites: &[Arc<SiteRuntime>],
    ) -> Result<(), AppError> {
        for id in self.dead_servers().await? {
            tracing::warn!(server = %id, "a Site server stopped answering");
            sqlx::query("DELETE FROM servers WHERE id = $1")
                .bind(&id)
                .execute(pool)
                .await?;
        }
        for site in sites {
            let orphans: i64 = sqlx::query_scalar(&format!(
                "SELECT COUNT(*) FROM tasks WHERE site_id = $1 AND status = 'running'
                    AND {}",
                lifecycle::OF_SERVERS_GONE
            ))
            .bind(site.id())
            .fetch_one(pool)
            .await?;
            if orphans == 0 {
                continue;
            }
            let ended = lifecycle::interrupt_running(
                pool,
                site,
                Interrupted::OfServersGone,
                SERVER_LOST_MESSAGE,
            )
            .await?;
            tracing::warn!(
                site = site.id(),
                n = ended.len(),
                "ended the running tasks of a server that stopped"
            );
        }
        Ok(())
    }

    /// Removes this server's row, when it stops.
    pub async fn unregister(mut self) -> Result<(), AppError> {
        use sqlx::Connection;
        sqlx::query("DELETE FROM servers WHERE id = $1")
            .bind(&self.server_id)
            .execute(&mut self.connection)
            .await?;
        self.connection.close().await?;
        Ok(())
    }
}

/// Beats this server's row and sweeps for dead servers every few seconds,
/// until `shutdown`; then removes the row. A lost connection is opened again.
pub async fn beat(
    url: String,
    mut liveness: Liveness,
    pool: AnyPool,
    sites: Vec<Arc<SiteRuntime>>,
    shutdown: CancellationToken,
) {
    loop {
        tokio::select! {
            _ = tokio::time::sleep(BEAT) => {}
            _ = shutdown.cancelled() => break,
        }
        let beaten = match liveness.beat().await {
            Ok(()) => match liveness.sweep(&pool, &sites).await {
                Ok(()) => liveness.claim_announcers(&sites).await,
                Err(error) => Err(error),
            },
            Err(error) => Err(error),
        };
        if let Err(error) = beaten {
            // The locks may have gone with the connection.
            for site in &sites {
                site.set_announcer(false);
            }
            tracing::warn!(%error, "cannot beat this server's row; connecting again");
            match Liveness::register(&url, &liveness.server_id).await {
                Ok(again) => liveness = again,
                Err(error) => tracing::warn!(%error, "cannot reach the database"),
            }
        }
    }
    if let Err(error) = liveness.unregister().await {
        tracing::warn!(%error, "cannot remove this server's row");
    }
}
