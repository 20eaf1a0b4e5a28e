//! Schedules: five-field cron (UTC) definitions that queue tasks with
//! Initiator `Schedule`, their routes, and the loop that fires them.
//!
//! A firing that was missed while the server was down runs once when it is
//! back (its `next_run` is in the past), then `next_run` moves to the next
//! occurrence after *now*, not after the missed one.

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use croner::Cron;
use site_api::{
    Initiator, ObjectRef, Schedule, ScheduleCreate, ScheduleUpdate, SchedulesResponse, Target,
    TargetType, Timestamp,
};
use sqlx::AnyPool;
use tokio_util::sync::CancellationToken;

use crate::auth::Caller;
use crate::db::{self, kind_column, parse_column};
use crate::error::AppError;
use crate::extract::{ApiJson, ApiPath, SchedulePath, SitePath};
use crate::lifecycle::{self, NewTask};
use crate::state::{AppState, SiteRuntime};

/// How often due schedules are looked for.
const CHECK_EVERY: Duration = Duration::from_secs(1);

/// The schedule routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/api/v1/sites/{site}/schedules",
            get(schedules_list).post(schedules_create),
        )
        .route(
            "/api/v1/sites/{site}/schedules/{id}",
            get(schedules_show)
                .patch(schedules_update)
                .delete(schedules_delete),
        )
}

/// Parses a five-field cron expression (minute hour day month weekday), UTC.
pub fn parse_cron(text: &str) -> Result<Cron, AppError> {
    let fields = text.split_whitespace().count();
    if fields != 5 {
        return Err(AppError::InvalidRequest(format!(
            "cron must have five fields (minute hour day month weekday), not {fields}"
        )));
    }
    Cron::from_str(text)
        .map_err(|e| AppError::InvalidRequest(format!("cron {text:?} is not valid: {e}")))
}

/// The first occurrence of `cron` strictly after `after`.
pub fn next_occurrence(cron: &Cron, after: Timestamp) -> Option<Timestamp> {
    cron.find_next_occurrence(&after, false).ok()
}

fn check_text(field: &str, value: &str) -> Result<(), AppError> {
    if value.trim().is_empty() || value.chars().count() > 256 {
        return Err(AppError::InvalidRequest(format!(
            "{field} must be 1 to 256 characters"
        )));
    }
    Ok(())
}

#[derive(sqlx::FromRow)]
struct ScheduleRow {
    seq: i64,
    name: String,
    kind: String,
    cron: String,
    target_type: String,
    target_name: String,
    scope: String,
    /// 1 or 0: both stores keep it as an integer.
    enabled: i64,
    next_run: Option<i64>,
}

const SCHEDULE_COLUMNS: &str =
    "seq, name, kind, cron, target_type, target_name, scope, enabled, next_run";

impl ScheduleRow {
    fn to_schedule(&self) -> Result<Schedule, AppError> {
        Ok(Schedule {
            id: schedule_id(self.seq),
            name: self.name.clone(),
            kind: parse_column("kind", &self.kind)?,
            cron: self.cron.clone(),
            target: Target {
                target_type: parse_column::<TargetType>("target_type", &self.target_type)?,
                name: self.target_name.clone(),
            },
            scope: self.scope.clone(),
            enabled: self.enabled != 0,
            next_run: self.next_run.map(db::from_db_time).transpose()?,
        })
    }
}

fn schedule_id(seq: i64) -> String {
    format!("sch-{seq}")
}

fn parse_schedule_id(id: &str) -> Result<i64, AppError> {
    id.strip_prefix("sch-")
        .and_then(|n| n.parse().ok())
        .ok_or_else(|| AppError::NotFound(format!("there is no schedule {id:?} on this Site")))
}

async fn find(pool: &AnyPool, site: &SiteRuntime, seq: i64) -> Result<ScheduleRow, AppError> {
    sqlx::query_as(&format!(
        "SELECT {SCHEDULE_COLUMNS} FROM schedules WHERE site_id = $1 AND seq = $2"
    ))
    .bind(site.id())
    .bind(seq)
    .fetch_optional(pool)
    .await?
    .ok_or_else(|| {
        AppError::NotFound(format!(
            "there is no schedule {} on this Site",
            schedule_id(seq)
        ))
    })
}

/// Every schedule of the Site (both roles).
#[utoipa::path(
    get,
    path = "/api/v1/sites/{site}/schedules",
    tag = "schedules",
    params(crate::extract::SitePath),
    responses((status = 200, description = "The schedules", body = SchedulesResponse)),
    security(("bearer" = []))
)]
async fn schedules_list(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(SitePath { site }): ApiPath<SitePath>,
) -> Result<Json<SchedulesResponse>, AppError> {
    let access = caller.site_access(&state, &site).await?;
    Ok(Json(SchedulesResponse {
        schedules: list(state.pool(), &access.site).await?,
    }))
}

/// One schedule.
#[utoipa::path(
    get,
    path = "/api/v1/sites/{site}/schedules/{id}",
    tag = "schedules",
    params(crate::extract::SchedulePath),
    responses((status = 200, description = "The schedule", body = Schedule)),
    security(("bearer" = []))
)]
async fn schedules_show(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(SchedulePath { site, id }): ApiPath<SchedulePath>,
) -> Result<Json<Schedule>, AppError> {
    let access = caller.site_access(&state, &site).await?;
    let row = find(state.pool(), &access.site, parse_schedule_id(&id)?).await?;
    Ok(Json(row.to_schedule()?))
}

/// Creates a schedule (Site Administrators).
#[utoipa::path(
    post,
    path = "/api/v1/sites/{site}/schedules",
    tag = "schedules",
    params(crate::extract::SitePath),
    request_body = ScheduleCreate,
    responses((status = 201, description = "The new schedule", body = Schedule), (status = 403, description = "forbidden: only Site Administrators may edit schedules", body = site_api::ErrorBody)),
    security(("bearer" = []))
)]
async fn schedules_create(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(SitePath { site }): ApiPath<SitePath>,
    ApiJson(request): ApiJson<ScheduleCreate>,
) -> Result<(StatusCode, Json<Schedule>), AppError> {
    let access = caller.site_access(&state, &site).await?;
    access.require_admin()?;
    let schedule = insert(state.pool(), &access.site, &request).await?;
    Ok((StatusCode::CREATED, Json(schedule)))
}

/// Validates and stores a new schedule of the Site.
pub async fn insert(
    pool: &AnyPool,
    site: &SiteRuntime,
    request: &ScheduleCreate,
) -> Result<Schedule, AppError> {
    check_text("name", &request.name)?;
    check_text("target.name", &request.target.name)?;
    check_text("scope", &request.scope)?;
    let cron = parse_cron(&request.cron)?;
    let next_run = request
        .enabled
        .then(|| next_occurrence(&cron, db::now()))
        .flatten();
    let row: ScheduleRow = sqlx::query_as(&format!(
        "INSERT INTO schedules (site_id, name, kind, cron, target_type, target_name, scope, enabled, next_run)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING {SCHEDULE_COLUMNS}"
    ))
    .bind(site.id())
    .bind(&request.name)
    .bind(kind_column(request.kind))
    .bind(request.cron.trim())
    .bind(request.target.target_type.as_str())
    .bind(&request.target.name)
    .bind(&request.scope)
    .bind(i64::from(request.enabled))
    .bind(next_run.map(db::to_db_time))
    .fetch_one(pool)
    .await?;
    row.to_schedule()
}

/// Every schedule of the Site, by name.
pub async fn list(pool: &AnyPool, site: &SiteRuntime) -> Result<Vec<Schedule>, AppError> {
    let name = db::Dialect::of(pool).nocase("name");
    let rows: Vec<ScheduleRow> = sqlx::query_as(&format!(
        "SELECT {SCHEDULE_COLUMNS} FROM schedules WHERE site_id = $1 ORDER BY {name}, seq"
    ))
    .bind(site.id())
    .fetch_all(pool)
    .await?;
    rows.iter().map(ScheduleRow::to_schedule).collect()
}

/// Changes the fields sent (Site Administrators).
#[utoipa::path(
    patch,
    path = "/api/v1/sites/{site}/schedules/{id}",
    tag = "schedules",
    params(crate::extract::SchedulePath),
    request_body = ScheduleUpdate,
    responses((status = 200, description = "The schedule as changed", body = Schedule), (status = 403, description = "forbidden: only Site Administrators may edit schedules", body = site_api::ErrorBody)),
    security(("bearer" = []))
)]
async fn schedules_update(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(SchedulePath { site, id }): ApiPath<SchedulePath>,
    ApiJson(request): ApiJson<ScheduleUpdate>,
) -> Result<Json<Schedule>, AppError> {
    let access = caller.site_access(&state, &site).await?;
    access.require_admin()?;
    let seq = parse_schedule_id(&id)?;
    let current = find(state.pool(), &access.site, seq).await?.to_schedule()?;
    let name = request.name.unwrap_or(current.name);
    let target = request.target.unwrap_or(current.target);
    let scope = request.scope.unwrap_or(current.scope);
    let cron_text = request.cron.unwrap_or(current.cron);
    let enabled = request.enabled.unwrap_or(current.enabled);
    let kind = request.kind.unwrap_or(current.kind);
    check_text("name", &name)?;
    check_text("target.name", &target.name)?;
    check_text("scope", &scope)?;
    let cron = parse_cron(&cron_text)?;
    let next_run = enabled.then(|| next_occurrence(&cron, db::now())).flatten();
    let row: ScheduleRow = sqlx::query_as(&format!(
        "UPDATE schedules SET name = $1, kind = $2, cron = $3, target_type = $4, target_name = $5,
                scope = $6, enabled = $7, next_run = $8
          WHERE site_id = $9 AND seq = $10 RETURNING {SCHEDULE_COLUMNS}"
    ))
    .bind(&name)
    .bind(kind_column(kind))
    .bind(cron_text.trim())
    .bind(target.target_type.as_str())
    .bind(&target.name)
    .bind(&scope)
    .bind(i64::from(enabled))
    .bind(next_run.map(db::to_db_time))
    .bind(access.site.id())
    .bind(seq)
    .fetch_optional(state.pool())
    .await?
    .ok_or_else(|| AppError::NotFound(format!("there is no schedule {id:?} on this Site")))?;
    Ok(Json(row.to_schedule()?))
}

/// Deletes a schedule (Site Administrators).
#[utoipa::path(
    delete,
    path = "/api/v1/sites/{site}/schedules/{id}",
    tag = "schedules",
    params(crate::extract::SchedulePath),
    responses((status = 204, description = "Deleted"), (status = 403, description = "forbidden: only Site Administrators may edit schedules", body = site_api::ErrorBody)),
    security(("bearer" = []))
)]
async fn schedules_delete(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(SchedulePath { site, id }): ApiPath<SchedulePath>,
) -> Result<StatusCode, AppError> {
    let access = caller.site_access(&state, &site).await?;
    access.require_admin()?;
    let seq = parse_schedule_id(&id)?;
    let deleted = sqlx::query("DELETE FROM schedules WHERE site_id = $1 AND seq = $2")
        .bind(access.site.id())
        .bind(seq)
        .execute(state.pool())
        .await?
        .rows_affected();
    if deleted == 0 {
        return Err(AppError::NotFound(format!(
            "there is no schedule {id:?} on this Site"
        )));
    }
    Ok(StatusCode::NO_CONTENT)
}

/// Fires the Site's due schedules until `shutdown`.
pub async fn run(pool: AnyPool, site: Arc<SiteRuntime>, shutdown: CancellationToken) {
    loop {
        if let Err(error) = fire_due(&pool, &site).await {
            tracing::warn!(%error, site = site.id(), "cannot fire schedules");
        }
        tokio::select! {
            _ = tokio::time::sleep(CHECK_EVERY) => {}
            _ = shutdown.cancelled() => return,
        }
    }
}

/// Queues one task for each schedule whose `next_run` has come, and moves
/// its `next_run` past now.
pub async fn fire_due(pool: &AnyPool, site: &SiteRuntime) -> Result<usize, AppError> {
    let now = db::now();
    let due: Vec<ScheduleRow> = sqlx::query_as(&format!(
        "SELECT {SCHEDULE_COLUMNS} FROM schedules
          WHERE site_id = $1 AND enabled = 1 AND next_run <= $2"
    ))
    .bind(site.id())
    .bind(db::to_db_time(now))
    .fetch_all(pool)
    .await?;
    let mut fired = 0;
    for row in due {
        let schedule = row.to_schedule()?;
        let cron = parse_cron(&schedule.cron)?;
        let next_run = next_occurrence(&cron, now);
        let task = NewTask {
            kind: schedule.kind,
            target: schedule.target.clone(),
            scope: schedule.scope.clone(),
            initiator: Initiator::Schedule,
            schedule: Some(ObjectRef {
                id: schedule.id.clone(),
                name: schedule.name.clone(),
            }),
            simulate: None,
        };
        let claimed = lifecycle::fire_schedule(
            pool,
            site,
            row.seq,
            row.next_run.unwrap_or_default(),
            next_run.map(db::to_db_time),
            task,
        )
        .await?;
        if claimed.is_some() {
            fired += 1;
        }
    }
    Ok(fired)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cron_needs_five_valid_fields() {
        parse_cron("0 * * * *").unwrap();
        parse_cron("*/15 8-18 * * MON-FRI").unwrap();
        for bad in ["", "* * * *", "0 0 * * * *", "61 * * * *", "x * * * *"] {
            assert!(parse_cron(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn next_occurrence_is_strictly_after() {
        let cron = parse_cron("30 9 * * *").unwrap();
        let at: Timestamp = "2026-11-28T09:30:00Z".parse().unwrap();
        let next = next_occurrence(&cron, at).unwrap();
        assert_eq!(next.to_rfc3339(), "2026-11-29T09:30:00+00:00");
        let before: Timestamp = "2026-11-28T09:29:59Z".parse().unwrap();
        assert_eq!(next_occurrence(&cron, before).unwrap(), at);
    }
}
