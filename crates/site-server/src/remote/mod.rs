//! Remote Audit Services (1.1): the server's side of the agent protocol
//! (`site_api::agent`), under `/api/agent/v1/sites/{site}/audit-services/{service}`.
//!
//! A `runner = "remote"` service runs nothing here. Its agent opens a lease
//! with the service's agent secret, renews it with heartbeats, long-polls
//! for tasks and stops, and reports progress and ends, each fenced by the
//! lease ([`lifecycle::Holder::Lease`]). The monitor ends leases that ran
//! out ([`expire`]): the service turns offline and each task the lease held
//! ends `failed`, once, in the same transaction. Leases live in the
//! database, so a restarted server carries on with the agents it had.

pub mod lease;

use std::collections::HashSet;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{ConnectInfo, State};
use axum::http::header::AUTHORIZATION;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{delete, post};
use axum::{Json, Router};
use site_api::{
    AgentEnd, AgentEnded, AgentHeartbeat, AgentHeartbeatReply, AgentHello, AgentPoll,
    AgentProgress, AgentSession, AgentWork, Task, TaskId, TaskStatus,
};
use sqlx::AnyPool;

pub use lease::{now_ms, LeaseRow, RemoteLink};

use crate::audit_service::AuditServiceRuntime;
use crate::db::{status_column, TaskRow, TASK_COLUMNS};
use crate::error::AppError;
use crate::extract::{ApiJson, ApiPath};
use crate::lifecycle::{self, Completion, Holder};
use crate::state::{AppState, SiteRuntime};

/// The message of each task a lost agent held.
pub const LOST_MESSAGE: &str =
    "The Audit Service was lost: its agent sent no heartbeat for longer than its lease.";
/// The message of a task its agent still held when it closed its lease.
pub const CLOSED_MESSAGE: &str = "The Audit Service's agent stopped while the task was running.";
/// The message of a task whose service is no longer remote.
pub const NOT_REMOTE_MESSAGE: &str =
    "The Audit Service is no longer remote: the server's configuration changed.";

/// How long a poll waits when the agent names no wait.
const DEFAULT_POLL_WAIT: Duration = Duration::from_secs(20);
/// The longest a poll may wait.
const MAX_POLL_WAIT: Duration = Duration::from_secs(30);

/// The `{site}` and `{service}` path parameters.
#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Path)]
pub struct ServicePath {
    /// The Site's id.
    pub site: String,
    /// The remote Audit Service's id.
    pub service: String,
}

/// The `{site}`, `{service}` and `{task}` path parameters.
#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Path)]
pub struct ServiceTaskPath {
    /// The Site's id.
    pub site: String,
    /// The remote Audit Service's id.
    pub service: String,
    /// The task's id, `scan-<N>` or `audit-<N>`.
    pub task: String,
}

/// The agent protocol's routes.
pub fn router() -> Router<AppState> {
    const BASE: &str = "/api/agent/v1/sites/{site}/audit-services/{service}";
    Router::new()
        .route(&format!("{BASE}/sessions"), post(session_open))
        .route(&format!("{BASE}/sessions/current"), delete(session_close))
        .route(&format!("{BASE}/heartbeat"), post(heartbeat))
        .route(&format!("{BASE}/poll"), post(poll))
        .route(&format!("{BASE}/tasks/{{task}}/progress"), post(progress))
        .route(&format!("{BASE}/tasks/{{task}}/end"), post(end_task))
}

/// The bearer token of a request.
fn bearer(headers: &HeaderMap) -> Result<&str, AppError> {
    headers
        .get(AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.strip_prefix("Bearer "))
        .map(str::trim)
        .filter(|token| !token.is_empty())
        .ok_or(AppError::Unauthenticated(
            "this call needs \"Authorization: Bearer <token>\"",
        ))
}

/// The Site and remote service a path names: 404 for an unknown one, 409
/// for one that is not remote.
fn remote_service(
    state: &AppState,
    path: &ServicePath,
) -> Result<(Arc<SiteRuntime>, Arc<AuditServiceRuntime>), AppError> {
    let site = state
        .site(&path.site)
        .ok_or_else(|| AppError::NotFound(format!("there is no Site {:?}", path.site)))?;
    let service = site.audit_service(&path.service).ok_or_else(|| {
        AppError::NotFound(format!(
            "Site {:?} has no Audit Service {:?}",
            path.site, path.service
        ))
    })?;
    if service.remote().is_none() {
        return Err(AppError::Conflict(format!(
            "Audit Service {:?} is not remote: its runner is {:?}, so the server runs its tasks itself; set runner = \"remote\" in the server's configuration to serve it from an agent",
            path.service,
            service.snapshot().runner.as_str()
        )));
    }
    Ok((site.clone(), service.clone()))
}

/// An agent's call under a live lease.
struct Leased {
    site: Arc<SiteRuntime>,
    service: Arc<AuditServiceRuntime>,
    lease: LeaseRow,
}

impl Leased {
    fn link(&self) -> &RemoteLink {
        self.service
            .remote()
            .expect("a leased service is remote (checked by authorize)")
    }

    fn holder(&self) -> Holder {
        Holder::Lease(self.lease.id)
    }
}

/// Checks a session token: the live lease it names. A lease that ran out
/// is ended now (its tasks failed); an ended or unknown one is a 401.
async fn authorize(
    state: &AppState,
    path: &ServicePath,
    headers: &HeaderMap,
) -> Result<Leased, AppError> {
    let (site, service) = remote_service(state, path)?;
    let token = bearer(headers)?;
    let row = lease::find_by_token(
        state.pool(),
        site.id(),
        &path.service,
        &crate::auth::token_hash(token),
    )
    .await?
    .ok_or(AppError::Unauthenticated(
        "this agent session is unknown: open a new one",
    ))?;
    if !row.is_live(now_ms()) {
        if row.ended_at.is_none() {
            end(
                state.pool(),
                &site,
                &path.service,
                row.id,
                Some(now_ms()),
                LOST_MESSAGE,
            )
            .await?;
        }
        return Err(AppError::Unauthenticated(
            "the agent's lease has ended: its tasks ended failed, and it must open a new session",
        ));
    }
    Ok(Leased {
        site,
        service,
        lease: row,
    })
}

/// Ends lease `id` of service `service_id` through the state machine,
/// and forgets it (if the service is still a remote one of the Site).
async fn end(
    pool: &AnyPool,
    site: &SiteRuntime,
    service_id: &str,
    id: i64,
    expired_by: Option<i64>,
    message: &str,
) -> Result<(), AppError> {
    if let Some(failed) = lifecycle::end_lease(pool, site, id, expired_by, message).await? {
        tracing::warn!(
            site = site.id(),
            service = service_id,
            lease = id,
            failed = failed.len(),
            "{}",
            if expired_by.is_some() {
                "an agent's lease ran out"
            } else {
                "an agent's lease ended"
            }
        );
    }
    if let Some(link) = site.audit_service(service_id).and_then(|s| s.remote()) {
        link.forget(id, now_ms());
    }
    Ok(())
}

/// Opens a lease: the agent secret as the bearer token.
#[utoipa::path(
    post,
    path = "/api/agent/v1/sites/{site}/audit-services/{service}/sessions",
    tag = "agent",
    params(ServicePath),
    request_body = AgentHello,
    responses(
        (status = 201, description = "The lease is the caller's", body = AgentSession),
        (status = 401, description = "The agent secret is wrong", body = site_api::ErrorBody),
        (status = 404, description = "No such Site or Audit Service", body = site_api::ErrorBody),
        (status = 409, description = "The service is not remote, or another agent holds it", body = site_api::ErrorBody),
    ),
    security(("agent_secret" = []))
)]
async fn session_open(
    State(state): State<AppState>,
    ApiPath(path): ApiPath<ServicePath>,
    connect_info: Option<axum::Extension<ConnectInfo<SocketAddr>>>,
    headers: HeaderMap,
    ApiJson(hello): ApiJson<AgentHello>,
) -> Result<(StatusCode, Json<AgentSession>), AppError> {
    let (site, service) = remote_service(&state, &path)?;
    let secret = bearer(&headers)?.to_owned();
    let hash = service
        .config()
        .agent_secret_hash
        .clone()
        .ok_or_else(|| AppError::Internal("a remote service has no secret hash".to_owned()))?;
    let matches = tokio::task::spawn_blocking(move || crate::auth::verify_secret(&secret, &hash))
        .await
        .map_err(|e| AppError::Internal(e.to_string()))?;
    if !matches {
        return Err(AppError::Unauthenticated(
            "the agent secret is wrong for this Audit Service",
        ));
    }
    if hello.slots == 0 {
        return Err(AppError::InvalidRequest(
            "slots must be at least 1".to_owned(),
        ));
    }
    if hello.version.trim().is_empty() || hello.version.len() > 64 {
        return Err(AppError::InvalidRequest(
            "version must be 1 to 64 characters".to_owned(),
        ));
    }
    let link = service.remote().expect("checked by remote_service");
    // A lease that ran out but was not ended yet ends now, failing its tasks.
    expire(state.pool(), &site).await?;
    if hello.instance.is_empty() || hello.instance.len() > 64 {
        return Err(AppError::InvalidRequest(
            "instance must be 1 to 64 characters".to_owned(),
        ));
    }
    let token = crate::auth::new_token();
    let slots = hello.slots.min(service.config().slots);
    let address = connect_info.map(|info| info.0 .0.ip().to_string());
    let mut attempts = 0;
    let row = loop {
        let granted = lease::open(
            state.pool(),
            lease::NewLease {
                site: site.id(),
                service: &path.service,
                token_hash: &crate::auth::token_hash(&token),
                address: address.clone(),
                version: hello.version.trim(),
                instance: &hello.instance,
                slots,
                lease_ms: link.lease_ms(),
            },
        )
        .await?;
        match granted {
            Ok(row) => break row,
            Err(lease::Refusal::Superseded(old)) if attempts == 0 => {
                attempts += 1;
                end(
                    state.pool(),
                    &site,
                    &path.service,
                    old.id,
                    None,
                    CLOSED_MESSAGE,
                )
                .await?;
            }
            Err(lease::Refusal::Superseded(held) | lease::Refusal::Held(held)) => {
                let age = (now_ms() - held.last_heartbeat).max(0) / 1000;
                return Err(AppError::Conflict(format!(
                    "Audit Service {:?} is already served by another agent (from {}, last heartbeat {age} s ago); only one agent may serve it at a time",
                    path.service,
                    held.address.as_deref().unwrap_or("an unknown address"),
                )));
            }
        }
    };
    tracing::info!(site = site.id(), service = %path.service, lease = row.id, address = ?row.address, "an agent joined");
    link.remember(row.clone());
    Ok((
        StatusCode::CREATED,
        Json(AgentSession {
            token,
            lease: row.id as u64,
            lease_ms: link.lease_ms() as u64,
            heartbeat_ms: heartbeat_every(link.lease_length()).as_millis() as u64,
            slots,
            timeout_ms: service
                .config()
                .timeout
                .map(|timeout| timeout.as_millis() as u64),
        }),
    ))
}

/// How often an agent should send a heartbeat: a quarter of the lease, so
/// `last_heartbeat` is never more than a third of it old even when one is late.
pub fn heartbeat_every(lease: Duration) -> Duration {
    lease / 4
}

/// Closes the caller's lease: the service turns offline at once.
#[utoipa::path(
    delete,
    path = "/api/agent/v1/sites/{site}/audit-services/{service}/sessions/current",
    tag = "agent",
    params(ServicePath),
    responses(
        (status = 204, description = "The lease ended; tasks it still held ended failed"),
        (status = 401, description = "The lease had already ended", body = site_api::ErrorBody),
    ),
    security(("agent_session" = []))
)]
async fn session_close(
    State(state): State<AppState>,
    ApiPath(path): ApiPath<ServicePath>,
    headers: HeaderMap,
) -> Result<StatusCode, AppError> {
    let leased = authorize(&state, &path, &headers).await?;
    end(
        state.pool(),
        &leased.site,
        &path.service,
        leased.lease.id,
        None,
        CLOSED_MESSAGE,
    )
    .await?;
    tracing::info!(site = leased.site.id(), service = %path.service, lease = leased.lease.id, "an agent left");
    Ok(StatusCode::NO_CONTENT)
}

/// Renews the lease; says which of the agent's tasks must stop.
#[utoipa::path(
    post,
    path = "/api/agent/v1/sites/{site}/audit-services/{service}/heartbeat",
    tag = "agent",
    params(ServicePath),
    request_body = AgentHeartbeat,
    responses(
        (status = 200, description = "The lease is renewed", body = AgentHeartbeatReply),
        (status = 401, description = "The lease has ended: stop every program", body = site_api::ErrorBody),
    ),
    security(("agent_session" = []))
)]
async fn heartbeat(
    State(state): State<AppState>,
    ApiPath(path): ApiPath<ServicePath>,
    headers: HeaderMap,
    ApiJson(beat): ApiJson<AgentHeartbeat>,
) -> Result<Json<AgentHeartbeatReply>, AppError> {
    let leased = authorize(&state, &path, &headers).await?;
    let link = leased.link();
    let renewed = lease::renew(state.pool(), leased.lease.id, link.lease_ms())
        .await?
        .ok_or(AppError::Unauthenticated(
            "the agent's lease has ended: its tasks ended failed, and it must open a new session",
        ))?;
    link.remember(renewed);
    let held = held_tasks(state.pool(), &leased).await?;
    link.set_busy(held.len());
    let held: HashSet<TaskId> = held.iter().map(|task| task.id).collect();
    Ok(Json(AgentHeartbeatReply {
        lease_ms: link.lease_ms() as u64,
        stop: beat
            .running
            .into_iter()
            .filter(|id| !held.contains(id))
            .collect(),
    }))
}

/// The running tasks `leased` holds, oldest first.
async fn held_tasks(pool: &AnyPool, leased: &Leased) -> Result<Vec<Task>, AppError> {
    let rows: Vec<TaskRow> = sqlx::query_as(&format!(
        "SELECT {TASK_COLUMNS} FROM tasks
          WHERE site_id = $1 AND status = $2 AND audit_service_id = $3 AND agent_lease = $4
          ORDER BY start_date, seq"
    ))
    .bind(leased.site.id())
    .bind(status_column(TaskStatus::Running))
    .bind(&leased.service.reference().id)
    .bind(leased.lease.id)
    .fetch_all(pool)
    .await?;
    rows.into_iter()
        .map(|row| row.to_task(leased.site.failed_label()))
        .collect()
}

/// Waits for work: answers at once when the lease holds tasks the agent
/// does not run yet or the agent runs tasks that must stop; otherwise
/// claims up to `free` queued tasks, or waits until something changes.
#[utoipa::path(
    post,
    path = "/api/agent/v1/sites/{site}/audit-services/{service}/poll",
    tag = "agent",
    params(ServicePath),
    request_body = AgentPoll,
    responses(
        (status = 200, description = "Tasks to run and tasks to stop; both empty when the wait ran out", body = AgentWork),
        (status = 401, description = "The lease has ended: stop every program", body = site_api::ErrorBody),
    ),
    security(("agent_session" = []))
)]
async fn poll(
    State(state): State<AppState>,
    ApiPath(path): ApiPath<ServicePath>,
    headers: HeaderMap,
    ApiJson(poll): ApiJson<AgentPoll>,
) -> Result<Json<AgentWork>, AppError> {
    let leased = authorize(&state, &path, &headers).await?;
    let link = leased.link();
    let wait = poll
        .wait_ms
        .map(Duration::from_millis)
        .unwrap_or(DEFAULT_POLL_WAIT)
        .min(MAX_POLL_WAIT);
    let deadline = tokio::time::Instant::now() + wait;
    let running: HashSet<TaskId> = poll.running.iter().copied().collect();
    let mut changes = link.watch();
    loop {
        changes.mark_unchanged();
        let ended = link.lease().is_some_and(|known| {
            known.id > leased.lease.id || (known.id == leased.lease.id && !known.is_live(now_ms()))
        });
        if ended {
            return Err(AppError::Unauthenticated(
                "the agent's lease has ended: its tasks ended failed, and it must open a new session",
            ));
        }
        let mut held = held_tasks(state.pool(), &leased).await?;
        let given = held
            .iter()
            .filter(|task| !running.contains(&task.id))
            .count();
        let free = poll.free.saturating_sub(given as u32);
        if free > 0 {
            let slots = lease_slots(&leased);
            let claimed = lifecycle::claim_for(
                state.pool(),
                &leased.site,
                &leased.service.reference(),
                leased.holder(),
                free,
                Some(slots),
            )
            .await?;
            held.extend(claimed.into_iter().map(|(task, _)| task));
        }
        link.set_busy(held.len());
        let held_ids: HashSet<TaskId> = held.iter().map(|task| task.id).collect();
        let work = AgentWork {
            tasks: held
                .into_iter()
                .filter(|task| !running.contains(&task.id))
                .collect(),
            stop: poll
                .running
                .iter()
                .copied()
                .filter(|id| !held_ids.contains(id))
                .collect(),
        };
        if !work.tasks.is_empty() || !work.stop.is_empty() {
            return Ok(Json(work));
        }
        tokio::select! {
            _ = changes.changed() => {}
            _ = tokio::time::sleep_until(deadline) => return Ok(Json(AgentWork::default())),
            _ = state.shutdown().cancelled() => return Ok(Json(AgentWork::default())),
        }
    }
}

fn task_id(text: &str) -> Result<TaskId, AppError> {
    text.parse()
        .map_err(|_| AppError::NotFound(format!("there is no task {text:?} on this Site")))
}

fn not_held(id: TaskId) -> AppError {
    AppError::Conflict(format!(
        "task {id} is no longer running under this lease (cancelled, or ended by the server): stop its program; this report changes nothing"
    ))
}

/// Records a leased task's progress.
#[utoipa::path(
    post,
    path = "/api/agent/v1/sites/{site}/audit-services/{service}/tasks/{task}/progress",
    tag = "agent",
    params(ServiceTaskPath),
    request_body = AgentProgress,
    responses(
        (status = 204, description = "Recorded"),
        (status = 401, description = "The lease has ended", body = site_api::ErrorBody),
        (status = 409, description = "The task is no longer this lease's", body = site_api::ErrorBody),
    ),
    security(("agent_session" = []))
)]
async fn progress(
    State(state): State<AppState>,
    ApiPath(path): ApiPath<ServiceTaskPath>,
    headers: HeaderMap,
    ApiJson(report): ApiJson<AgentProgress>,
) -> Result<StatusCode, AppError> {
    let id = task_id(&path.task)?;
    let leased = authorize(&state, &service_path(path), &headers).await?;
    if report.progress.done > report.progress.total {
        return Err(AppError::InvalidRequest(
            "progress.done must not exceed progress.total".to_owned(),
        ));
    }
    lifecycle::report_progress(
        state.pool(),
        &leased.site,
        id,
        leased.holder(),
        report.progress,
    )
    .await?
    .ok_or_else(|| not_held(id))?;
    Ok(StatusCode::NO_CONTENT)
}

fn service_path(path: ServiceTaskPath) -> ServicePath {
    ServicePath {
        site: path.site,
        service: path.service,
    }
}

/// Ends a leased task as its program ended.
#[utoipa::path(
    post,
    path = "/api/agent/v1/sites/{site}/audit-services/{service}/tasks/{task}/end",
    tag = "agent",
    params(ServiceTaskPath),
    request_body = AgentEnd,
    responses(
        (status = 200, description = "The task as it ended, and the tasks taken on the freed slot", body = AgentEnded),
        (status = 401, description = "The lease has ended", body = site_api::ErrorBody),
        (status = 409, description = "The task is no longer this lease's", body = site_api::ErrorBody),
    ),
    security(("agent_session" = []))
)]
async fn end_task(
    State(state): State<AppState>,
    ApiPath(path): ApiPath<ServiceTaskPath>,
    headers: HeaderMap,
    ApiJson(report): ApiJson<AgentEnd>,
) -> Result<Json<AgentEnded>, AppError> {
    let id = task_id(&path.task)?;
    let leased = authorize(&state, &service_path(path), &headers).await?;
    if !matches!(report.status, TaskStatus::Finished | TaskStatus::Failed) {
        return Err(AppError::InvalidRequest(format!(
            "an agent ends a task finished or failed, not {}",
            report.status
        )));
    }
    let end = lifecycle::EndAndTake {
        id,
        completion: Completion {
            status: report.status,
            error_messages: report.error_messages,
        },
        take: report.take.min(1),
    };
    let (task, next) = end_grouped(state.pool(), &leased, end).await?;
    Ok(Json(AgentEnded {
        task: task.ok_or_else(|| not_held(id))?,
        next,
    }))
}

/// Records an end report with group commit: it joins the service's
/// waiting reports, and whoever writes next writes all of them in one
/// transaction ([`lifecycle::complete_and_claim`]). The write runs on a
/// task of its own, so a caller that goes away leaves no batch half done.
async fn end_grouped(
    pool: &AnyPool,
    leased: &Leased,
    end: lifecycle::EndAndTake,
) -> Result<lease::EndResult, AppError> {
    let (reply, written) = tokio::sync::oneshot::channel();
    leased
        .link()
        .pending_ends
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .push(lease::PendingEnd {
            holder: leased.holder(),
            slots: lease_slots(leased),
            end,
            reply,
        });
    let (pool, site, service) = (pool.clone(), leased.site.clone(), leased.service.clone());
    tokio::spawn(async move { write_ends(&pool, &site, &service).await });
    written
        .await
        .map_err(|_| AppError::Internal("the end report's write was dropped".to_owned()))?
        .map_err(AppError::Internal)
}

/// Writes the service's waiting end reports, one transaction per lease.
async fn write_ends(pool: &AnyPool, site: &SiteRuntime, service: &AuditServiceRuntime) {
    let Some(link) = service.remote() else {
        return;
    };
    let _writing = link.writing_ends.lock().await;
    let waiting = std::mem::take(&mut *link.pending_ends.lock().unwrap_or_else(|e| e.into_inner()));
    let mut by_holder: Vec<(Holder, u32, Vec<lease::PendingEnd>)> = Vec::new();
    for pending in waiting {
        match by_holder
            .iter_mut()
            .find(|(holder, _, _)| *holder == pending.holder)
        {
            Some((_, _, group)) => group.push(pending),
            None => by_holder.push((pending.holder, pending.slots, vec![pending])),
        }
    }
    for (holder, slots, group) in by_holder {
        let (ends, replies): (Vec<_>, Vec<_>) = group
            .into_iter()
            .map(|pending| (pending.end, pending.reply))
            .unzip();
        let written =
            lifecycle::complete_and_claim(pool, site, &service.reference(), holder, slots, ends)
                .await;
        match written {
            Ok(results) => {
                for (reply, (task, next)) in replies.into_iter().zip(results) {
                    let next = next.into_iter().map(|(task, _)| task).collect();
                    let _ = reply.send(Ok((task, next)));
                }
            }
            Err(error) => {
                tracing::error!(%error, site = site.id(), "cannot record the end of tasks");
                for reply in replies {
                    let _ = reply.send(Err(error.to_string()));
                }
            }
        }
    }
}

/// The most tasks `leased` may hold: its agent's slots, at most the service's.
fn lease_slots(leased: &Leased) -> u32 {
    u32::try_from(leased.lease.slots.max(1))
        .unwrap_or(u32::MAX)
        .min(leased.service.config().slots)
}

/// Ends the Site's leases that ran out by now, and those of services that
/// are no longer remote. Called every second by the monitor, and before a
/// lease is granted.
pub async fn expire(pool: &AnyPool, site: &SiteRuntime) -> Result<(), AppError> {
    // By the database's clock, which every server shares.
    let now = lease::sync_clock(pool).await?;
    let remote = |id: &str| site.audit_service(id).is_some_and(|s| s.remote().is_some());
    for (id, service_id, still_remote) in lease::to_end(pool, site.id(), now, remote).await? {
        let message = if still_remote {
            LOST_MESSAGE
        } else {
            NOT_REMOTE_MESSAGE
        };
        end(
            pool,
            site,
            &service_id,
            id,
            still_remote.then_some(now),
            message,
        )
        .await?;
    }
    Ok(())
}

/// At start: gives each live lease of the Site a whole lease from now,
/// ends those of services no longer remote, and loads what is known of
/// each remote service's agent.
pub async fn restore(pool: &AnyPool, site: &SiteRuntime) -> Result<(), AppError> {
    for service in &site.audit_services {
        let Some(link) = service.remote() else {
            continue;
        };
        let id = &service.reference().id;
        lease::extend_from_start(pool, site.id(), id, link.lease_ms()).await?;
        if let Some(row) = lease::latest(pool, site.id(), id).await? {
            link.remember(row);
        }
    }
    expire(pool, site).await
}
