//! The Site task API client: tokens, calls and the mapping of every failure
//! to an [`Error`] with a sentence. All of the app's HTTP happens here, in
//! Rust (reqwest with rustls); the WebView never talks to a Site.

use std::time::{Duration, Instant};

use reqwest::{Response, StatusCode};
use serde::de::DeserializeOwned;
use site_api::{ActiveTasksPage, ErrorBody, Me, OAuthError, TokenResponse};
use tokio::sync::Mutex;
use url::Url;

use crate::credentials::SecretRef;
use crate::error::{Error, Result};

/// A token is renewed this long before it expires.
const TOKEN_MARGIN: Duration = Duration::from_secs(60);

/// Where a connection's client secret is read from.
#[derive(Clone)]
pub enum SecretSource {
    /// The OS keyring (every real connection).
    Keyring(SecretRef),
    /// Process memory: only the embedded Demo Site when no keyring is usable.
    DemoMemory(String),
}

impl std::fmt::Debug for SecretSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SecretSource::Keyring(secret) => write!(f, "Keyring({})", secret.account()),
            SecretSource::DemoMemory(_) => f.write_str("DemoMemory(<hidden>)"),
        }
    }
}

struct CachedToken {
    token: String,
    renew_at: Instant,
}

/// A client of one Site server, acting as one app registration.
pub struct SiteClient {
    http: reqwest::Client,
    base: Url,
    client_id: String,
    secret: SecretSource,
    token: Mutex<Option<CachedToken>>,
}

impl SiteClient {
    /// A client of the server at `base` (e.g. `http://127.0.0.1:8080`).
    pub fn new(base: Url, client_id: String, secret: SecretSource) -> Result<SiteClient> {
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(5))
            .timeout(Duration::from_secs(20))
            .user_agent(concat!("Taskdeck/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| Error::Tls(e.to_string()))?;
        Ok(SiteClient {
            http,
            base,
            client_id,
            secret,
            token: Mutex::new(None),
        })
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
            SecretSource::DemoMemory(secret) => Ok(secret.clone()),
            SecretSource::Keyring(secret) => {
                let secret = secret.clone();
                tokio::task::spawn_blocking(move || secret.load())
                    .await
                    .map_err(|e| Error::Keyring(e.to_string()))?
            }
        }
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
        let response = self
            .http
            .post(self.url("/api/oauth/token")?)
            .form(&[
                ("grant_type", "client_credentials"),
                ("client_id", self.client_id.as_str()),
                ("client_secret", secret.as_str()),
            ])
            .send()
            .await
            .map_err(|e| self.transport_error(e))?;
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
                Err(Error::CredentialsRejected(error.error_description))
            }
            Ok(error) => Err(Error::UnexpectedResponse(error.error_description)),
            Err(_) => Err(status_error(status, &text)),
        }
    }

    /// GETs `path` as the registration and parses the answer; on a 401 the
    /// token is renewed and the call tried once more.
    async fn get_json<T: DeserializeOwned>(&self, path: &str) -> Result<T> {
        let url = self.url(path)?;
        for attempt in 0..2 {
            let token = self.token().await?;
            let response = self
                .http
                .get(url.clone())
                .bearer_auth(&token)
                .send()
                .await
                .map_err(|e| self.transport_error(e))?;
            if response.status() == StatusCode::UNAUTHORIZED && attempt == 0 {
                *self.token.lock().await = None;
                continue;
            }
            return parse(response).await;
        }
        Err(Error::CredentialsRejected(
            "the Site refused a freshly issued token".to_owned(),
        ))
    }

    /// `GET /api/v1/me`.
    pub async fn me(&self) -> Result<Me> {
        self.get_json("/api/v1/me").await
    }

    /// The first page of a Site's Active tasks, newest first.
    pub async fn active_tasks(&self, site_id: &str, limit: u32) -> Result<ActiveTasksPage> {
        self.get_json(&format!(
            "/api/v1/sites/{site_id}/active-tasks?limit={limit}"
        ))
        .await
    }

    fn transport_error(&self, error: reqwest::Error) -> Error {
        let detail = error_chain(&error);
        let lower = detail.to_lowercase();
        if lower.contains("certificate") || lower.contains("tls") || lower.contains("handshake") {
            return Error::Tls(detail);
        }
        Error::Unreachable {
            url: self.base.to_string(),
            detail,
        }
    }
}

/// Parses a success body, or turns the contract's error body into an [`Error`].
async fn parse<T: DeserializeOwned>(response: Response) -> Result<T> {
    let status = response.status();
    if status.is_success() {
        return response
            .json()
            .await
            .map_err(|e| Error::UnexpectedResponse(e.to_string()));
    }
    if status == StatusCode::TOO_MANY_REQUESTS {
        return Err(rate_limited(&response));
    }
    let text = response.text().await.unwrap_or_default();
    Err(status_error(status, &text))
}

fn status_error(status: StatusCode, text: &str) -> Error {
    let message = serde_json::from_str::<ErrorBody>(text)
        .map(|body| body.error.message)
        .unwrap_or_else(|_| format!("HTTP {status}"));
    match status {
        StatusCode::UNAUTHORIZED => Error::CredentialsRejected(message),
        StatusCode::FORBIDDEN => Error::Forbidden(message),
        s if s.is_server_error() => Error::Server {
            status: s.as_u16(),
            message,
        },
        _ => Error::UnexpectedResponse(message),
    }
}

fn rate_limited(response: &Response) -> Error {
    let retry_after_secs = response
        .headers()
        .get(reqwest::header::RETRY_AFTER)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.trim().parse().ok())
        .unwrap_or(1);
    Error::RateLimited { retry_after_secs }
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
