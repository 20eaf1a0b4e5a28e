//! taskdeck-site: the reference Site server.
//!
//! It holds a Site's Active tasks queue in SQLite, runs tasks on simulated
//! Audit Services, and serves the Site task API of `site-task-api.md` over
//! HTTP. The desktop app embeds it as the Demo Site; tests run against it.
//!
//! Map of the crate:
//! - [`config`]: the TOML file; [`db`]: storage and the row/type mapping;
//! - [`lifecycle`]: the task state machine, the only writer of a status;
//! - [`audit_service`]: slot pools that claim and run tasks;
//! - `auth`, `tasks`, `health`: one module per domain noun, each with its
//!   router; [`app`] merges them;
//! - [`demo`]: demo Sites, users and live traffic.

#![deny(missing_docs)]

/// This server's version.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

#[cfg(feature = "cli")]
pub mod agent_secret;
pub mod audit_service;
mod audit_services;
mod auth;
mod compat;
pub mod config;
pub mod db;
pub mod demo;
pub mod error;
pub mod events;
mod extract;
#[cfg(feature = "postgres")]
pub mod follow;
mod health;
pub mod history;
pub mod lifecycle;
pub mod limits;
mod live;
pub mod monitor;
pub mod openapi;
#[cfg(feature = "cli")]
pub mod registration;
pub mod remote;
pub mod schedules;
#[cfg(feature = "seed")]
pub mod seed;
pub mod state;
mod tasks;
#[cfg(feature = "testing")]
pub mod testing;

use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::DefaultBodyLimit;
use axum::Router;
use tokio::net::TcpListener;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;
use tower_http::trace::TraceLayer;

pub use auth::{hash_random_secret, hash_secret, new_client_id, new_client_secret};
pub use compat::ApiRevision;
pub use config::Config;
pub use error::{AppError, StartError};
pub use state::{AppState, SiteRuntime};

use config::Mode;
use lifecycle::Interrupted;

/// Request bodies larger than this are refused with 413.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

/// The message of a task that was running when the server stopped or died.
pub const INTERRUPTED_MESSAGE: &str =
    "Interrupted: the Site server stopped while the task was running.";

/// The whole HTTP API over `state`: every route, the contract's 404 and 405
/// bodies, the body limit and request tracing.
pub fn app(state: AppState) -> Router {
    Router::new()
        .merge(health::router())
        .merge(auth::router())
        .merge(tasks::router())
        .merge(audit_services::router())
        .merge(schedules::router())
        .merge(live::router())
        .merge(remote::router())
        .merge(openapi::router())
        .fallback(|| async { AppError::NotFound("there is nothing at this path".to_owned()) })
        .method_not_allowed_fallback(|| async { AppError::MethodNotAllowed })
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}

/// A started server: its address, and the handle to stop it.
pub struct RunningServer {
    local_addr: SocketAddr,
    scheme: &'static str,
    state: AppState,
    shutdown: CancellationToken,
    tasks: JoinSet<()>,
}

impl RunningServer {
    /// The address it accepts connections on.
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// `http://ADDR`, or `https://ADDR` with `[tls]`.
    pub fn url(&self) -> String {
        format!("{}://{}", self.scheme, self.local_addr)
    }

    /// Its state, for code running beside it (the demo's traffic).
    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// A token cancelled when the server stops.
    pub fn shutdown_token(&self) -> CancellationToken {
        self.shutdown.clone()
    }

    /// Stops cleanly: no new requests, Audit Services stop, running tasks
    /// end `failed` (interrupted), event streams close.
    pub async fn stop(mut self) {
        self.shutdown.cancel();
        while self.tasks.join_next().await.is_some() {}
        for site in self.state.sites() {
            if let Err(error) = lifecycle::interrupt_running(
                self.state.pool(),
                site,
                Interrupted::OfServer(site.server_id()),
                INTERRUPTED_MESSAGE,
            )
            .await
            {
                tracing::error!(%error, site = site.id(), "cannot end running tasks");
            }
        }
        self.state.pool().close().await;
    }
}

/// Opens the database, brings it in line with `config`, binds the listen
/// address and starts serving and running tasks.
pub async fn start(config: Config) -> Result<RunningServer, StartError> {
    config
        .validate()
        .map_err(|message| StartError::InvalidConfig {
            path: "(configuration)".into(),
            message,
        })?;
    let store = config
        .store()
        .map_err(|message| StartError::InvalidConfig {
            path: "(configuration)".into(),
            message,
        })?;
    let pool = db::open(&store).await?;
    // The database's clock, before anything is stamped; the monitor
    // measures it again every second.
    remote::lease::sync_clock(&pool)
        .await
        .map_err(StartError::Recover)?;
    sync_configuration(&pool, &config).await?;
    let mut site_configs = config.sites.clone();
    hash_agent_secrets(&mut site_configs, config.mode)?;
    let server_id = new_server_id();
    let sites: Vec<Arc<SiteRuntime>> = site_configs
        .into_iter()
        .map(|site| Arc::new(SiteRuntime::on_server(site, &server_id)))
        .collect();
    let shutdown = CancellationToken::new();
    let limits = limits::Limits::for_pool(config.rate_limit_per_minute, &pool);
    let state = AppState::new(pool.clone(), config.mode, sites, shutdown.clone(), limits);
    let all_sites: Vec<Arc<SiteRuntime>> = state.sites().cloned().collect();
    // On PostgreSQL this server shares its Sites with others.
    #[cfg(feature = "postgres")]
    let mut following = match &store {
        config::Store::Postgres(url) => Some(
            follow::Following::start(url, &server_id, &pool, &all_sites)
                .await
                .map_err(StartError::Recover)?,
        ),
        config::Store::Sqlite(_) => None,
    };
    for site in &all_sites {
        #[cfg(feature = "postgres")]
        let shared = match &mut following {
            // Another server's in-process tasks are its own, or, once it
            // is dead, failed by the sweep of the servers still up.
            Some(following) => {
                following
                    .preload(&pool, site)
                    .await
                    .map_err(StartError::Recover)?;
                true
            }
            None => false,
        };
        #[cfg(not(feature = "postgres"))]
        let shared = false;
        if !shared {
            let ended = lifecycle::interrupt_running(
                &pool,
                site,
                Interrupted::AllInProcess,
                INTERRUPTED_MESSAGE,
            )
            .await
            .map_err(StartError::Recover)?;
            if !ended.is_empty() {
                tracing::warn!(
                    site = site.id(),
                    n = ended.len(),
                    "ended tasks left running by a crash"
                );
            }
        }
        remote::restore(&pool, site)
            .await
            .map_err(StartError::Recover)?;
    }
    let listener = TcpListener::bind(config.listen)
        .await
        .map_err(|source| StartError::Listen {
            addr: config.listen,
            source,
        })?;
    let local_addr = listener.local_addr().map_err(|source| StartError::Listen {
        addr: config.listen,
        source,
    })?;
    let mut tasks = JoinSet::new();
    let router = compat::serve_revision(app(state.clone()), config.api_revision);
    let stop = shutdown.clone();
    let scheme = match &config.tls {
        None => {
            tasks.spawn(async move {
                let serve = axum::serve(
                    listener,
                    router.into_make_service_with_connect_info::<SocketAddr>(),
                )
                .with_graceful_shutdown(stop.cancelled_owned());
                if let Err(error) = serve.await {
                    tracing::error!(%error, "the HTTP server failed");
                }
            });
            "http"
        }
        Some(tls) => {
            let rustls = axum_server::tls_rustls::RustlsConfig::from_pem_file(&tls.cert, &tls.key)
                .await
                .map_err(|e| {
                    StartError::Tls(format!(
                        "{} / {}: {e}",
                        tls.cert.display(),
                        tls.key.display()
                    ))
                })?;
            let listener = listener.into_std().map_err(|source| StartError::Listen {
                addr: config.listen,
                source,
            })?;
            let handle = axum_server::Handle::new();
            let server = axum_server::from_tcp_rustls(listener, rustls)
                .map_err(|source| StartError::Listen {
                    addr: config.listen,
                    source,
                })?
                .handle(handle.clone());
            tasks.spawn(async move {
                stop.cancelled().await;
                handle.graceful_shutdown(Some(std::time::Duration::from_secs(10)));
            });
            tasks.spawn(async move {
                if let Err(error) = server
                    .serve(router.into_make_service_with_connect_info::<SocketAddr>())
                    .await
                {
                    tracing::error!(%error, "the HTTPS server failed");
                }
            });
            "https"
        }
    };
    #[cfg(feature = "postgres")]
    if let Some(following) = following {
        following.spawn(&mut tasks, &pool, all_sites, &shutdown);
    }
    for site in state.sites() {
        tasks.spawn(monitor::run(pool.clone(), site.clone(), shutdown.clone()));
        tasks.spawn(schedules::run(pool.clone(), site.clone(), shutdown.clone()));
        for service in site.audit_services.iter().filter(|s| s.remote().is_none()) {
            tasks.spawn(audit_service::dispatch(
                pool.clone(),
                site.clone(),
                service.clone(),
                shutdown.clone(),
            ));
        }
    }
    Ok(RunningServer {
        local_addr,
        scheme,
        state,
        shutdown,
        tasks,
    })
}

/// A new server's id: random, so each start is a server of its own.
fn new_server_id() -> String {
    use rand::Rng;
    let bytes: [u8; 12] = rand::rng().random();
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Gives every remote Audit Service the hash of its agent secret: a plain
/// `agent_secret` (test mode only, as `validate` checks) is hashed here.
fn hash_agent_secrets(sites: &mut [config::SiteConfig], mode: Mode) -> Result<(), StartError> {
    for service in sites
        .iter_mut()
        .flat_map(|site| site.audit_services.iter_mut())
    {
        if service.agent_secret_hash.is_none() && mode != Mode::Production {
            if let Some(secret) = service.agent_secret.take() {
                service.agent_secret_hash = Some(hash_secret(&secret).map_err(StartError::Hash)?);
            }
        }
    }
    Ok(())
}

/// Each app registration's stored hash, in order: the one configured, or
/// (outside production) its plain secret hashed. Argon2 is slow on purpose:
/// the secrets are hashed at once, each off the async workers (the
/// desktop's window keeps answering while its Demo Site starts).
async fn registration_hashes(config: &Config) -> Result<Vec<String>, StartError> {
    let hashing = config.app_registrations.iter().map(|registration| {
        let configured = registration.client_secret_hash.clone();
        let plain = registration
            .client_secret
            .clone()
            .filter(|_| config.mode != Mode::Production);
        async move {
            match (configured, plain) {
                (Some(hash), _) => Ok(hash),
                (None, Some(secret)) => tokio::task::spawn_blocking(move || hash_secret(&secret))
                    .await
                    .map_err(|e| StartError::Hash(e.to_string()))?
                    .map_err(StartError::Hash),
                (None, None) => Err(StartError::Hash("no usable client secret".to_owned())),
            }
        }
    });
    futures_util::future::try_join_all(hashing).await
}

/// Makes the stored Sites, users, roles and registrations match `config`.
async fn sync_configuration(pool: &sqlx::AnyPool, config: &Config) -> Result<(), StartError> {
    let hashed = registration_hashes(config).await?;
    let mut tx = pool.begin().await?;
    if db::Dialect::of(pool) == db::Dialect::Postgres {
        // Servers starting at once rewrite these tables one after another.
        sqlx::query("SELECT pg_advisory_xact_lock(7215001)")
            .execute(&mut *tx)
            .await?;
    }
    for site in &config.sites {
        sqlx::query("INSERT INTO sites (id) VALUES ($1) ON CONFLICT (id) DO NOTHING")
            .bind(&site.id)
            .execute(&mut *tx)
            .await?;
    }
    sqlx::query("DELETE FROM roles").execute(&mut *tx).await?;
    sqlx::query("DELETE FROM users").execute(&mut *tx).await?;
    sqlx::query("DELETE FROM app_registrations")
        .execute(&mut *tx)
        .await?;
    for user in &config.users {
        sqlx::query("INSERT INTO users (email, display_name) VALUES ($1, $2)")
            .bind(&user.email)
            .bind(&user.display_name)
            .execute(&mut *tx)
            .await?;
        for (site, role) in &user.roles {
            sqlx::query("INSERT INTO roles (email, site_id, role) VALUES ($1, $2, $3)")
                .bind(&user.email)
                .bind(site)
                .bind(role.as_str())
                .execute(&mut *tx)
                .await?;
        }
    }
    for (registration, hash) in config.app_registrations.iter().zip(hashed) {
        sqlx::query(
            "INSERT INTO app_registrations (client_id, secret_hash, owner, name, expires_at)
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(&registration.client_id)
        .bind(hash)
        .bind(&registration.owner)
        .bind(&registration.name)
        .bind(registration.expires_at.map(db::to_db_time))
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    Ok(())
}
