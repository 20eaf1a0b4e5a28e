//! What the desktop backend's tests share: a taskdeck-site configuration
//! with known registrations, and helpers to make clients and tasks.

#![allow(dead_code)]

pub mod driver;

use std::path::Path;

use site_api::{CreateTaskRequest, SimulateSpec, SimulatedOutcome, Target, TargetType, TaskKind};
use taskdeck_app::site_client::{SecretSource, SiteClient};

pub const ADMIN_ID: &str = "client-admin-0000001";
pub const ADMIN_SECRET: &str = "admin-secret";
pub const USER_ID: &str = "client-user-00000001";
pub const USER_SECRET: &str = "user-secret";
pub const EXPIRED_ID: &str = "client-expired-00001";

pub fn config(data_dir: &Path, listen: &str, slots: u32) -> taskdeck_site::Config {
    let text = format!(
        r#"
listen = "{listen}"
data_dir = "{data}"
mode = "test"
rate_limit_per_minute = 100000

[[sites]]
id = "hq"
name = "Headquarters"

[[sites.audit_services]]
id = "as-1"
name = "AS-1"
slots = {slots}

[[users]]
email = "alice@example.com"
display_name = "Alice"
roles = {{ hq = "site_administrator" }}

[[users]]
email = "bob@example.com"
display_name = "Bob"
roles = {{ hq = "site_user" }}

[[app_registrations]]
client_id = "{ADMIN_ID}"
client_secret_hash = "{admin_hash}"
owner = "alice@example.com"
name = "Alice's laptop"

[[app_registrations]]
client_id = "{USER_ID}"
client_secret_hash = "{user_hash}"
owner = "bob@example.com"
name = "Bob's laptop"

[[app_registrations]]
client_id = "{EXPIRED_ID}"
client_secret_hash = "{user_hash}"
owner = "bob@example.com"
name = "Old"
expires_at = "2020-01-01T00:00:00Z"
"#,
        data = data_dir.display(),
        admin_hash = taskdeck_site::hash_secret(ADMIN_SECRET).unwrap(),
        user_hash = taskdeck_site::hash_secret(USER_SECRET).unwrap(),
    );
    let config: taskdeck_site::Config = toml::from_str(&text).unwrap();
    config.validate().unwrap();
    config
}

pub fn client(url: &str, id: &str, secret: &str) -> SiteClient {
    SiteClient::new(
        url.parse().unwrap(),
        id.to_owned(),
        SecretSource::Memory(secret.to_owned()),
        None,
    )
    .unwrap()
}

pub fn scan(
    name: &str,
    outcome: SimulatedOutcome,
    duration_ms: u64,
    errors: u64,
) -> CreateTaskRequest {
    CreateTaskRequest {
        kind: TaskKind::Scan,
        target: Target {
            target_type: TargetType::Device,
            name: name.to_owned(),
        },
        scope: "Segment HQ-LAN".to_owned(),
        simulate: Some(SimulateSpec {
            duration_ms,
            outcome,
            errors,
        }),
    }
}
