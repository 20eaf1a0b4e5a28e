//! The agent's life: open a lease, then keep a heartbeat and a long poll
//! going side by side while each task's program runs on a slot of its own.
//!
//! - The heartbeat loop renews the lease on a timer of its own, whatever
//!   the programs do, and stops programs the server no longer counts as
//!   this lease's.
//! - The poll loop always has one poll in flight. It asks for as many
//!   tasks as there are free slots and learns at once of tasks to stop.
//!   When every slot is busy, a freed slot starts a new poll with room in it.
//! - A program that ends is reported, retried through outages, until the
//!   server takes it or says the task or the lease is gone. Its slot stays
//!   busy until then, so the server never gives the agent more than it runs.
//! - A lease the server ended (the agent was away too long) stops every
//!   program at once, reports nothing about them, and the agent opens a
//!   new lease. A stop (SIGTERM) takes no new task, stops the programs,
//!   reports their tasks failed ("interrupted: the Audit Service stopped")
//!   and closes the lease.

use std::collections::{HashMap, HashSet};
use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rand::Rng;
use site_api::{
    AgentEnd, AgentHeartbeat, AgentHello, AgentPoll, AgentProgress, AgentSession, Progress, Task,
    TaskId, TaskStatus,
};
use taskdeck_runner::Program;
use tokio::sync::{watch, Notify};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::client::{CallError, SiteClient, POLL_WAIT};

/// The message of a task whose program the agent stopped because it was told to stop.
pub const INTERRUPTED_MESSAGE: &str = "interrupted: the Audit Service stopped";
/// How long a stopping agent keeps trying to report its tasks.
const REPORT_DEADLINE: Duration = Duration::from_secs(8);
/// The longest wait between two tries to reach the server.
const MAX_BACKOFF: Duration = Duration::from_secs(5);

/// How the agent ended.
#[derive(Debug, PartialEq, Eq)]
pub enum Exit {
    /// Told to stop (SIGTERM, Ctrl-C, the service manager): exit 0.
    Stopped,
    /// The server refused it: exit 2 with this sentence.
    Refused(String),
}

/// What the agent is, from its command line.
pub struct Agent {
    /// The client of the service's agent protocol.
    pub client: SiteClient,
    /// `--server` as given, for the `connected to` line.
    pub server: String,
    /// The service id.
    pub service: String,
    /// The agent secret.
    pub secret: String,
    /// The program run for each task.
    pub program: Vec<String>,
    /// `--slots`, if given.
    pub slots: Option<u32>,
    /// Cancelled to stop the agent.
    pub shutdown: CancellationToken,
}

impl Agent {
    /// Serves the service until told to stop or refused.
    pub async fn run(self) -> Exit {
        let agent = Arc::new(self);
        let instance = format!("{:032x}", rand::rng().random::<u128>());
        let mut announced = false;
        loop {
            let session = match agent.open_session(&instance).await {
                Ok(session) => session,
                Err(exit) => return exit,
            };
            if !announced {
                announced = true;
                let mut stdout = std::io::stdout().lock();
                let _ = writeln!(stdout, "connected to {} as {}", agent.server, agent.service)
                    .and_then(|()| stdout.flush());
            }
            tracing::info!(
                lease = session.lease,
                slots = session.slots,
                lease_ms = session.lease_ms,
                "serving {}",
                agent.service
            );
            match Session::new(agent.clone(), session).run().await {
                SessionEnd::LeaseLost => continue,
                SessionEnd::Stopped => return Exit::Stopped,
            }
        }
    }

    /// Opens a lease, retrying forever while the server cannot be reached.
    async fn open_session(&self, instance: &str) -> Result<AgentSession, Exit> {
        let hello = AgentHello {
            version: env!("CARGO_PKG_VERSION").to_owned(),
            slots: self.slots.unwrap_or(u32::MAX),
            instance: instance.to_owned(),
        };
        let mut backoff = Backoff::default();
        loop {
            let opened = tokio::select! {
                opened = self.client.open_session(&self.secret, &hello) => opened,
                _ = self.shutdown.cancelled() => return Err(Exit::Stopped),
            };
            match opened {
                Ok(session) => return Ok(session),
                Err(CallError::Refused { status, message }) => {
                    return Err(Exit::Refused(refusal(status.as_u16(), &message)))
                }
                Err(error) => {
                    let delay = backoff.next();
                    tracing::warn!(%error, "cannot reach {}; trying again in {delay:?}", self.server);
                    tokio::select! {
                        _ = tokio::time::sleep(delay) => {}
                        _ = self.shutdown.cancelled() => return Err(Exit::Stopped),
                    }
                }
            }
        }
    }
}

/// The sentence for a refused session: what was refused, then the server's words.
pub fn refusal(status: u16, message: &str) -> String {
    let what = match status {
        401 | 403 => "the server refused the agent secret",
        404 => "the server does not know this Site or Audit Service",
        409 => "the server will not let this agent serve the Audit Service",
        _ => "the server refused the agent",
    };
    format!("{what}: {message}")
}

/// Waits between tries: 200 ms, doubling, never more than [`MAX_BACKOFF`].
#[derive(Debug, Default)]
struct Backoff {
    tries: u32,
}

impl Backoff {
    fn next(&mut self) -> Duration {
        let base = Duration::from_millis(200)
            .saturating_mul(2u32.saturating_pow(self.tries.min(8)))
            .min(MAX_BACKOFF);
        self.tries += 1;
        // Up to a fifth less, so many agents do not come back in step.
        base.mul_f64(rand::rng().random_range(0.8..=1.0))
    }

    fn reset(&mut self) {
        self.tries = 0;
    }
}

/// How a session ended.
enum SessionEnd {
    LeaseLost,
    Stopped,
}

/// The programs running under one lease.
#[derive(Default)]
struct Slots {
    /// Each running task's stop.
    running: HashMap<TaskId, CancellationToken>,
    /// Tasks that ran under this lease and ended: never started again.
    ended: HashSet<TaskId>,
}

/// One lease, as served.
struct Session {
    agent: Arc<Agent>,
    token: String,
    slots_total: usize,
    heartbeat_every: Duration,
    program: Program,
    slots: Mutex<Slots>,
    slot_freed: Notify,
    /// Cancelled when the lease is lost or the agent stops: every program stops.
    stop_all: CancellationToken,
    /// Cancelled when the server says the lease has ended.
    lost: CancellationToken,
    programs: TaskTracker,
}

impl Session {
    fn new(agent: Arc<Agent>, session: AgentSession) -> Arc<Session> {
        let program = Program {
            command: agent.program.clone(),
            timeout: session.timeout_ms.map(Duration::from_millis),
        };
        Arc::new(Session {
            token: session.token,
            slots_total: session.slots.max(1) as usize,
            heartbeat_every: Duration::from_millis(session.heartbeat_ms.max(100)),
            program,
            slots: Mutex::new(Slots::default()),
            slot_freed: Notify::new(),
            stop_all: CancellationToken::new(),
            lost: CancellationToken::new(),
            programs: TaskTracker::new(),
            agent,
        })
    }

    /// The lease has ended: stop every program, report nothing of them.
    fn lose(&self) {
        self.lost.cancel();
        self.stop_all.cancel();
    }

    /// Whether the agent is stopping under a live lease: its programs'
    /// tasks are then reported failed (interrupted).
    fn stopping(&self) -> bool {
        self.agent.shutdown.is_cancelled() && !self.lost.is_cancelled()
    }

    fn slots(&self) -> std::sync::MutexGuard<'_, Slots> {
        self.slots.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn running(&self) -> Vec<TaskId> {
        self.slots().running.keys().copied().collect()
    }

    /// Stops the programs of `ids` that still run (the server ended their tasks).
    fn stop(&self, ids: &[TaskId]) {
        let slots = self.slots();
        for id in ids {
            if let Some(stop) = slots.running.get(id) {
                tracing::info!(task = %id, "the server ended the task; stopping its program");
                stop.cancel();
            }
        }
    }

    async fn run(self: Arc<Self>) -> SessionEnd {
        let heartbeat = tokio::spawn(self.clone().heartbeat_loop());
        let end = self.clone().poll_loop().await;
        // Every program stops: the lease is gone, or the agent is stopping.
        // Heartbeats go on while a stopping agent reports its tasks.
        self.stop_all.cancel();
        self.programs.close();
        self.programs.wait().await;
        heartbeat.abort();
        match end {
            PollEnd::LeaseLost => SessionEnd::LeaseLost,
            PollEnd::Stopped => {
                match tokio::time::timeout(
                    Duration::from_secs(2),
                    self.agent.client.close_session(&self.token),
                )
                .await
                {
                    Ok(Ok(())) => tracing::info!("closed the lease"),
                    Ok(Err(error)) => tracing::warn!(%error, "cannot close the lease"),
                    Err(_) => tracing::warn!("cannot close the lease: the server did not answer"),
                }
                SessionEnd::Stopped
            }
        }
    }

    /// Renews the lease every `heartbeat_every`, and sooner after a miss.
    async fn heartbeat_loop(self: Arc<Self>) {
        let mut next = self.heartbeat_every;
        loop {
            tokio::select! {
                _ = tokio::time::sleep(next) => {}
                _ = self.lost.cancelled() => return,
            }
            let beat = AgentHeartbeat {
                running: self.running(),
            };
            match self.agent.client.heartbeat(&self.token, &beat).await {
                Ok(reply) => {
                    self.stop(&reply.stop);
                    next = self.heartbeat_every;
                }
                Err(CallError::LeaseLost(message)) => {
                    tracing::warn!("the lease has ended ({message}); stopping every program");
                    self.lose();
                    return;
                }
                Err(error) => {
                    tracing::warn!(%error, "a heartbeat did not reach the server");
                    next = self.heartbeat_every.min(Duration::from_secs(1));
                }
            }
        }
    }

    /// Keeps a poll in flight, starting the tasks it brings.
    async fn poll_loop(self: Arc<Self>) -> PollEnd {
        let mut backoff = Backoff::default();
        loop {
            let running = self.running();
            let free = self.slots_total.saturating_sub(running.len()) as u32;
            let poll = AgentPoll {
                free,
                running,
                wait_ms: Some(POLL_WAIT.as_millis() as u64),
            };
            let answer = tokio::select! {
                answer = self.agent.client.poll(&self.token, &poll) => answer,
                // A full agent's poll waits for stops only: a freed slot asks again.
                _ = self.slot_freed.notified(), if free == 0 => continue,
                _ = self.agent.shutdown.cancelled() => return PollEnd::Stopped,
                _ = self.lost.cancelled() => return PollEnd::LeaseLost,
            };
            match answer {
                Ok(work) => {
                    backoff.reset();
                    self.stop(&work.stop);
                    for task in work.tasks {
                        self.start(task);
                    }
                }
                Err(CallError::LeaseLost(message)) => {
                    tracing::warn!("the lease has ended ({message}); stopping every program");
                    self.lose();
                    return PollEnd::LeaseLost;
                }
                Err(error) => {
                    let delay = backoff.next();
                    tracing::warn!(%error, "cannot poll {}; trying again in {delay:?}", self.agent.server);
                    tokio::select! {
                        _ = tokio::time::sleep(delay) => {}
                        _ = self.agent.shutdown.cancelled() => return PollEnd::Stopped,
                        _ = self.lost.cancelled() => return PollEnd::LeaseLost,
                    }
                }
            }
        }
    }

    /// Starts `task`'s program on a free slot, unless it runs or ran already.
    fn start(self: &Arc<Self>, task: Task) {
        let stop = {
            let mut slots = self.slots();
            if slots.running.contains_key(&task.id)
                || slots.ended.contains(&task.id)
                || slots.running.len() >= self.slots_total
                || self.stop_all.is_cancelled()
            {
                return;
            }
            let stop = self.stop_all.child_token();
            slots.running.insert(task.id, stop.clone());
            stop
        };
        tracing::info!(task = %task.id, target = %task.target.name, "starting");
        self.programs.spawn(self.clone().run_task(task, stop));
    }

    /// Runs one task's program and reports how it ended.
    async fn run_task(self: Arc<Self>, task: Task, stop: CancellationToken) {
        let id = task.id;
        let (progress_tx, progress_rx) = watch::channel(None::<Progress>);
        let reporter = tokio::spawn(self.clone().report_progress(id, progress_rx));
        let on_progress = move |progress| {
            let _ = progress_tx.send(Some(progress));
            std::future::ready(())
        };
        let outcome = taskdeck_runner::run(&self.program, &task, &stop, on_progress).await;
        let _ = reporter.await;
        let end = match outcome {
            Some(completion) => Some(AgentEnd {
                status: completion.status,
                error_messages: completion.error_messages,
                // Move on to the next task in the same call.
                take: u32::from(!self.stop_all.is_cancelled()),
            }),
            None if self.stopping() => Some(AgentEnd {
                status: TaskStatus::Failed,
                error_messages: vec![INTERRUPTED_MESSAGE.to_owned()],
                take: 0,
            }),
            // The server ended the task (a cancel, or the lease is gone).
            None => None,
        };
        let next = match end {
            Some(end) => {
                tracing::info!(task = %id, status = %end.status, "ended");
                self.report_end(id, &end).await
            }
            None => Vec::new(),
        };
        {
            let mut slots = self.slots();
            slots.running.remove(&id);
            slots.ended.insert(id);
        }
        let took = next.len();
        for task in next {
            self.start(task);
        }
        if took == 0 {
            // A slot is free: a full agent's waiting poll asks again.
            self.slot_freed.notify_one();
        }
    }

    /// Sends the latest progress whenever it changes, one call at a time.
    async fn report_progress(
        self: Arc<Self>,
        id: TaskId,
        mut progress: watch::Receiver<Option<Progress>>,
    ) {
        while progress.changed().await.is_ok() {
            let Some(latest) = *progress.borrow_and_update() else {
                continue;
            };
            let report = AgentProgress { progress: latest };
            match self.agent.client.progress(&self.token, id, &report).await {
                Ok(()) => {}
                Err(CallError::TaskGone(_) | CallError::LeaseLost(_)) => return,
                Err(error) => tracing::debug!(%error, task = %id, "progress not reported"),
            }
        }
    }

    /// Reports a task's end until the server takes it or says it is gone
    /// (a stopping agent gives up after [`REPORT_DEADLINE`]): the tasks the
    /// server gave the freed slot.
    async fn report_end(&self, id: TaskId, end: &AgentEnd) -> Vec<Task> {
        let mut backoff = Backoff::default();
        let deadline = Instant::now() + REPORT_DEADLINE;
        loop {
            match self.agent.client.end(&self.token, id, end).await {
                Ok(ended) => return ended.next,
                Err(CallError::TaskGone(message)) => {
                    tracing::info!(task = %id, "the server had already ended the task: {message}");
                    return Vec::new();
                }
                Err(CallError::LeaseLost(message)) => {
                    tracing::warn!(task = %id, "the end was not taken: {message}");
                    self.lose();
                    return Vec::new();
                }
                Err(error) => {
                    let delay = backoff.next();
                    if self.stopping() && Instant::now() + delay > deadline {
                        tracing::warn!(%error, task = %id, "giving up reporting the end");
                        return Vec::new();
                    }
                    tracing::warn!(%error, task = %id, "cannot report the end; trying again in {delay:?}");
                    tokio::time::sleep(delay).await;
                }
            }
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum PollEnd {
    LeaseLost,
    Stopped,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_five_seconds() {
        let mut backoff = Backoff::default();
        let waits: Vec<Duration> = (0..12).map(|_| backoff.next()).collect();
        assert!(waits[0] <= Duration::from_millis(200));
        assert!(waits[0] >= Duration::from_millis(160));
        assert!(waits[1] > waits[0]);
        assert!(waits.iter().all(|wait| *wait <= MAX_BACKOFF));
        assert!(waits[11] >= MAX_BACKOFF.mul_f64(0.8));
        backoff.reset();
        assert!(backoff.next() <= Duration::from_millis(200));
    }

    #[test]
    fn a_refusal_says_what_was_refused() {
        assert!(refusal(401, "The agent secret is wrong.")
            .starts_with("the server refused the agent secret: "));
        assert!(refusal(404, "x").contains("does not know this Site"));
        assert!(refusal(409, "x").contains("will not let this agent"));
    }
}
