//! The Site task API client: tokens, calls and the mapping of every failure
//! to an [`Error`] with a sentence. All of the app's HTTP happens here, in
//! Rust (reqwest with rustls); the WebView never talks to a Site.
//!
//! - Tokens are cached per client and renewed before they expire, and once
//!   more when a call answers 401.
//! - A 429 is retried after its `Retry-After` (else 1 s, 2 s, 4 s), a few
//!   times, before it reaches the caller as [`Error::RateLimited`].
//! - Certificates are always verified: the OS trust store, plus the
//!   connection's own CA when it has one. There is no switch to turn it off.

use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use reqwest::{Method, RequestBuilder, Response, StatusCode};
use serde::de::DeserializeOwned;
use serde::Serialize;
use site_api::{
    ActiveTasksPage, ActiveTasksQuery, AuditServicesResponse, CancelRequest, CancelResponse,
    CreateTaskRequest, CreateTasksRequest, CreateTasksResponse, ErrorBody, FacetsQuery,
    FacetsResponse, LiveEvent, LogPage, LogQuery, Me, OAuthError, Schedule, ScheduleCreate,
    ScheduleUpdate, SchedulesResponse, SignalsResponse, Stats, Task, TaskId, TaskKind,
    TokenRequest, TokenResponse,
};
use tokio::sync::Mutex;
use url::Url;

use crate::credentials::SecretRef;
use crate::error::{Error, Result};

/// A token is renewed this long before it expires.
const TOKEN_MARGIN: Duration = Duration::from_secs(60);
/// How many times a 429 is waited out before the caller hears of it.
const RATE_LIMIT_RETRIES: u32 = 3;
/// The longest wait for one 429.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(60);
/// An event stream with no byte (event or keep-alive comment) for this long
/// is dead; the contract promises a comment at least every 15 s.
pub const STREAM_SILENCE_LIMIT: Duration = Duration::from_secs(35);

/// Where a connection's client secret is read from.
#[derive(Clone)]
pub enum SecretSource {
    /// The OS keyring (every real connection).
    Keyring(SecretRef),
    /// Process memory: the embedded Demo Site when no keyring is usable, and
    /// a connection being tested before it is saved.
    Memory(String),
}

impl std::fmt::Debug for SecretSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SecretSource::Keyring(secret) => write!(f, "Keyring({})", secret.account()),
            SecretSource::Memory(_) => f.write_str("Memory(<hidden>)"),
        }
    }
}

struct CachedToken {
    token: String,
    renew_at: Instant,
}

/// An Active tasks page, or "unchanged" for a matching `ETag`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PageRead {
    /// The page and its `ETag`.
    Page {
        /// The page.
        page: ActiveTasksPage,
        /// Its `ETag`, to send back as `If-None-Match`.
        etag: Option<String>,
    },
    /// 304: nothing changed since that `ETag`.
    Unchanged,
}

/// A client of one Site server, acting as one app registration.
pub struct SiteClient {
    http: reqwest::Client,
    stream_http: reqwest::Client,
    base: Url,
    client_id: String,
    secret: SecretSource,
    token: Mutex<Option<CachedToken>>,
    /// One lock per kind of request (method and path, e.g. `GET
    /// /api/v1/sites/hq/active-tasks`): never more than one of a kind in
    /// flight; a second waits for the first to be answered and read.
    lanes: std::sync::Mutex<std::collections::HashMap<String, Arc<Mutex<()>>>>,
}

impl SiteClient {
    /// A client of the server at `base` (e.g. `https://site.example:8443`),
    /// trusting the OS store and, if given, the PEM certificate `extra_ca`.
    pub fn new(
        base: Url,
        client_id: String,
        secret: SecretSource,
        extra_ca: Option<&str>,
    ) -> Result<SiteClient> {
        let extra_ca = match extra_ca {
            None => Vec::new(),
            Some(pem) => {
                let certificates =
                    reqwest::Certificate::from_pem_bundle(pem.as_bytes()).map_err(|e| {
                        Error::Tls(format!("the extra CA certificate is not valid PEM: {e}"))
                    })?;
                if certificates.is_empty() {
                    return Err(Error::Tls(
                        "the extra CA certificate holds no PEM certificate".to_owned(),
                    ));
                }
                certificates
            }
        };
        let builder = || {
            let mut builder = reqwest::Client::builder()
                .connect_timeout(Duration::from_secs(5))
                .user_agent(concat!("Taskdeck/", env!("CARGO_PKG_VERSION")));
            for ca in &extra_ca {
                builder = builder.add_root_certificate(ca.clone());
            }
            builder
        };
        let http = builder()
            .timeout(Duration::from_secs(20))
            .build()
            .map_err(|e| Error::Tls(e.to_string()))?;
        // Event streams have no end: only the silence between reads counts.
        let stream_http = builder()
            .read_timeout(STREAM_SILENCE_LIMIT)
            .build()
            .map_err(|e| Error::Tls(e.to_string()))?;
        Ok(SiteClient {
            http,
            stream_http,
            base,
            client_id,
            secret,
            token: Mutex::new(None),
            lanes: Default::default(),
        })
    }

    /// Waits until no other request of this kind (`method` on `url`'s path,
    /// whatever its query) is in flight; the guard keeps the lane until it
    /// is dropped, after the answer was read.
    async fn lane(&self, method: &Method, url: &Url) -> tokio::sync::OwnedMutexGuard<()> {
        let lane = self
            .lanes
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .entry(format!("{method} {}", url.path()))
            .or_default()
            .clone();
        lane.lock_owned().await
    }

    /// The server's URL.
    pub fn base(&self) -> &Url {
        &self.base
    }

    fn url(&self, path: &str) -> Result<Url> {
        self.base
            .join(path)
            .map_err(|e| Error::UnexpectedResponse(format!("bad path {path}: {e}")))
    }

    async fn read_secret(&self) -> Result<String> {
        match &self.secret {
            SecretSource::Memory(secret) => Ok(secret.clone()),
            SecretSource::Keyring(secret) => {
                let secret = secret.clone();
                tokio::task::spawn_blocking(move || secret.load()).await?
            }
        }
    }

    /// Forgets the cached token (after a 401, or when credentials change).
    pub async fn forget_token(&self) {
        *self.token.lock().await = None;
    }

    /// A valid access token: the cached one, or a new one.
    async fn token(&self) -> Result<String> {
        let mut cached = self.token.lock().await;
        if let Some(token) = cached.as_ref() {
            if Instant::now() < token.renew_at {
                return Ok(token.token.clone());
            }
        }
        let secret = self.read_secret().await?;
        let form = TokenRequest::client_credentials(&self.client_id, &secret);
        let mut waited = 0;
        let response = loop {
            let response = self
                .http
                .post(self.url("/api/oauth/token")?)
                .form(&form)
                .send()
                .await
                .map_err(|e| self.transport_error(e))?;
            if response.status() == StatusCode::TOO_MANY_REQUESTS && waited < RATE_LIMIT_RETRIES {
                tokio::time::sleep(retry_delay(&response, waited)).await;
                waited += 1;
                continue;
            }
            break response;
        };
        let status = response.status();
        if status.is_success() {
            let body: TokenResponse = response
                .json()
                .await
                .map_err(|e| Error::UnexpectedResponse(e.to_string()))?;
            let lifetime = Duration::from_secs(body.expires_in).saturating_sub(TOKEN_MARGIN);
            *cached = Some(CachedToken {
                token: body.access_token.clone(),
                renew_at: Instant::now() + lifetime,
            });
            return Ok(body.access_token);
        }
        if status == StatusCode::TOO_MANY_REQUESTS {
            return Err(rate_limited(&response));
        }
        let text = response.text().await.unwrap_or_default();
        match serde_json::from_str::<OAuthError>(&text) {
            Ok(error) if status == StatusCode::UNAUTHORIZED => {
                // The description may say it expired (the contract allows it).
                if error.error_description.to_lowercase().contains("expired") {
                    Err(Error::RegistrationExpired(error.error_description))
                } else {
                    Err(Error::CredentialsRejected(error.error_description))
                }
            }
            Ok(error) => Err(Error::UnexpectedResponse(error.error_description)),
            Err(_) => Err(status_error(status, &text)),
        }
    }

    /// Sends a request built by `build` with a valid token: renews the
    /// token once on a 401, and waits out a few 429s.
    async fn send(&self, build: impl Fn(&str) -> Result<RequestBuilder>) -> Result<Response> {
        self.send_waiting(build, RATE_LIMIT_RETRIES).await
    }

    /// [`send`](Self::send), waiting out at most `rate_limit_retries` 429s
    /// (0: the caller hears of the first, to show its wait).
    async fn send_waiting(
        &self,
        build: impl Fn(&str) -> Result<RequestBuilder>,
        rate_limit_retries: u32,
    ) -> Result<Response> {
        let mut renewed = false;
        let mut waited = 0;
        loop {
            let token = self.token().await?;
            let response = build(&token)?
                .send()
                .await
                .map_err(|e| self.transport_error(e))?;
            match response.status() {
                StatusCode::UNAUTHORIZED if !renewed => {
                    renewed = true;
                    self.forget_token().await;
                }
                StatusCode::TOO_MANY_REQUESTS if waited < rate_limit_retries => {
                    tokio::time::sleep(retry_delay(&response, waited)).await;
                    waited += 1;
                }
                _ => return Ok(response),
            }
        }
    }

    /// Calls `path` with `method` and an optional JSON body, and parses the answer.
    async fn call<T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        body: Option<&(impl Serialize + Sync)>,
    ) -> Result<T> {
        let url = self.url(path)?;
        let _lane = self.lane(&method, &url).await;
        let response = self
            .send(|token| {
                let mut request = self
                    .http
                    .request(method.clone(), url.clone())
                    .bearer_auth(token);
                if let Some(body) = body {
                    request = request.json(body);
                }
                Ok(request)
            })
            .await?;
        parse(response).await
    }

    async fn get<T: DeserializeOwned>(&self, path: &str) -> Result<T> {
        self.call(Method::GET, path, None::<&()>).await
    }

    /// `GET /api/v1/me`: who the registration acts as, and its Sites and roles.
    pub async fn me(&self) -> Result<Me> {
        self.get("/api/v1/me").await
    }

    /// A page of a Site's Active tasks. With `etag`, a 304 reads as [`PageRead::Unchanged`].
    pub async fn active_tasks(
        &self,
        site_id: &str,
        query: &ActiveTasksQuery,
        etag: Option<&str>,
    ) -> Result<PageRead> {
        let url = self.url(&format!("/api/v1/sites/{site_id}/active-tasks"))?;
        let _lane = self.lane(&Method::GET, &url).await;
        let response = self
            .send(|token| {
                let mut request = self.http.get(url.clone()).bearer_auth(token).query(query);
                if let Some(etag) = etag {
                    request = request.header(reqwest::header::IF_NONE_MATCH, etag);
                }
                Ok(request)
            })
            .await?;
        if response.status() == StatusCode::NOT_MODIFIED {
            return Ok(PageRead::Unchanged);
        }
        if response.status() == StatusCode::BAD_REQUEST && query.filter.uses_revision_1_1() {
            return Err(older_site(error_of(response).await));
        }
        let etag = response
            .headers()
            .get(reqwest::header::ETAG)
            .and_then(|value| value.to_str().ok())
            .map(str::to_owned);
        Ok(PageRead::Page {
            page: parse(response).await?,
            etag,
        })
    }

    /// A page of a Site's Active tasks, read afresh (no `If-None-Match`).
    pub async fn page(&self, site_id: &str, query: &ActiveTasksQuery) -> Result<ActiveTasksPage> {
        match self.active_tasks(site_id, query, None).await? {
            PageRead::Page { page, .. } => Ok(page),
            PageRead::Unchanged => Err(Error::UnexpectedResponse(
                "304 to a request without If-None-Match".to_owned(),
            )),
        }
    }

    /// The first page of a Site's Active tasks, newest first.
    pub async fn first_page(&self, site_id: &str, limit: u32) -> Result<ActiveTasksPage> {
        let query = ActiveTasksQuery {
            limit: site_api::PageLimit::new(limit).unwrap_or(site_api::PageLimit::MAX),
            ..ActiveTasksQuery::default()
        };
        self.page(site_id, &query).await
    }

    /// (1.1) How many matching active tasks have each value of `query`'s
    /// field. A Site that does not serve facets (1.0) is [`Error::OlderSite`].
    pub async fn facets(&self, site_id: &str, query: &FacetsQuery) -> Result<FacetsResponse> {
        let url = self.url(&format!("/api/v1/sites/{site_id}/active-tasks/facets"))?;
        let _lane = self.lane(&Method::GET, &url).await;
        let response = self
            .send(|token| Ok(self.http.get(url.clone()).bearer_auth(token).query(query)))
            .await?;
        match response.status() {
            StatusCode::NOT_FOUND => Err(older_site(error_of(response).await)),
            StatusCode::BAD_REQUEST if query.filter.uses_revision_1_1() => {
                Err(older_site(error_of(response).await))
            }
            _ => parse(response).await,
        }
    }

    /// One task, active or terminal.
    pub async fn task(&self, site_id: &str, id: TaskId) -> Result<Task> {
        self.get(&format!("/api/v1/sites/{site_id}/tasks/{id}"))
            .await
    }

    /// Triggers an ad-hoc scan or audit.
    pub async fn create_task(&self, site_id: &str, request: &CreateTaskRequest) -> Result<Task> {
        self.call(
            Method::POST,
            &format!("/api/v1/sites/{site_id}/tasks"),
            Some(request),
        )
        .await
    }

    /// Triggers one task; a 429 reaches the caller at once
    /// ([`Error::RateLimited`]), for it to show the wait.
    pub async fn create_task_once(
        &self,
        site_id: &str,
        request: &CreateTaskRequest,
    ) -> Result<Task> {
        let url = self.url(&format!("/api/v1/sites/{site_id}/tasks"))?;
        let _lane = self.lane(&Method::POST, &url).await;
        let response = self
            .send_waiting(
                |token| Ok(self.http.post(url.clone()).bearer_auth(token).json(request)),
                0,
            )
            .await?;
        parse(response).await
    }

    /// (1.1) Triggers 1..=500 tasks at once, all or nothing, numbered in
    /// order. A 429 reaches the caller at once ([`Error::RateLimited`]); a
    /// Site without batches (1.0) is [`Error::OlderSite`].
    pub async fn create_tasks(
        &self,
        site_id: &str,
        tasks: &[CreateTaskRequest],
    ) -> Result<Vec<Task>> {
        let url = self.url(&format!("/api/v1/sites/{site_id}/tasks/batch"))?;
        let _lane = self.lane(&Method::POST, &url).await;
        let body = CreateTasksRequest {
            tasks: tasks.to_vec(),
        };
        let response = self
            .send_waiting(
                |token| Ok(self.http.post(url.clone()).bearer_auth(token).json(&body)),
                0,
            )
            .await?;
        match response.status() {
            StatusCode::NOT_FOUND | StatusCode::METHOD_NOT_ALLOWED => {
                Err(older_site(error_of(response).await))
            }
            _ => parse::<CreateTasksResponse>(response)
                .await
                .map(|created| created.tasks),
        }
    }

    /// Cancels tasks (Site Administrators): one outcome per id, in order.
    pub async fn cancel_tasks(&self, site_id: &str, tasks: Vec<TaskId>) -> Result<CancelResponse> {
        self.call(
            Method::POST,
            &format!("/api/v1/sites/{site_id}/active-tasks/cancel"),
            Some(&CancelRequest { tasks }),
        )
        .await
    }

    /// A page of the Scan log or the Audit log.
    pub async fn log(&self, site_id: &str, kind: TaskKind, query: &LogQuery) -> Result<LogPage> {
        let log = match kind {
            TaskKind::Scan => "scan-log",
            TaskKind::Audit => "audit-log",
        };
        let url = self.url(&format!("/api/v1/sites/{site_id}/{log}"))?;
        let _lane = self.lane(&Method::GET, &url).await;
        let response = self
            .send(|token| Ok(self.http.get(url.clone()).bearer_auth(token).query(query)))
            .await?;
        parse(response).await
    }

    /// The Site's Audit Services.
    pub async fn audit_services(&self, site_id: &str) -> Result<AuditServicesResponse> {
        self.get(&format!("/api/v1/sites/{site_id}/audit-services"))
            .await
    }

    /// The signals in force.
    pub async fn signals(&self, site_id: &str) -> Result<SignalsResponse> {
        self.get(&format!("/api/v1/sites/{site_id}/signals")).await
    }

    /// Queue and slots now, and the last 24 hours.
    pub async fn stats(&self, site_id: &str) -> Result<Stats> {
        self.get(&format!("/api/v1/sites/{site_id}/stats")).await
    }

    /// The Site's schedules.
    pub async fn schedules(&self, site_id: &str) -> Result<SchedulesResponse> {
        self.get(&format!("/api/v1/sites/{site_id}/schedules"))
            .await
    }

    /// Creates a schedule (Site Administrators).
    pub async fn create_schedule(&self, site_id: &str, draft: &ScheduleCreate) -> Result<Schedule> {
        self.call(
            Method::POST,
            &format!("/api/v1/sites/{site_id}/schedules"),
            Some(draft),
        )
        .await
    }

    /// Changes a schedule, e.g. enables or disables it (Site Administrators).
    pub async fn update_schedule(
        &self,
        site_id: &str,
        id: &str,
        change: &ScheduleUpdate,
    ) -> Result<Schedule> {
        self.call(
            Method::PATCH,
            &format!("/api/v1/sites/{site_id}/schedules/{id}"),
            Some(change),
        )
        .await
    }

    /// Deletes a schedule (Site Administrators).
    pub async fn delete_schedule(&self, site_id: &str, id: &str) -> Result<()> {
        let url = self.url(&format!("/api/v1/sites/{site_id}/schedules/{id}"))?;
        let _lane = self.lane(&Method::DELETE, &url).await;
        let response = self
            .send(|token| Ok(self.http.delete(url.clone()).bearer_auth(token)))
            .await?;
        if response.status().is_success() {
            return Ok(());
        }
        Err(error_of(response).await)
    }

    /// Opens the Site's event stream, resuming after `last_event_id` if given.
    pub async fn events(&self, site_id: &str, last_event_id: Option<u64>) -> Result<EventStream> {
        let url = self.url(&format!("/api/v1/sites/{site_id}/events"))?;
        let response = self
            .send(|token| {
                let mut request = self
                    .stream_http
                    .get(url.clone())
                    .bearer_auth(token)
                    .header(reqwest::header::ACCEPT, "text/event-stream");
                if let Some(id) = last_event_id {
                    request = request.header("Last-Event-ID", id.to_string());
                }
                Ok(request)
            })
            .await?;
        if !response.status().is_success() {
            return Err(error_of(response).await);
        }
        let is_stream = response
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|value| value.to_str().ok())
            .is_some_and(|value| value.starts_with("text/event-stream"));
        if !is_stream {
            return Err(Error::UnexpectedResponse(
                "the events endpoint did not answer with an event stream".to_owned(),
            ));
        }
        let base = self.base.to_string();
        let events = eventsource_stream::Eventsource::eventsource(response.bytes_stream());
        Ok(EventStream {
            inner: Box::pin(events),
            base,
        })
    }

    fn transport_error(&self, error: reqwest::Error) -> Error {
        transport_error(self.base.as_ref(), &error)
    }
}

/// One event of a stream, with its revision (`id:`), if it carried one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamEvent {
    /// The Site's revision after the change.
    pub revision: Option<u64>,
    /// What changed.
    pub event: LiveEvent,
}

type RawEvents = std::pin::Pin<
    Box<
        dyn futures_util::Stream<
                Item = std::result::Result<
                    eventsource_stream::Event,
                    eventsource_stream::EventStreamError<reqwest::Error>,
                >,
            > + Send,
    >,
>;

/// A Site's live events, as they arrive.
pub struct EventStream {
    inner: RawEvents,
    base: String,
}

impl EventStream {
    /// The next event; `None` when the server closed the stream. A stream
    /// silent for longer than [`STREAM_SILENCE_LIMIT`] ends in an error.
    pub async fn next(&mut self) -> Option<Result<StreamEvent>> {
        let raw = match self.inner.next().await? {
            Ok(raw) => raw,
            Err(eventsource_stream::EventStreamError::Transport(error)) => {
                return Some(Err(transport_error(&self.base, &error)))
            }
            Err(error) => return Some(Err(Error::UnexpectedResponse(error.to_string()))),
        };
        let revision = raw.id.trim().parse().ok();
        let name = if raw.event.is_empty() {
            "message"
        } else {
            raw.event.as_str()
        };
        Some(
            LiveEvent::parse(name, &raw.data)
                .map(|event| StreamEvent { revision, event })
                .map_err(|e| Error::UnexpectedResponse(e.to_string())),
        )
    }
}

/// How long to wait before retrying a 429: its `Retry-After`, else
/// 1 s, 2 s, 4 s … by attempt.
fn retry_delay(response: &Response, attempt: u32) -> Duration {
    retry_after(response)
        .unwrap_or_else(|| Duration::from_secs(1 << attempt.min(5)))
        .min(MAX_RETRY_AFTER)
}

fn retry_after(response: &Response) -> Option<Duration> {
    response
        .headers()
        .get(reqwest::header::RETRY_AFTER)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.trim().parse().ok())
        .map(Duration::from_secs)
}

/// Parses a success body, or turns the contract's error body into an [`Error`].
async fn parse<T: DeserializeOwned>(response: Response) -> Result<T> {
    if response.status().is_success() {
        let text = response
            .text()
            .await
            .map_err(|e| Error::UnexpectedResponse(e.to_string()))?;
        return serde_json::from_str(&text).map_err(|e| {
            Error::UnexpectedResponse(format!("the answer is not what the contract says: {e}"))
        });
    }
    Err(error_of(response).await)
}

/// The error a non-success answer means.
async fn error_of(response: Response) -> Error {
    let status = response.status();
    if status == StatusCode::TOO_MANY_REQUESTS {
        return rate_limited(&response);
    }
    let text = response.text().await.unwrap_or_default();
    status_error(status, &text)
}

/// A refusal of what revision 1.1 added, as the error saying the Site is older.
fn older_site(refusal: Error) -> Error {
    match refusal {
        Error::UnexpectedResponse(message) | Error::NotFound(message) => Error::OlderSite(message),
        other => other,
    }
}

fn status_error(status: StatusCode, text: &str) -> Error {
    let message = serde_json::from_str::<ErrorBody>(text)
        .map(|body| body.error.message)
        .unwrap_or_else(|_| format!("HTTP {status}"));
    match status {
        StatusCode::UNAUTHORIZED => Error::CredentialsRejected(message),
        StatusCode::FORBIDDEN => Error::Forbidden(message),
        StatusCode::NOT_FOUND => Error::NotFound(message),
        s if s.is_server_error() => Error::Server {
            status: s.as_u16(),
            message,
        },
        _ => Error::UnexpectedResponse(message),
    }
}

fn rate_limited(response: &Response) -> Error {
    Error::RateLimited {
        retry_after_secs: retry_after(response).map_or(1, |wait| wait.as_secs()),
    }
}

fn transport_error(base: &str, error: &reqwest::Error) -> Error {
    let detail = error_chain(error);
    let lower = detail.to_lowercase();
    if lower.contains("certificate") || lower.contains("tls") || lower.contains("handshake") {
        return Error::Tls(detail);
    }
    Error::Unreachable {
        url: base.to_owned(),
        detail,
    }
}

/// The error and its causes on one line.
fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
