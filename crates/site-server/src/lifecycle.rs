//! The task state machine: the only code that changes a task's status.
//!
//! `queued -> running -> finished | cancelled | failed`, and `queued -> cancelled`.
//! Each transition is one SQLite transaction whose `UPDATE` names the state
//! it leaves (`WHERE … AND status = ?`): zero rows changed means another
//! transition won, and the caller learns so instead of overwriting it. The
//! Site's revision is bumped in the same transaction, and the change is
//! published only after commit, under the Site's write lock, so subscribers
//! see revisions in order.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use site_api::{
    CancelOutcome, CancelResult, Initiator, ObjectRef, Progress, SimulateSpec, Target, TargetType,
    Task, TaskId, TaskKind, TaskStatus,
};
use sqlx::{Any, AnyPool, Transaction};
use tokio::sync::{oneshot, MutexGuard};

use crate::db::{self, kind_column, status_column, Dialect, TaskRow, TASK_COLUMNS};
use crate::error::AppError;
use crate::events::{Change, SiteEvent};
use crate::state::SiteRuntime;

/// A task to put in the queue.
#[derive(Debug, Clone)]
pub struct NewTask {
    /// Scan or audit.
    pub kind: TaskKind,
    /// What it acts on.
    pub target: Target,
    /// The Segment or device set covered.
    pub scope: String,
    /// Who started it.
    pub initiator: Initiator,
    /// The schedule, when `initiator` is `Schedule`.
    pub schedule: Option<ObjectRef>,
    /// How a simulated Audit Service should run it (demo and test mode).
    pub simulate: Option<SimulateSpec>,
}

/// How a running task ended on its Audit Service.
pub use taskdeck_runner::Completion;

/// How a write moves the active counts: per kind, status and target type
/// (the `active_counts` rows, migration 0007), and so the Site's queued
/// and running counters. Derived from each changed task's status before
/// and after, so no transition can forget to move them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Moves(BTreeMap<(TaskKind, TaskStatus, TargetType), i64>);

impl Moves {
    /// The moves of tasks that were `from` (`None`: new) and are now as `rows` say.
    fn of<'r>(
        changed: impl IntoIterator<Item = (Option<TaskStatus>, &'r TaskRow)>,
    ) -> Result<Moves, AppError> {
        let mut moves = Moves::default();
        for (from, row) in changed {
            let (kind, to, target_type) = row.count_key()?;
            let mut step = |status: TaskStatus, by: i64| {
                if !status.is_terminal() {
                    *moves.0.entry((kind, status, target_type)).or_default() += by;
                }
            };
            if let Some(from) = from {
                step(from, -1);
            }
            step(to, 1);
        }
        moves.0.retain(|_, n| *n != 0);
        Ok(moves)
    }

    /// How far the count of `status` moves.
    fn of_status(&self, status: TaskStatus) -> i64 {
        self.0
            .iter()
            .filter(|((_, s, _), _)| *s == status)
            .map(|(_, n)| n)
            .sum()
    }
}

/// A write to one Site: holds its write lock and one transaction, and
/// publishes the changed tasks once committed.
struct SiteWrite<'a> {
    site: &'a SiteRuntime,
    _guard: MutexGuard<'a, ()>,
    tx: Transaction<'static, Any>,
    dialect: Dialect,
}

impl<'a> SiteWrite<'a> {
    async fn begin(pool: &AnyPool, site: &'a SiteRuntime) -> Result<SiteWrite<'a>, AppError> {
        let guard = site.lock_writes().await;
        SiteWrite::begin_locked(pool, site, guard).await
    }

    /// [`SiteWrite::begin`] with the Site's write lock already held.
    async fn begin_locked(
        pool: &AnyPool,
        site: &'a SiteRuntime,
        guard: MutexGuard<'a, ()>,
    ) -> Result<SiteWrite<'a>, AppError> {
        let dialect = Dialect::of(pool);
        // SQLite: IMMEDIATE takes the write lock now, not at the first write.
        let mut tx = pool.begin_with(dialect.begin_write()).await?;
        if dialect == Dialect::Postgres {
            // Every server writing to the Site waits here for the others'
            // writes to commit: transitions of one Site are serialised
            // across servers as the write lock serialises them in one, so
            // slots are counted right and revisions commit in order.
            sqlx::query("SELECT revision FROM sites WHERE id = $1 FOR UPDATE")
                .bind(site.id())
                .execute(&mut *tx)
                .await?;
        }
        Ok(SiteWrite {
            site,
            _guard: guard,
            tx,
            dialect,
        })
    }

    /// Commits, numbering each changed task with a new revision and moving
    /// the counts as the tasks moved (each with the status it left, `None`
    /// for a new one), and publishes the changes in order.
    async fn commit(
        self,
        changed: Vec<(Option<TaskStatus>, TaskRow)>,
    ) -> Result<Vec<Task>, AppError> {
        let moves = Moves::of(changed.iter().map(|(from, row)| (*from, row)))?;
        let tasks = changed
            .into_iter()
            .map(|(_, row)| row.to_task(self.site.failed_label()))
            .collect::<Result<Vec<Task>, AppError>>()?;
        self.commit_changes(tasks.iter().cloned().map(Change::Task).collect(), moves)
            .await?;
        Ok(tasks)
    }

    /// Commits, numbering each change with a new revision and moving the
    /// counts by `moves`, and publishes the changes in order.
    async fn commit_changes(mut self, changes: Vec<Change>, moves: Moves) -> Result<(), AppError> {
        if !moves.0.is_empty() {
            let mut upsert = db::Sql::new(
                self.dialect,
                "INSERT INTO active_counts (site_id, kind, status, target_type, n) VALUES ",
            );
            for (i, ((kind, status, target_type), n)) in moves.0.iter().enumerate() {
                upsert.push_row(i, |row| {
                    row.bind(self.site.id().to_owned())
                        .bind(kind_column(*kind))
                        .bind(status_column(*status))
                        .bind(target_type.as_str())
                        .bind(*n);
                });
            }
            upsert.push(
                " ON CONFLICT (site_id, kind, status, target_type) \
                 DO UPDATE SET n = active_counts.n + excluded.n",
            );
            upsert.build().execute(&mut *self.tx).await?;
        }
        let last: i64 = sqlx::query_scalar(
            "UPDATE sites SET revision = revision + $1, queued = queued + $2, running = running + $3
              WHERE id = $4 RETURNING revision",
        )
        .bind(changes.len() as i64)
        .bind(moves.of_status(TaskStatus::Queued))
        .bind(moves.of_status(TaskStatus::Running))
        .bind(self.site.id())
        .fetch_one(&mut *self.tx)
        .await?;
        let first = last - changes.len() as i64 + 1;
        if self.dialect == Dialect::Sqlite {
            self.tx.commit().await?;
            for (revision, change) in (first..).zip(changes) {
                self.site.publish(SiteEvent {
                    revision: revision as u64,
                    change,
                });
            }
            return Ok(());
        }
        // PostgreSQL: the events go into the table, in this transaction;
        // every server's follower (this one's too) streams them from there.
        for (chunk_first, chunk) in (first..)
            .step_by(EVENTS_PER_INSERT)
            .zip(changes.chunks(EVENTS_PER_INSERT))
        {
            let mut insert = db::Sql::new(
                self.dialect,
                "INSERT INTO events (site_id, revision, name, data) VALUES ",
            );
            for (i, (revision, change)) in (chunk_first..).zip(chunk).enumerate() {
                let data = change
                    .to_json()
                    .map_err(|e| AppError::Internal(e.to_string()))?;
                insert.push_row(i, |row| {
                    row.bind(self.site.id().to_owned())
                        .bind(revision)
                        .bind(change.event_name())
                        .bind(data);
                });
            }
            insert.build().execute(&mut *self.tx).await?;
        }
        // Delivered at commit; the payload is only the Site's id.
        sqlx::query("SELECT pg_notify('taskdeck_events', $1)")
            .bind(self.site.id())
            .execute(&mut *self.tx)
            .await?;
        self.tx.commit().await?;
        self.site.wake_follower();
        Ok(())
    }

    /// Commits the change of at most one task (that left `from`): `None`
    /// when the conditional update matched nothing (another transition
    /// won), which rolls back.
    async fn commit_one(
        self,
        changed: Option<TaskRow>,
        from: Option<TaskStatus>,
    ) -> Result<Option<Task>, AppError> {
        match changed {
            Some(row) => Ok(self.commit(vec![(from, row)]).await?.pop()),
            None => Ok(None),
        }
    }
}

/// The most events written by one `INSERT` (four values each).
const EVENTS_PER_INSERT: usize = 500;

/// A single creation waiting to be written, and who waits for its task.
pub(crate) type PendingCreation = (NewTask, oneshot::Sender<Result<Task, String>>);

/// The most single creations written in one transaction.
const MAX_CREATIONS_PER_WRITE: usize = 256;

/// Queues a new task with the Site's next number for its kind.
///
/// Group commit: the creation joins the Site's queue of waiting ones, and
/// whoever holds the Site's write lock next writes every creation waiting
/// then in one transaction (in arrival order, so numbers follow it). A
/// burst of concurrent creations costs a few fsyncs, not one each; each
/// caller still returns only once its own task is committed. The write
/// runs on a task of its own, so a caller that goes away (a closed
/// connection) never leaves the others' creations half written.
pub async fn create(
    pool: &AnyPool,
    site: &Arc<SiteRuntime>,
    new: NewTask,
) -> Result<Task, AppError> {
    let (sender, created) = oneshot::channel();
    site.queue_creation((new, sender));
    let (pool, site) = (pool.clone(), site.clone());
    tokio::spawn(async move { write_queued_creations(&pool, &site).await });
    created
        .await
        .map_err(|_| AppError::Internal("the task's write was dropped".to_owned()))?
        .map_err(AppError::Internal)
}

/// Writes every creation queued on the Site (at most
/// [`MAX_CREATIONS_PER_WRITE`]) in one transaction, if any is left.
async fn write_queued_creations(pool: &AnyPool, site: &SiteRuntime) {
    let guard = site.lock_writes().await;
    let batch = site.take_creations(MAX_CREATIONS_PER_WRITE);
    if batch.is_empty() {
        return;
    }
    let (news, waiters): (Vec<_>, Vec<_>) = batch.into_iter().unzip();
    let written = match SiteWrite::begin_locked(pool, site, guard).await {
        Ok(write) => write_creations(write, site, news).await,
        Err(error) => Err(error),
    };
    match written {
        Ok(tasks) => {
            for (waiter, task) in waiters.into_iter().zip(tasks) {
                let _ = waiter.send(Ok(task));
            }
        }
        Err(error) => {
            tracing::error!(%error, site = site.id(), "cannot queue new tasks");
            for waiter in waiters {
                let _ = waiter.send(Err(error.to_string()));
            }
        }
    }
    site.wake_audit_services();
}

/// Queues `news` in one transaction, all or none, numbered in their order:
/// one result per task, in order.
pub async fn create_many(
    pool: &AnyPool,
    site: &SiteRuntime,
    news: Vec<NewTask>,
) -> Result<Vec<Task>, AppError> {
    if news.is_empty() {
        return Ok(Vec::new());
    }
    let write = SiteWrite::begin(pool, site).await?;
    let tasks = write_creations(write, site, news).await?;
    site.wake_audit_services();
    Ok(tasks)
}

/// Inserts `news` in `write`'s transaction and commits them.
async fn write_creations(
    mut write: SiteWrite<'_>,
    site: &SiteRuntime,
    news: Vec<NewTask>,
) -> Result<Vec<Task>, AppError> {
    let rows = insert_tasks(&mut write, site, news).await?;
    write
        .commit(rows.into_iter().map(|row| (None, row)).collect())
        .await
}

/// Fires schedule `seq`: claims its firing at `due` (moving `next_run` to
/// `next_run`) and queues `new`, in one transaction. `None` when the firing
/// was already claimed or the schedule changed meanwhile.
pub async fn fire_schedule(
    pool: &AnyPool,
    site: &SiteRuntime,
    seq: i64,
    due: i64,
    next_run: Option<i64>,
    new: NewTask,
) -> Result<Option<Task>, AppError> {
    let mut write = SiteWrite::begin(pool, site).await?;
    let claimed = sqlx::query(
        "UPDATE schedules SET next_run = $1
          WHERE site_id = $2 AND seq = $3 AND enabled = 1 AND next_run = $4",
    )
    .bind(next_run)
    .bind(site.id())
    .bind(seq)
    .bind(due)
    .execute(&mut *write.tx)
    .await?
    .rows_affected();
    if claimed == 0 {
        return Ok(None);
    }
    let row = insert_tasks(&mut write, site, vec![new]).await?.pop();
    let task = write.commit_one(row, None).await?;
    site.wake_audit_services();
    Ok(task)
}

/// Inserts `news` as queued tasks, each with the Site's next number for
/// its kind (numbered in their order): one counter update per kind and
/// one `INSERT` per chunk of tasks, whatever their count. The rows, in
/// the order of `news`.
async fn insert_tasks(
    write: &mut SiteWrite<'_>,
    site: &SiteRuntime,
    news: Vec<NewTask>,
) -> Result<Vec<TaskRow>, AppError> {
    let mut per_kind: BTreeMap<TaskKind, i64> = BTreeMap::new();
    for new in &news {
        *per_kind.entry(new.kind).or_default() += 1;
    }
    // The first number of each kind; moved on as the tasks take them.
    let mut next: BTreeMap<TaskKind, i64> = BTreeMap::new();
    for (kind, n) in per_kind {
        let last: i64 = sqlx::query_scalar(
            "INSERT INTO task_numbers (site_id, kind, last) VALUES ($1, $2, $3)
             ON CONFLICT (site_id, kind) DO UPDATE SET last = task_numbers.last + excluded.last
             RETURNING last",
        )
        .bind(site.id())
        .bind(kind_column(kind))
        .bind(n)
        .fetch_one(&mut *write.tx)
        .await?;
        next.insert(kind, last - n + 1);
    }
    let start_date = db::to_db_time(db::now());
    let mut numbered = Vec::with_capacity(news.len());
    for new in news {
        let next = next
            .get_mut(&new.kind)
            .ok_or_else(|| AppError::Internal("a task kind was not numbered".to_owned()))?;
        let number = *next;
        *next += 1;
        let simulate = new
            .simulate
            .as_ref()
            .map(serde_json::to_string)
            .transpose()
            .map_err(|e| AppError::Internal(e.to_string()))?;
        numbered.push((number, simulate, new));
    }
    let mut rows: HashMap<TaskId, TaskRow> = HashMap::with_capacity(numbered.len());
    for chunk in numbered.chunks(TASKS_PER_INSERT) {
        let mut insert = db::Sql::new(
            write.dialect,
            "INSERT INTO tasks (site_id, kind, number, target_type, target_name, scope, initiator,
                                schedule_id, schedule_name, status, start_date, simulate) VALUES ",
        );
        for (i, (number, simulate, new)) in chunk.iter().enumerate() {
            insert.push_row(i, |row| {
                row.bind(site.id().to_owned())
                    .bind(kind_column(new.kind))
                    .bind(*number)
                    .bind(new.target.target_type.as_str())
                    .bind(new.target.name.clone())
                    .bind(new.scope.clone())
                    .bind(new.initiator.as_str().to_owned())
                    .bind(new.schedule.as_ref().map(|s| s.id.clone()))
                    .bind(new.schedule.as_ref().map(|s| s.name.clone()))
                    .bind(status_column(TaskStatus::Queued))
                    .bind(start_date)
                    .bind(simulate.clone());
            });
        }
        insert.push(format_args!(" RETURNING {TASK_COLUMNS}"));
        for row in insert
            .build_query_as::<TaskRow>()
            .fetch_all(&mut *write.tx)
            .await?
        {
            rows.insert(row.id()?, row);
        }
    }
    numbered
        .iter()
        .map(|(number, _, new)| {
            rows.remove(&TaskId::new(new.kind, *number as u64))
                .ok_or_else(|| AppError::Internal("an inserted task was not returned".to_owned()))
        })
        .collect()
}

/// The most tasks written by one `INSERT` (twelve values each).
const TASKS_PER_INSERT: usize = 400;

/// Who runs a task once claimed: the server itself, or the agent of a
/// remote Audit Service under one lease. Every report names its holder,
/// and changes a task only while that holder still has it (the fence).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Holder {
    /// An Audit Service inside this server (simulated or command).
    Server,
    /// The agent of a remote Audit Service, under the lease of this number.
    Lease(i64),
}

impl Holder {
    /// The `tasks.agent_lease` value of the tasks it holds.
    fn lease(self) -> Option<i64> {
        match self {
            Holder::Server => None,
            Holder::Lease(lease) => Some(lease),
        }
    }
}

/// Gives the oldest queued tasks (FIFO by start date), at most `free` of
/// them, to `audit_service` for `holder` in one transaction:
/// `queued -> running`, giving the service at most `slots` running
/// tasks in all (`None`: `free` alone limits it). The running tasks are
/// counted inside the claiming transaction, so however many claims race,
/// the service never runs more than its slots.
pub async fn claim_for(
    pool: &AnyPool,
    site: &SiteRuntime,
    audit_service: &ObjectRef,
    holder: Holder,
    free: u32,
    slots: Option<u32>,
) -> Result<Vec<(Task, TaskRow)>, AppError> {
    if free == 0 {
        return Ok(Vec::new());
    }
    let mut write = SiteWrite::begin(pool, site).await?;
    let rows = claim_in(&mut write, site, audit_service, holder, free, slots).await?;
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let tasks = write
        .commit(
            rows.iter()
                .map(|row| (Some(TaskStatus::Queued), row.clone()))
                .collect(),
        )
        .await?;
    Ok(tasks.into_iter().zip(rows).collect())
}

/// [`claim_for`] inside `write`: the claimed rows, oldest first.
async fn claim_in(
    write: &mut SiteWrite<'_>,
    site: &SiteRuntime,
    audit_service: &ObjectRef,
    holder: Holder,
    free: u32,
    slots: Option<u32>,
) -> Result<Vec<TaskRow>, AppError> {
    if free == 0 {
        return Ok(Vec::new());
    }
    // The CTE is a fence: the update changes no more rows than its LIMIT,
    // which is what the service's slots leave free (its running tasks
    // counted in this statement), and at most `free`.
    let skip_locked = match write.dialect {
        Dialect::Sqlite => "",
        Dialect::Postgres => " FOR UPDATE SKIP LOCKED",
    };
    let rows: Vec<TaskRow> = sqlx::query_as(&format!(
        "WITH room AS (SELECT $11 - COUNT(*) AS n FROM tasks
                        WHERE site_id = $12 AND status = $13 AND audit_service_id = $14),
              picked AS (SELECT seq FROM tasks WHERE site_id = $6 AND status = $7
                          ORDER BY start_date, seq
                          LIMIT (SELECT CASE WHEN n < 0 THEN 0 WHEN n > $8 THEN $15 ELSE n END FROM room){skip_locked})
         UPDATE tasks
            SET status = $1, audit_service_id = $2, audit_service_name = $3, running_since = $4,
                agent_lease = $5, server_id = $10
          WHERE seq IN (SELECT seq FROM picked) AND status = $9
         RETURNING {TASK_COLUMNS}"
    ))
    .bind(status_column(TaskStatus::Running))
    .bind(&audit_service.id)
    .bind(&audit_service.name)
    .bind(db::to_db_time(db::now()))
    .bind(holder.lease())
    .bind(site.id())
    .bind(status_column(TaskStatus::Queued))
    .bind(i64::from(free))
    .bind(status_column(TaskStatus::Queued))
    .bind(match holder {
        // Which server runs it: if that server dies, the others fail it.
        Holder::Server => Some(site.server_id().to_owned()),
        Holder::Lease(_) => None,
    })
    // No slots given: `free` alone limits the claim.
    .bind(slots.map_or(i64::from(free), i64::from))
    .bind(site.id())
    .bind(status_column(TaskStatus::Running))
    .bind(&audit_service.id)
    .bind(i64::from(free))
    .fetch_all(&mut *write.tx)
    .await?;
    let mut rows = rows;
    // RETURNING gives no order: the events and slots go oldest first.
    rows.sort_by_key(TaskRow::fifo_key);
    Ok(rows)
}

/// One end report of a remote agent, and how many tasks it takes on the
/// slot it frees.
pub struct EndAndTake {
    /// The task that ended.
    pub id: TaskId,
    /// How.
    pub completion: Completion,
    /// How many queued tasks to take in its place.
    pub take: u32,
}

/// Ends the tasks of `ends` (each only while `holder` has it) and claims
/// for `holder` the tasks they take, in one transaction (group commit: a
/// busy agent's many ends cost one write). One result per end, in order:
/// the task as it ended (`None`: no longer `holder`'s, nothing taken), and
/// the tasks it took, each with its row. The service never runs more than
/// `slots`.
pub async fn complete_and_claim(
    pool: &AnyPool,
    site: &SiteRuntime,
    audit_service: &ObjectRef,
    holder: Holder,
    slots: u32,
    ends: Vec<EndAndTake>,
) -> Result<Vec<(Option<Task>, Vec<(Task, TaskRow)>)>, AppError> {
    let mut write = SiteWrite::begin(pool, site).await?;
    let mut takes = Vec::with_capacity(ends.len());
    let mut completions = Vec::with_capacity(ends.len());
    for end in ends {
        takes.push(end.take);
        completions.push((end.id, end.completion));
    }
    let (mut changed, ended) = complete_in(&mut write, holder, site, completions).await?;
    let wanted: u32 = takes
        .iter()
        .zip(&ended)
        .filter(|(_, ended)| **ended)
        .map(|(take, _)| *take)
        .sum();
    let claimed = match wanted {
        0 => Vec::new(),
        wanted => claim_in(&mut write, site, audit_service, holder, wanted, Some(slots)).await?,
    };
    let n_ended = changed.len();
    // The claimed tasks leave the queue.
    changed.extend(
        claimed
            .iter()
            .map(|row| (Some(TaskStatus::Queued), row.clone())),
    );
    let mut tasks = write.commit(changed).await?;
    let mut claimed_tasks = tasks.split_off(n_ended).into_iter().zip(claimed);
    let mut ended_tasks = tasks.into_iter();
    Ok(takes
        .into_iter()
        .zip(ended)
        .map(|(take, ended)| match ended {
            true => (
                ended_tasks.next(),
                claimed_tasks.by_ref().take(take as usize).collect(),
            ),
            false => (None, Vec::new()),
        })
        .collect())
}

/// Records progress of a running task of `holder`. `None` if it is no
/// longer running, or no longer `holder`'s.
pub async fn report_progress(
    pool: &AnyPool,
    site: &SiteRuntime,
    id: TaskId,
    holder: Holder,
    progress: Progress,
) -> Result<Option<Task>, AppError> {
    let mut write = SiteWrite::begin(pool, site).await?;
    let row: Option<TaskRow> = sqlx::query_as(&format!(
        "UPDATE tasks SET progress_done = $1, progress_total = $2
          WHERE site_id = $3 AND kind = $4 AND number = $5 AND status = $6 AND agent_lease IS NOT DISTINCT FROM $7
         RETURNING {TASK_COLUMNS}"
    ))
    .bind(progress.done as i64)
    .bind(progress.total as i64)
    .bind(site.id())
    .bind(kind_column(id.kind))
    .bind(id.number as i64)
    .bind(status_column(TaskStatus::Running))
    .bind(holder.lease())
    .fetch_optional(&mut *write.tx)
    .await?;
    write.commit_one(row, Some(TaskStatus::Running)).await
}

/// Ends a running task as its Audit Service reports: `running -> finished | failed`.
/// A failed task always counts at least one error. `None` if the task was
/// no longer running (cancelled meanwhile): the earlier terminal state stands.
pub async fn complete(
    pool: &AnyPool,
    site: &SiteRuntime,
    id: TaskId,
    holder: Holder,
    completion: Completion,
) -> Result<Option<Task>, AppError> {
    Ok(complete_many(pool, site, holder, vec![(id, completion)])
        .await?
        .pop()
        .flatten())
}

/// [`complete`] for many tasks of one holder in one transaction (group
/// commit): one result per completion, in order.
pub async fn complete_many(
    pool: &AnyPool,
    site: &SiteRuntime,
    holder: Holder,
    completions: Vec<(TaskId, Completion)>,
) -> Result<Vec<Option<Task>>, AppError> {
    let mut write = SiteWrite::begin(pool, site).await?;
    let (changed, ended) = complete_in(&mut write, holder, site, completions).await?;
    let mut tasks = write.commit(changed).await?.into_iter();
    Ok(ended
        .into_iter()
        .map(|ended| if ended { tasks.next() } else { None })
        .collect())
}

/// The running tasks changed by [`complete_many`] inside `write`, and for
/// each completion whether it ended its task.
type Completed = (Vec<(Option<TaskStatus>, TaskRow)>, Vec<bool>);

async fn complete_in(
    write: &mut SiteWrite<'_>,
    holder: Holder,
    site: &SiteRuntime,
    completions: Vec<(TaskId, Completion)>,
) -> Result<Completed, AppError> {
    let now = db::to_db_time(db::now());
    // Each task once: a repeated report in the same batch changes nothing.
    let mut seen = std::collections::HashSet::with_capacity(completions.len());
    let mut ends = Vec::with_capacity(completions.len());
    for (id, completion) in completions {
        if !matches!(completion.status, TaskStatus::Finished | TaskStatus::Failed) {
            return Err(AppError::Internal(format!(
                "an Audit Service cannot end a task as {}",
                completion.status
            )));
        }
        let mut messages = completion.error_messages;
        if completion.status == TaskStatus::Failed && messages.is_empty() {
            messages.push("The task failed without a message.".to_owned());
        }
        let errors = messages.len() as i64;
        let messages =
            serde_json::to_string(&messages).map_err(|e| AppError::Internal(e.to_string()))?;
        let first = seen.insert(id);
        ends.push((id, first.then_some((completion.status, errors, messages))));
    }
    // One conditional update per chunk of ends, not one per end: the rows
    // it changed are those still running for `holder`.
    let mut ended_rows: HashMap<TaskId, TaskRow> = HashMap::with_capacity(ends.len());
    let pending: Vec<_> = ends
        .iter()
        .filter_map(|(id, end)| end.as_ref().map(|end| (*id, end)))
        .collect();
    for chunk in pending.chunks(ENDS_PER_UPDATE) {
        let mut update = db::Sql::new(
            write.dialect,
            "WITH ends (end_kind, end_number, end_status, end_errors, end_messages) AS (VALUES ",
        );
        for (i, (id, (status, errors, messages))) in chunk.iter().enumerate() {
            update.push_row(i, |row| {
                row.bind(kind_column(id.kind))
                    .bind(id.number as i64)
                    .bind(status_column(*status))
                    .bind(*errors)
                    .bind(messages.clone());
            });
        }
        update.push(") UPDATE tasks SET status = ends.end_status, end_date = ");
        update
            .push_bind(now)
            .push(", errors = ends.end_errors, error_messages = ends.end_messages FROM ends WHERE tasks.site_id = ")
            .push_bind(site.id().to_owned())
            .push(" AND tasks.kind = ends.end_kind AND tasks.number = ends.end_number AND tasks.status = ")
            .push_bind(status_column(TaskStatus::Running))
            .push(" AND tasks.agent_lease IS NOT DISTINCT FROM ")
            .push_bind(holder.lease())
            .push(format_args!(" RETURNING {TASK_COLUMNS}"));
        let rows: Vec<TaskRow> = update.build_query_as().fetch_all(&mut *write.tx).await?;
        for row in rows {
            ended_rows.insert(row.id()?, row);
        }
    }
    let mut changed = Vec::with_capacity(ended_rows.len());
    let mut ended = Vec::with_capacity(ends.len());
    for (id, end) in ends {
        let row = end.and_then(|_| ended_rows.remove(&id));
        ended.push(row.is_some());
        changed.extend(row.map(|row| (Some(TaskStatus::Running), row)));
    }
    Ok((changed, ended))
}

/// The most ends written by one `UPDATE` (five values each).
const ENDS_PER_UPDATE: usize = 500;

/// Which running tasks [`interrupt_running`] ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Interrupted<'a> {
    /// Those of every in-process Audit Service: at the start of a server
    /// on SQLite (one server), for tasks a crash left running.
    AllInProcess,
    /// Those this server (by its id) runs: when it stops.
    OfServer(&'a str),
    /// Those of servers without a `servers` row (PostgreSQL): removed as
    /// dead, or never written.
    OfServersGone,
}

/// Ends running tasks of the Site's own (simulated and command) Audit
/// Services as `failed` with `message`, as `which` says. Tasks of remote
/// services run on in their agents; their leases decide their fate.
pub async fn interrupt_running(
    pool: &AnyPool,
    site: &SiteRuntime,
    which: Interrupted<'_>,
    message: &str,
) -> Result<Vec<Task>, AppError> {
    let mut write = SiteWrite::begin(pool, site).await?;
    let changed = fail_running(&mut write, site, Held::InProcess(which), message).await?;
    write.commit(changed).await
}

/// Whose running tasks [`fail_running`] ends.
#[derive(Debug, Clone, Copy)]
enum Held<'a> {
    /// In-process tasks, as [`Interrupted`] says.
    InProcess(Interrupted<'a>),
    /// The tasks of a remote agent's lease.
    Lease(i64),
}

/// The running in-process tasks of servers without a `servers` row: the
/// predicate of [`Interrupted::OfServersGone`], shared with the sweep
/// that looks for them (`follow.rs`).
pub(crate) const OF_SERVERS_GONE: &str = "agent_lease IS NULL \
     AND (server_id IS NULL OR server_id NOT IN (SELECT id FROM servers))";

/// Fails, in `write`, the running tasks `held` names.
async fn fail_running(
    write: &mut SiteWrite<'_>,
    site: &SiteRuntime,
    held: Held<'_>,
    message: &str,
) -> Result<Vec<(Option<TaskStatus>, TaskRow)>, AppError> {
    let messages = write.dialect.json_push("error_messages", 3);
    let holders = match held {
        Held::Lease(_) => "agent_lease = $6",
        Held::InProcess(Interrupted::AllInProcess) => "agent_lease IS NULL",
        Held::InProcess(Interrupted::OfServer(_)) => "agent_lease IS NULL AND server_id = $6",
        Held::InProcess(Interrupted::OfServersGone) => OF_SERVERS_GONE,
    };
    let sql = format!(
        "UPDATE tasks
            SET status = $1, end_date = $2, errors = errors + 1, error_messages = {messages}
          WHERE site_id = $4 AND status = $5 AND {holders}
         RETURNING {TASK_COLUMNS}"
    );
    let rows = sqlx::query_as::<_, TaskRow>(&sql)
        .bind(status_column(TaskStatus::Failed))
        .bind(db::to_db_time(db::now()))
        .bind(message)
        .bind(site.id())
        .bind(status_column(TaskStatus::Running));
    let rows = match held {
        Held::Lease(lease) => rows.bind(lease),
        Held::InProcess(Interrupted::OfServer(id)) => rows.bind(id.to_owned()),
        Held::InProcess(Interrupted::AllInProcess | Interrupted::OfServersGone) => rows,
    }
    .fetch_all(&mut *write.tx)
    .await?;
    Ok(rows
        .into_iter()
        .map(|row| (Some(TaskStatus::Running), row))
        .collect())
}

/// Ends remote lease `lease`, once: with `expired_by` set only if it ran
/// out by then (milliseconds since the epoch). In the same transaction,
/// every task it still held ends `failed` with `message`. `None` when the
/// lease had already ended (or, with `expired_by`, is still live): nothing
/// changed, so however many servers and requests race, it ends once.
pub async fn end_lease(
    pool: &AnyPool,
    site: &SiteRuntime,
    lease: i64,
    expired_by: Option<i64>,
    message: &str,
) -> Result<Option<Vec<Task>>, AppError> {
    let mut write = SiteWrite::begin(pool, site).await?;
    let ended = sqlx::query(
        "UPDATE agent_leases SET ended_at = $1
          WHERE id = $2 AND site_id = $3 AND ended_at IS NULL AND ($4 IS NULL OR expires_at <= $5)",
    )
    .bind(crate::remote::now_ms())
    .bind(lease)
    .bind(site.id())
    .bind(expired_by)
    .bind(expired_by)
    .execute(&mut *write.tx)
    .await?
    .rows_affected();
    if ended == 0 {
        return Ok(None);
    }
    let changed = fail_running(&mut write, site, Held::Lease(lease), message).await?;
    Ok(Some(write.commit(changed).await?))
}

/// Cancels `ids` as the Site Administrator `by`, in one transaction:
/// `queued -> cancelled` and `running -> cancelled`. A task that already
/// ended (even a moment ago, racing this call) reports `already_terminal`
/// with the status it really has; an unknown id reports `not_found`.
/// Results come in request order. Running tasks are told to stop on their
/// Audit Service once the cancellation is committed.
pub async fn cancel(
    pool: &AnyPool,
    site: &SiteRuntime,
    ids: &[TaskId],
    by: &str,
) -> Result<Vec<CancelResult>, AppError> {
    let mut write = SiteWrite::begin(pool, site).await?;
    let now = db::to_db_time(db::now());
    let mut results = Vec::with_capacity(ids.len());
    let mut changed = Vec::new();
    let mut to_stop = Vec::new();
    for &id in ids {
        let row: Option<TaskRow> = sqlx::query_as(&format!(
            "UPDATE tasks SET status = $1, end_date = $2, cancelled_by = $3
              WHERE site_id = $4 AND kind = $5 AND number = $6 AND status IN ($7, $8)
             RETURNING {TASK_COLUMNS}"
        ))
        .bind(status_column(TaskStatus::Cancelled))
        .bind(now)
        .bind(by)
        .bind(site.id())
        .bind(kind_column(id.kind))
        .bind(id.number as i64)
        .bind(status_column(TaskStatus::Queued))
        .bind(status_column(TaskStatus::Running))
        .fetch_optional(&mut *write.tx)
        .await?;
        if let Some(row) = row {
            let from = if row.was_picked_up() {
                to_stop.push(id);
                TaskStatus::Running
            } else {
                TaskStatus::Queued
            };
            changed.push((Some(from), row));
            results.push(CancelResult {
                task: id,
                outcome: CancelOutcome::Cancelled,
                status: Some(TaskStatus::Cancelled),
            });
            continue;
        }
        let current: Option<String> = sqlx::query_scalar(
            "SELECT status FROM tasks WHERE site_id = $1 AND kind = $2 AND number = $3",
        )
        .bind(site.id())
        .bind(kind_column(id.kind))
        .bind(id.number as i64)
        .fetch_optional(&mut *write.tx)
        .await?;
        results.push(match current {
            Some(status) => CancelResult {
                task: id,
                outcome: CancelOutcome::AlreadyTerminal,
                status: Some(site.wire_status(db::parse_column("status", &status)?)),
            },
            None => CancelResult {
                task: id,
                outcome: CancelOutcome::NotFound,
                status: None,
            },
        });
    }
    write.commit(changed).await?;
    for id in to_stop {
        site.stop_runner(id);
    }
    Ok(results)
}

/// Publishes changes that are not task transitions (an Audit Service's
/// slots or state, a new signal) under new revisions of the Site, so they
/// take their place in the one ordered, resumable stream of events.
pub async fn announce(
    pool: &AnyPool,
    site: &SiteRuntime,
    changes: Vec<Change>,
) -> Result<(), AppError> {
    if changes.is_empty() {
        return Ok(());
    }
    SiteWrite::begin(pool, site)
        .await?
        .commit_changes(changes, Moves::default())
        .await
}

/// The task `id` of the Site, active or terminal.
pub async fn get(pool: &AnyPool, site: &SiteRuntime, id: TaskId) -> Result<Task, AppError> {
    let row: Option<TaskRow> = sqlx::query_as(&format!(
        "SELECT {TASK_COLUMNS} FROM tasks WHERE site_id = $1 AND kind = $2 AND number = $3"
    ))
    .bind(site.id())
    .bind(kind_column(id.kind))
    .bind(id.number as i64)
    .fetch_optional(pool)
    .await?;
    match row {
        Some(row) => row.to_task(site.failed_label()),
        None => Err(AppError::NotFound(format!(
            "there is no task {id} on this Site"
        ))),
    }
}
