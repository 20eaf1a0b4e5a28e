//! The server's TOML configuration, as the contract's last section writes it.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;
use site_api::{SiteRole, Timestamp};

use crate::error::StartError;

/// The whole configuration file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Address to listen on; port 0 takes a free port.
    pub listen: SocketAddr,
    /// Where the SQLite database lives; created if missing. May be left
    /// out with `database_url`.
    #[serde(default)]
    pub data_dir: Option<PathBuf>,
    /// (1.1) A PostgreSQL database holding the state instead of SQLite:
    /// any number of servers on one database serve its Sites as one.
    #[serde(default)]
    pub database_url: Option<String>,
    /// `production` or `test`.
    #[serde(default)]
    pub mode: Mode,
    /// Requests a minute per client id, token requests included.
    #[serde(default = "default_rate_limit")]
    pub rate_limit_per_minute: u32,
    /// Serve HTTPS when present.
    #[serde(default)]
    pub tls: Option<TlsConfig>,
    /// The Sites this server hosts.
    #[serde(default)]
    pub sites: Vec<SiteConfig>,
    /// The users, with their per-Site roles.
    #[serde(default)]
    pub users: Vec<UserConfig>,
    /// The app registrations (client credentials).
    #[serde(default)]
    pub app_registrations: Vec<AppRegistrationConfig>,
    /// The revision of the Site API served: `"1.1"`; a test-mode server may
    /// answer as `"1.0"` (for testing clients against an older Site).
    #[serde(default)]
    pub api_revision: crate::ApiRevision,
}

/// Where a server keeps its state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Store {
    /// `data_dir/site.db`: the embedded default, for one server.
    Sqlite(PathBuf),
    /// A PostgreSQL database, shared by any number of servers (with the
    /// `postgres` feature).
    #[cfg(feature = "postgres")]
    Postgres(String),
}

/// `url` with any password replaced by `***`, for messages and logs.
pub fn redact_password(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let (authority, path) = rest.split_once('/').unwrap_or((rest, ""));
    let Some((credentials, host)) = authority.rsplit_once('@') else {
        return url.to_owned();
    };
    let user = credentials.split(':').next().unwrap_or("");
    let password = if credentials.contains(':') {
        ":***"
    } else {
        ""
    };
    let slash = if rest.contains('/') { "/" } else { "" };
    format!("{scheme}://{user}{password}@{host}{slash}{path}")
}

/// How the server treats test-only inputs.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    /// Refuses `simulate` and plain-text secrets.
    #[default]
    Production,
    /// Accepts `simulate` on new tasks and `client_secret` in the file.
    Test,
    /// `taskdeck-site demo`: like test, plus generated live traffic.
    Demo,
}

impl Mode {
    /// True if and only if `simulate` is accepted on new tasks.
    pub fn allows_simulate(self) -> bool {
        matches!(self, Mode::Test | Mode::Demo)
    }
}

/// `[tls]`: certificate and key in PEM.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TlsConfig {
    /// The certificate chain.
    pub cert: PathBuf,
    /// The private key.
    pub key: PathBuf,
}

/// `[[sites]]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SiteConfig {
    /// `[a-z0-9-]{1,64}`.
    pub id: String,
    /// Display name.
    pub name: String,
    /// How failed tasks are labelled.
    #[serde(default)]
    pub failed_label: FailedLabel,
    /// Queued tasks at which the queue counts as long.
    #[serde(default = "default_queue_long_threshold")]
    pub queue_long_threshold: u64,
    /// How long the queue must stay long before the signal.
    #[serde(default = "default_queue_long_window", with = "humantime_serde")]
    pub queue_long_window: Duration,
    /// Running longer than this raises `task_running_long`.
    #[serde(default = "default_running_long_after", with = "humantime_serde")]
    pub running_long_after: Duration,
    /// The Site's Audit Services.
    #[serde(default)]
    pub audit_services: Vec<AuditServiceConfig>,
}

/// How a Site labels failed tasks on the wire.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FailedLabel {
    /// `status: failed`.
    #[default]
    Failed,
    /// `status: finished` with `errors >= 1`, as some deployments do.
    Finished,
}

/// `[[sites.audit_services]]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuditServiceConfig {
    /// Id, e.g. `as-1`.
    pub id: String,
    /// Display name.
    pub name: String,
    /// Tasks it runs at once.
    pub slots: u32,
    /// How it runs a task.
    #[serde(default)]
    pub runner: RunnerKind,
    /// The program and its arguments, for the `command` runner.
    #[serde(default)]
    pub command: Vec<String>,
    /// Kill a `command` or `remote` task after this long.
    #[serde(default, with = "humantime_serde")]
    pub timeout: Option<Duration>,
    /// Argon2 PHC string of the agent secret, for the `remote` runner.
    #[serde(default)]
    pub agent_secret_hash: Option<String>,
    /// The plain agent secret: test mode only.
    #[serde(default)]
    pub agent_secret: Option<String>,
    /// How long a `remote` service's agent may stay silent before its
    /// tasks are lost ([`DEFAULT_LEASE`], at least [`MIN_LEASE`]).
    #[serde(default, with = "humantime_serde")]
    pub lease: Option<Duration>,
}

/// A remote agent's lease when the service names none.
pub const DEFAULT_LEASE: Duration = Duration::from_secs(30);
/// The shortest lease a remote service may have.
pub const MIN_LEASE: Duration = Duration::from_secs(5);

impl AuditServiceConfig {
    /// Checks the agent settings: only remote services have them, and a
    /// remote one has a usable secret and a lease of at least [`MIN_LEASE`].
    fn validate_agent(&self, mode: Mode) -> Result<(), String> {
        let id = &self.id;
        let has_agent_settings =
            self.agent_secret_hash.is_some() || self.agent_secret.is_some() || self.lease.is_some();
        if !self.is_remote() {
            return match has_agent_settings {
                true => Err(format!(
                    "audit service {id:?} has agent settings but its runner is not \"remote\""
                )),
                false => Ok(()),
            };
        }
        if !self.command.is_empty() {
            return Err(format!(
                "audit service {id:?} is remote: its agent names the program, not `command`"
            ));
        }
        match (&self.agent_secret_hash, &self.agent_secret) {
            (Some(_), _) => {}
            (None, Some(_)) if mode != Mode::Production => {}
            (None, Some(_)) => {
                return Err(format!(
                    "audit service {id:?}: a plain `agent_secret` is for test mode only; give `agent_secret_hash` (taskdeck-site agent-secret create)"
                ))
            }
            (None, None) => {
                return Err(format!(
                    "audit service {id:?} is remote but has no `agent_secret_hash`"
                ))
            }
        }
        if self.lease() < MIN_LEASE {
            return Err(format!(
                "audit service {id:?}: the lease must be at least {} s",
                MIN_LEASE.as_secs()
            ));
        }
        Ok(())
    }

    /// The program the `command` runner runs for each task.
    pub fn program(&self) -> taskdeck_runner::Program {
        taskdeck_runner::Program {
            command: self.command.clone(),
            timeout: self.timeout,
        }
    }

    /// How long its agent may stay silent (remote services).
    pub fn lease(&self) -> Duration {
        self.lease.unwrap_or(DEFAULT_LEASE)
    }

    /// Whether its tasks run in an agent of their own, not in this server.
    pub fn is_remote(&self) -> bool {
        self.runner == RunnerKind::Remote
    }
}

/// How an Audit Service runs tasks.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RunnerKind {
    /// Simulated work (demo durations, or the task's `simulate`).
    #[default]
    Simulated,
    /// Runs a program per task.
    Command,
    /// A `taskdeck-audit-service` agent on its own host runs the tasks.
    Remote,
}

/// `[[users]]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UserConfig {
    /// The user's email: Initiator of what they trigger.
    pub email: String,
    /// Display name.
    pub display_name: String,
    /// Site id to role.
    #[serde(default)]
    pub roles: HashMap<String, SiteRole>,
}

/// `[[app_registrations]]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AppRegistrationConfig {
    /// 20 characters.
    pub client_id: String,
    /// Argon2 PHC string of the secret.
    #[serde(default)]
    pub client_secret_hash: Option<String>,
    /// The plain secret: test mode only.
    #[serde(default)]
    pub client_secret: Option<String>,
    /// The owner's email.
    pub owner: String,
    /// What the registration is for.
    pub name: String,
    /// No tokens after this.
    #[serde(default)]
    pub expires_at: Option<Timestamp>,
}

fn default_rate_limit() -> u32 {
    600
}

fn default_queue_long_threshold() -> u64 {
    50
}

fn default_queue_long_window() -> Duration {
    Duration::from_secs(15 * 60)
}

fn default_running_long_after() -> Duration {
    Duration::from_secs(2 * 60 * 60)
}

impl Config {
    /// Reads and validates a configuration file; relative paths in it are
    /// taken from the file's folder.
    pub fn load(path: &Path) -> Result<Config, StartError> {
        let text = std::fs::read_to_string(path).map_err(|source| StartError::ReadConfig {
            path: path.to_owned(),
            source,
        })?;
        let mut config: Config = toml::from_str(&text).map_err(|e| StartError::InvalidConfig {
            path: path.to_owned(),
            message: e.to_string(),
        })?;
        let base = path.parent().unwrap_or(Path::new("."));
        config.data_dir = config.data_dir.map(|dir| base.join(dir));
        if let Some(tls) = &mut config.tls {
            tls.cert = base.join(&tls.cert);
            tls.key = base.join(&tls.key);
        }
        config
            .validate()
            .map_err(|message| StartError::InvalidConfig {
                path: path.to_owned(),
                message,
            })?;
        Ok(config)
    }

    /// Where the state lives: `database_url` if given, else `data_dir`.
    pub fn store(&self) -> Result<Store, String> {
        match (&self.database_url, &self.data_dir) {
            (Some(url), _) => {
                if crate::db::Dialect::of_url(url) != crate::db::Dialect::Postgres {
                    return Err(format!(
                        "database_url must be postgres://USER[:PASSWORD]@HOST[:PORT]/DB, not {:?}",
                        redact_password(url)
                    ));
                }
                Self::postgres_store(url)
            }
            (None, Some(dir)) => Ok(Store::Sqlite(dir.clone())),
            (None, None) => Err(
                "give data_dir (the SQLite database's folder) or database_url (PostgreSQL)"
                    .to_owned(),
            ),
        }
    }

    #[cfg(feature = "postgres")]
    fn postgres_store(url: &str) -> Result<Store, String> {
        Ok(Store::Postgres(url.to_owned()))
    }

    #[cfg(not(feature = "postgres"))]
    fn postgres_store(_url: &str) -> Result<Store, String> {
        Err(
            "this taskdeck-site is built without PostgreSQL (its `postgres` feature): \
             give data_dir instead of database_url"
                .to_owned(),
        )
    }

    /// Checks what serde cannot: id formats, references, test-only fields.
    pub fn validate(&self) -> Result<(), String> {
        self.store()?;
        if self.api_revision != crate::ApiRevision::default() && self.mode == Mode::Production {
            return Err("api_revision other than \"1.1\" is for test mode only".to_owned());
        }
        let mut site_ids = std::collections::HashSet::new();
        for site in &self.sites {
            if !is_valid_site_id(&site.id) {
                return Err(format!(
                    "site id {:?} must be 1 to 64 of a-z, 0-9 and -",
                    site.id
                ));
            }
            if !site_ids.insert(site.id.as_str()) {
                return Err(format!("site id {:?} appears twice", site.id));
            }
            let mut service_ids = std::collections::HashSet::new();
            for service in &site.audit_services {
                if !service_ids.insert(service.id.as_str()) {
                    return Err(format!(
                        "audit service {:?} appears twice in site {:?}",
                        service.id, site.id
                    ));
                }
                if service.slots == 0 {
                    return Err(format!("audit service {:?} has no slots", service.id));
                }
                if service.runner == RunnerKind::Command && service.command.is_empty() {
                    return Err(format!(
                        "audit service {:?} uses the command runner but names no command",
                        service.id
                    ));
                }
                service.validate_agent(self.mode)?;
            }
        }
        let mut emails = std::collections::HashSet::new();
        for user in &self.users {
            if !emails.insert(user.email.as_str()) {
                return Err(format!("user {:?} appears twice", user.email));
            }
            for site in user.roles.keys() {
                if !site_ids.contains(site.as_str()) {
                    return Err(format!(
                        "user {:?} has a role on unknown site {site:?}",
                        user.email
                    ));
                }
            }
        }
        let mut client_ids = std::collections::HashSet::new();
        for registration in &self.app_registrations {
            if registration.client_id.chars().count() != 20 {
                return Err(format!(
                    "client id {:?} must be 20 characters",
                    registration.client_id
                ));
            }
            if !client_ids.insert(registration.client_id.as_str()) {
                return Err(format!(
                    "client id {:?} appears twice",
                    registration.client_id
                ));
            }
            if !emails.contains(registration.owner.as_str()) {
                return Err(format!(
                    "app registration {:?} is owned by unknown user {:?}",
                    registration.client_id, registration.owner
                ));
            }
            match (
                &registration.client_secret_hash,
                &registration.client_secret,
                self.mode,
            ) {
                (Some(_), None, _) => {}
                (None, Some(_), Mode::Test | Mode::Demo) => {}
                (None, Some(_), Mode::Production) => {
                    return Err(format!(
                        "app registration {:?}: client_secret is only allowed in test mode; use client_secret_hash",
                        registration.client_id
                    ))
                }
                _ => {
                    return Err(format!(
                        "app registration {:?} needs exactly one of client_secret_hash and client_secret",
                        registration.client_id
                    ))
                }
            }
        }
        Ok(())
    }
}

/// True if and only if `id` is `[a-z0-9-]{1,64}`.
pub fn is_valid_site_id(id: &str) -> bool {
    (1..=64).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn database_urls_lose_their_password_in_messages() {
        assert_eq!(
            redact_password("postgres://taskdeck:s3cret@db.internal:5432/taskdeck"),
            "postgres://taskdeck:***@db.internal:5432/taskdeck"
        );
        assert_eq!(
            redact_password("postgres://taskdeck@db/taskdeck"),
            "postgres://taskdeck@db/taskdeck"
        );
        assert_eq!(redact_password("not a url"), "not a url");
    }

    const EXAMPLE: &str = r#"
listen = "127.0.0.1:8080"
data_dir = "data"
mode = "production"
rate_limit_per_minute = 600

[[sites]]
id = "hq"
name = "Headquarters"
failed_label = "failed"
queue_long_threshold = 50
queue_long_window = "15m"
running_long_after = "2h"

[[sites.audit_services]]
id = "as-1"
name = "AS-1"
slots = 4
runner = "simulated"

[[users]]
email = "alice@example.com"
display_name = "Alice"
roles = { hq = "site_administrator" }

[[app_registrations]]
client_id = "01234567890123456789"
client_secret_hash = "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNo"
owner = "alice@example.com"
name = "Alice's laptop"
expires_at = "2027-12-31T00:00:00Z"
"#;

    #[test]
    fn contract_example_config_parses() {
        let config: Config = toml::from_str(EXAMPLE).unwrap();
        config.validate().unwrap();
        let site = &config.sites[0];
        assert_eq!(site.queue_long_window, Duration::from_secs(900));
        assert_eq!(site.running_long_after, Duration::from_secs(7200));
        assert_eq!(site.audit_services[0].slots, 4);
        assert_eq!(config.users[0].roles["hq"], SiteRole::SiteAdministrator);
    }

    #[test]
    fn plain_secrets_are_refused_in_production() {
        let text = EXAMPLE.replace(
            "client_secret_hash = \"$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNo\"",
            "client_secret = \"hunter2\"",
        );
        let config: Config = toml::from_str(&text).unwrap();
        assert!(config.validate().unwrap_err().contains("test mode"));
        let config: Config = toml::from_str(&text.replace("\"production\"", "\"test\"")).unwrap();
        config.validate().unwrap();
    }

    #[test]
    fn bad_site_ids_and_dangling_roles_are_refused() {
        let config: Config =
            toml::from_str(&EXAMPLE.replace("id = \"hq\"", "id = \"HQ\"")).unwrap();
        assert!(config.validate().is_err());
        let config: Config =
            toml::from_str(&EXAMPLE.replace("roles = { hq", "roles = { branch")).unwrap();
        assert!(config.validate().unwrap_err().contains("unknown site"));
        assert!(
            toml::from_str::<Config>(&EXAMPLE.replace("slots = 4", "slots = 4\ncolour = 1"))
                .is_err()
        );
    }

    #[test]
    fn site_ids_follow_the_contract_pattern() {
        assert!(is_valid_site_id("hq"));
        assert!(is_valid_site_id("branch-2"));
        assert!(!is_valid_site_id(""));
        assert!(!is_valid_site_id("a_b"));
        assert!(!is_valid_site_id(&"a".repeat(65)));
    }
}
