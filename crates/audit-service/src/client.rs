//! The agent's calls to the Site server (`site_api::agent`), each answer
//! sorted into what the agent does about it: go on, retry later, stop a
//! task, or start over with a new lease.

use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde::de::DeserializeOwned;
use serde::Serialize;
use site_api::{
    AgentEnd, AgentEnded, AgentHeartbeat, AgentHeartbeatReply, AgentHello, AgentPoll,
    AgentProgress, AgentSession, AgentWork, ErrorBody, TaskId, AGENT_API_BASE,
};

/// How long any call but a poll may take.
const CALL_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a poll may wait on the server.
pub const POLL_WAIT: Duration = Duration::from_secs(20);

/// Why a call did not succeed.
#[derive(Debug, thiserror::Error)]
pub enum CallError {
    /// The server cannot be reached, timed out, or failed (5xx, 429): retry.
    #[error("{0}")]
    Unreachable(String),
    /// Opening a session was refused: the agent cannot serve this service.
    #[error("{message}")]
    Refused {
        /// The HTTP status.
        status: StatusCode,
        /// The server's sentence.
        message: String,
    },
    /// The lease has ended: every task of it is gone.
    #[error("the lease has ended: {0}")]
    LeaseLost(String),
    /// The task is no longer this lease's (409): stop it, report nothing.
    #[error("{0}")]
    TaskGone(String),
}

/// A client of one remote Audit Service's agent protocol.
#[derive(Clone)]
pub struct SiteClient {
    http: reqwest::Client,
    base: String,
}

impl SiteClient {
    /// A client for `server` (as given to `--server`), trusting the
    /// system's CAs and `ca` (PEM) besides.
    pub fn new(
        server: &str,
        site: &str,
        service: &str,
        ca: Option<&[u8]>,
    ) -> Result<SiteClient, String> {
        let url = reqwest::Url::parse(server)
            .map_err(|e| format!("--server {server:?} is not a URL: {e}"))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(format!("--server {server:?} must be http:// or https://"));
        }
        let mut builder = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(5))
            .user_agent(concat!(
                "taskdeck-audit-service/",
                env!("CARGO_PKG_VERSION")
            ))
            .tcp_nodelay(true);
        if let Some(pem) = ca {
            let certificates = reqwest::Certificate::from_pem_bundle(pem)
                .map_err(|e| format!("--ca is not a PEM certificate: {e}"))?;
            if certificates.is_empty() {
                return Err("--ca holds no certificate".to_owned());
            }
            builder = builder.tls_certs_merge(certificates);
        }
        let http = builder
            .build()
            .map_err(|e| format!("cannot set up HTTPS: {e}"))?;
        let segment = |text: &str| {
            text.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        };
        if !segment(site) || !segment(service) || site.is_empty() || service.is_empty() {
            return Err(
                "--site and --service are ids: letters, digits, '-', '_' and '.'".to_owned(),
            );
        }
        Ok(SiteClient {
            http,
            base: format!(
                "{}{AGENT_API_BASE}/sites/{site}/audit-services/{service}",
                server.trim_end_matches('/')
            ),
        })
    }

    /// Opens a lease with the agent secret.
    pub async fn open_session(
        &self,
        secret: &str,
        hello: &AgentHello,
    ) -> Result<AgentSession, CallError> {
        let response = self
            .send(Method::POST, "/sessions", secret, Some(hello), CALL_TIMEOUT)
            .await?;
        let status = response.status();
        if status.is_success() {
            return json(response).await;
        }
        let message = error_message(response).await;
        match status {
            StatusCode::BAD_REQUEST
            | StatusCode::UNAUTHORIZED
            | StatusCode::FORBIDDEN
            | StatusCode::NOT_FOUND
            | StatusCode::CONFLICT => Err(CallError::Refused { status, message }),
            _ => Err(CallError::Unreachable(format!("{status}: {message}"))),
        }
    }

    /// Closes the lease.
    pub async fn close_session(&self, token: &str) -> Result<(), CallError> {
        let response = self
            .send::<()>(
                Method::DELETE,
                "/sessions/current",
                token,
                None,
                CALL_TIMEOUT,
            )
            .await?;
        answer(response).await.map(drop)
    }

    /// Renews the lease.
    pub async fn heartbeat(
        &self,
        token: &str,
        beat: &AgentHeartbeat,
    ) -> Result<AgentHeartbeatReply, CallError> {
        let response = self
            .send(Method::POST, "/heartbeat", token, Some(beat), CALL_TIMEOUT)
            .await?;
        json(answer(response).await?).await
    }

    /// Waits for work or stops.
    pub async fn poll(&self, token: &str, poll: &AgentPoll) -> Result<AgentWork, CallError> {
        let wait = poll.wait_ms.map(Duration::from_millis).unwrap_or(POLL_WAIT);
        let response = self
            .send(
                Method::POST,
                "/poll",
                token,
                Some(poll),
                wait + CALL_TIMEOUT,
            )
            .await?;
        json(answer(response).await?).await
    }

    /// Reports a task's progress.
    pub async fn progress(
        &self,
        token: &str,
        task: TaskId,
        progress: &AgentProgress,
    ) -> Result<(), CallError> {
        let path = format!("/tasks/{task}/progress");
        let response = self
            .send(Method::POST, &path, token, Some(progress), CALL_TIMEOUT)
            .await?;
        answer(response).await.map(drop)
    }

    /// Reports how a task's program ended: the tasks taken on its slot.
    pub async fn end(
        &self,
        token: &str,
        task: TaskId,
        end: &AgentEnd,
    ) -> Result<AgentEnded, CallError> {
        let path = format!("/tasks/{task}/end");
        let response = self
            .send(Method::POST, &path, token, Some(end), CALL_TIMEOUT)
            .await?;
        json(answer(response).await?).await
    }

    async fn send<B: Serialize>(
        &self,
        method: Method,
        path: &str,
        bearer: &str,
        body: Option<&B>,
        timeout: Duration,
    ) -> Result<reqwest::Response, CallError> {
        let mut request = self
            .http
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(bearer)
            .timeout(timeout);
        if let Some(body) = body {
            request = request.json(body);
        }
        request
            .send()
            .await
            .map_err(|error| CallError::Unreachable(describe(&error)))
    }
}

/// A transport error in words, with its causes (a TLS failure says why).
fn describe(error: &reqwest::Error) -> String {
    let mut text = error.to_string();
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// Sorts an answer to a call made under a lease.
async fn answer(response: reqwest::Response) -> Result<reqwest::Response, CallError> {
    let status = response.status();
    if status.is_success() {
        return Ok(response);
    }
    let message = error_message(response).await;
    Err(match status {
        StatusCode::UNAUTHORIZED => CallError::LeaseLost(message),
        StatusCode::CONFLICT => CallError::TaskGone(message),
        // The service was reconfigured away from under the agent.
        StatusCode::NOT_FOUND => CallError::LeaseLost(message),
        _ => CallError::Unreachable(format!("{status}: {message}")),
    })
}

async fn json<T: DeserializeOwned>(response: reqwest::Response) -> Result<T, CallError> {
    response
        .json()
        .await
        .map_err(|e| CallError::Unreachable(format!("an answer that is not understood: {e}")))
}

/// The sentence of the contract's error body, or the status alone.
async fn error_message(response: reqwest::Response) -> String {
    let status = response.status();
    match response.json::<ErrorBody>().await {
        Ok(body) => body.error.message,
        Err(_) => format!("the server answered {status}"),
    }
}
