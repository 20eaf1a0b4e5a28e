//! `GET /api/v1/sites/{site}/events`: the Site's changes as server-sent
//! events, numbered by revision, resumable with `Last-Event-ID`.

use std::convert::Infallible;
use std::time::Duration;

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use futures_util::stream::{self, Stream, StreamExt};
use tokio::sync::broadcast::{self, error::RecvError};

use crate::auth::Caller;
use crate::error::AppError;
use crate::events::{Resume, SiteEvent};
use crate::extract::{ApiPath, SitePath};
use crate::state::AppState;

/// Comment lines at least this often, so dead links are noticed.
pub const KEEP_ALIVE: Duration = Duration::from_secs(10);

/// The live event route.
pub fn router() -> Router<AppState> {
    Router::new().route("/api/v1/sites/{site}/events", get(events_stream))
}

/// The Site's changes as server-sent events.
///
/// Each event has `id: <revision>` (per Site, strictly increasing) and is one of
/// `task` (a Task, at every change), `audit_service` (an AuditService),
/// `signal` (a Signal, when it starts) or `reset` (the `Last-Event-ID` sent is
/// too old to replay: refetch the list). A comment line comes at least every 15 s.
#[utoipa::path(
    get,
    path = "/api/v1/sites/{site}/events",
    tag = "events",
    params(
        crate::extract::SitePath,
        ("Last-Event-ID" = Option<u64>, Header, description = "The last revision seen; events after it are replayed"),
    ),
    responses((status = 200, description = "An endless text/event-stream", content_type = "text/event-stream", body = String)),
    security(("bearer" = []))
)]
async fn events_stream(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(SitePath { site }): ApiPath<SitePath>,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    let access = caller.site_access(&state, &site).await?;
    let current = crate::monitor::counters(state.pool(), &access.site)
        .await?
        .revision;
    let last_seen = match headers.get("last-event-id") {
        None => current,
        Some(value) => value
            .to_str()
            .ok()
            .and_then(|text| text.trim().parse::<u64>().ok())
            // An id this server never gave out: start over.
            .unwrap_or(u64::MAX),
    };
    let (resume, receiver) = access.site.resume(last_seen, current);
    let (first, sent): (Vec<Event>, u64) = match resume {
        Resume::Replay(events) => (
            events.iter().map(to_sse).collect(),
            events
                .last()
                .map_or(last_seen, |e| e.revision.max(last_seen)),
        ),
        Resume::Reset => (vec![reset_event(current)], current),
    };
    let live = live_events(receiver, sent);
    let stream = stream::iter(first.into_iter().map(Ok))
        .chain(live)
        .take_until(state.shutdown().clone().cancelled_owned());
    Ok(Sse::new(stream)
        .keep_alive(KeepAlive::new().interval(KEEP_ALIVE))
        .into_response())
}

/// Events as they are published, after revision `sent` (with several
/// servers, this one's follower may still be publishing what a client saw
/// through another); a subscriber that fell behind is told to reset.
fn live_events(
    receiver: broadcast::Receiver<SiteEvent>,
    sent: u64,
) -> impl Stream<Item = Result<Event, Infallible>> {
    stream::unfold((receiver, sent), |(mut receiver, mut sent)| async move {
        let event = loop {
            match receiver.recv().await {
                Ok(event) if event.revision <= sent => continue,
                Ok(event) => {
                    sent = event.revision;
                    break to_sse(&event);
                }
                Err(RecvError::Lagged(_)) => break reset_event(0),
                Err(RecvError::Closed) => return None,
            }
        };
        Some((Ok(event), (receiver, sent)))
    })
}

fn to_sse(event: &SiteEvent) -> Event {
    let (name, data) = (event.change.event_name(), event.change.to_json());
    Event::default()
        .id(event.revision.to_string())
        .event(name)
        .data(data.unwrap_or_else(|_| "null".to_owned()))
}

/// Tells the client to refetch the list: what it missed is gone.
fn reset_event(revision: u64) -> Event {
    let event = Event::default()
        .event(site_api::LiveEvent::RESET)
        .data("{}");
    if revision == 0 {
        event
    } else {
        event.id(revision.to_string())
    }
}
