//! What the desktop backend's tests share: the taskdeck-site test
//! configuration (the server's `testing` module, which its own tests use
//! too), and helpers to make clients and tasks.

#![allow(dead_code)]

pub mod driver;

use std::path::Path;

use site_api::{CreateTaskRequest, SimulateSpec, SimulatedOutcome, Target, TargetType, TaskKind};
use taskdeck_app::site_client::{SecretSource, SiteClient};

// Not every test binary uses every one.
#[allow(unused_imports)]
pub use taskdeck_site::testing::{ADMIN_ID, ADMIN_SECRET, EXPIRED_ID, USER_ID, USER_SECRET};

/// The shared test Site (`taskdeck_site::testing`): `hq` alone, SQLite
/// under `data_dir`, listening on `listen`.
pub fn config(data_dir: &Path, listen: &str, slots: u32) -> taskdeck_site::Config {
    let mut site = taskdeck_site::testing::TestSite::new(
        taskdeck_site::config::Store::Sqlite(data_dir.to_owned()),
        slots,
    );
    site.listen = listen.to_owned();
    site.config()
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
