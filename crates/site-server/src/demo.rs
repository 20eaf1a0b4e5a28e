//! The demo: a Site with users, app registrations, Audit Services and live
//! traffic, so that a new user sees a moving queue at once.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use rand::seq::IndexedRandom;
use rand::Rng;
use site_api::{Initiator, ObjectRef, ScheduleCreate, SiteRole, Target, TargetType, TaskKind};
use tokio_util::sync::CancellationToken;

use crate::config::{
    AppRegistrationConfig, AuditServiceConfig, Config, FailedLabel, Mode, RunnerKind, SiteConfig,
    UserConfig,
};
use crate::error::StartError;
use crate::lifecycle::{self, NewTask};
use crate::monitor;
use crate::schedules;
use crate::state::{AppState, SiteRuntime};
use crate::{new_client_id, new_client_secret, RunningServer};

/// The demo Site's id.
pub const DEMO_SITE_ID: &str = "demo";
/// The demo Site Administrator's email.
pub const DEMO_ADMIN_EMAIL: &str = "admin@demo.taskdeck.dev";
/// The demo Site User's email.
pub const DEMO_USER_EMAIL: &str = "viewer@demo.taskdeck.dev";
/// Queued tasks the demo starts with.
const SEED_QUEUE: u64 = 14;
/// Generated traffic pauses while this many tasks are queued.
const MAX_DEMO_QUEUE: u64 = 30;

/// Where and how to run the demo.
#[derive(Debug, Clone)]
pub struct DemoOptions {
    /// Address to listen on (port 0: a free port).
    pub listen: SocketAddr,
    /// Keep the data here; `None`: a temporary folder removed at stop.
    pub data_dir: Option<PathBuf>,
}

impl Default for DemoOptions {
    fn default() -> DemoOptions {
        DemoOptions {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            data_dir: None,
        }
    }
}

/// One demo app registration, with its secret in the clear.
#[derive(Debug, Clone)]
pub struct DemoRegistration {
    /// The client id.
    pub client_id: String,
    /// The client secret.
    pub client_secret: String,
    /// Its owner's email.
    pub owner: String,
    /// The owner's role on the demo Site.
    pub role: SiteRole,
}

/// A running demo.
pub struct Demo {
    /// The server.
    pub server: RunningServer,
    /// The registrations: a Site Administrator's and a Site User's.
    pub registrations: Vec<DemoRegistration>,
    _temp_dir: Option<tempfile::TempDir>,
}

impl Demo {
    /// The Site Administrator's registration.
    pub fn admin(&self) -> &DemoRegistration {
        self.registration(SiteRole::SiteAdministrator)
    }

    /// The registration whose owner has `role`.
    pub fn registration(&self, role: SiteRole) -> &DemoRegistration {
        self.registrations
            .iter()
            .find(|registration| registration.role == role)
            .unwrap_or(&self.registrations[0])
    }

    /// Stops the server and removes temporary data.
    pub async fn stop(self) {
        self.server.stop().await;
    }
}

/// Starts the demo: its Site, fresh credentials, seed tasks and live traffic.
pub async fn start(options: DemoOptions) -> Result<Demo, StartError> {
    let (data_dir, temp_dir) = match options.data_dir {
        Some(dir) => (dir, None),
        None => {
            let temp = tempfile::Builder::new()
                .prefix("taskdeck-demo-")
                .tempdir()
                .map_err(|source| StartError::DataDir {
                    path: std::env::temp_dir(),
                    source,
                })?;
            (temp.path().to_owned(), Some(temp))
        }
    };
    let registrations = vec![
        DemoRegistration {
            client_id: new_client_id(),
            client_secret: new_client_secret(),
            owner: DEMO_ADMIN_EMAIL.to_owned(),
            role: SiteRole::SiteAdministrator,
        },
        DemoRegistration {
            client_id: new_client_id(),
            client_secret: new_client_secret(),
            owner: DEMO_USER_EMAIL.to_owned(),
            role: SiteRole::SiteUser,
        },
    ];
    let config = demo_config(options.listen, data_dir, &registrations);
    let server = crate::start(config).await?;
    let site = server
        .state()
        .site(DEMO_SITE_ID)
        .cloned()
        .expect("the demo configuration has the demo Site");
    let traffic = Traffic {
        state: server.state().clone(),
        site,
    };
    tokio::spawn(traffic.run(server.shutdown_token()));
    Ok(Demo {
        server,
        registrations,
        _temp_dir: temp_dir,
    })
}

/// The demo's configuration: one Site, two Audit Services, an admin and a viewer.
pub fn demo_config(
    listen: SocketAddr,
    data_dir: PathBuf,
    registrations: &[DemoRegistration],
) -> Config {
    let service = |id: &str, name: &str, slots| AuditServiceConfig {
        id: id.to_owned(),
        name: name.to_owned(),
        slots,
        runner: RunnerKind::Simulated,
        command: Vec::new(),
        timeout: None,
        agent_secret_hash: None,
        agent_secret: None,
        lease: None,
    };
    let user = |email: &str, name: &str, role| UserConfig {
        email: email.to_owned(),
        display_name: name.to_owned(),
        roles: [(DEMO_SITE_ID.to_owned(), role)].into_iter().collect(),
    };
    Config {
        listen,
        data_dir: Some(data_dir),
        database_url: None,
        mode: Mode::Demo,
        rate_limit_per_minute: 6000,
        tls: None,
        sites: vec![SiteConfig {
            id: DEMO_SITE_ID.to_owned(),
            name: "Demo Site".to_owned(),
            failed_label: FailedLabel::Failed,
            queue_long_threshold: 25,
            queue_long_window: Duration::from_secs(5 * 60),
            running_long_after: Duration::from_secs(2 * 60 * 60),
            audit_services: vec![service("as-1", "AS-1", 4), service("as-2", "AS-2", 2)],
        }],
        users: vec![
            user(
                DEMO_ADMIN_EMAIL,
                "Demo Administrator",
                SiteRole::SiteAdministrator,
            ),
            user(DEMO_USER_EMAIL, "Demo Viewer", SiteRole::SiteUser),
        ],
        app_registrations: registrations
            .iter()
            .map(|registration| AppRegistrationConfig {
                client_id: registration.client_id.clone(),
                client_secret_hash: None,
                client_secret: Some(registration.client_secret.clone()),
                owner: registration.owner.clone(),
                name: "Demo".to_owned(),
                expires_at: None,
            })
            .collect(),
        api_revision: crate::ApiRevision::default(),
    }
}

const DEVICES: [&str; 12] = [
    "WS-0042",
    "WS-0107",
    "WS-0233",
    "LT-HR-17",
    "LT-FIN-03",
    "SRV-DB-01",
    "SRV-APP-02",
    "SRV-FS-01",
    "PRN-3F-EAST",
    "KIOSK-LOBBY",
    "MAC-DESIGN-4",
    "WS-0311",
];
const SEGMENTS: [&str; 5] = ["HQ-LAN", "Branch-2-LAN", "DMZ", "Lab-VLAN-30", "Guest-WiFi"];
const CLOUD: [&str; 5] = [
    "aws:eu-west-1/prod-db",
    "azure:westeurope/vm-erp",
    "aws:us-east-1/s3-backups",
    "gcp:europe-west4/gke-main",
    "azure:northeurope/sql-crm",
];
/// The demo's schedules: name, kind, cron, target type, target, scope.
const SCHEDULES: [(&str, TaskKind, &str, TargetType, &str, &str); 3] = [
    (
        "Hourly LAN scan",
        TaskKind::Scan,
        "0 * * * *",
        TargetType::Segment,
        "HQ-LAN",
        "Segment HQ-LAN",
    ),
    (
        "Nightly cloud audit",
        TaskKind::Audit,
        "0 2 * * *",
        TargetType::CloudResource,
        "aws:eu-west-1/prod-db",
        "Cloud estate",
    ),
    (
        "Weekly server audit",
        TaskKind::Audit,
        "0 3 * * 0",
        TargetType::Device,
        "SRV-DB-01",
        "Datacenter servers",
    ),
];
const PEOPLE: [&str; 3] = [
    DEMO_ADMIN_EMAIL,
    "alice@demo.taskdeck.dev",
    "bob@demo.taskdeck.dev",
];

/// A plausible random task; a share of them come from `schedules`.
pub fn random_task(rng: &mut impl Rng, schedules: &[ObjectRef]) -> NewTask {
    let kind = if rng.random_bool(0.6) {
        TaskKind::Scan
    } else {
        TaskKind::Audit
    };
    let roll: f64 = rng.random();
    let (target_type, name, scope) = if roll < 0.6 {
        let device = *DEVICES.choose(rng).unwrap_or(&DEVICES[0]);
        let segment = *SEGMENTS.choose(rng).unwrap_or(&SEGMENTS[0]);
        (TargetType::Device, device, format!("Segment {segment}"))
    } else if roll < 0.85 {
        let segment = *SEGMENTS.choose(rng).unwrap_or(&SEGMENTS[0]);
        (TargetType::Segment, segment, format!("Segment {segment}"))
    } else {
        let resource = *CLOUD.choose(rng).unwrap_or(&CLOUD[0]);
        (
            TargetType::CloudResource,
            resource,
            "Cloud estate".to_owned(),
        )
    };
    let from_schedule = rng
        .random_bool(0.4)
        .then(|| schedules.choose(rng))
        .flatten();
    let (initiator, schedule) = if let Some(schedule) = from_schedule {
        (Initiator::Schedule, Some(schedule.clone()))
    } else {
        let email = *PEOPLE.choose(rng).unwrap_or(&PEOPLE[0]);
        (Initiator::User(email.to_owned()), None)
    };
    NewTask {
        kind,
        target: Target {
            target_type,
            name: name.to_owned(),
        },
        scope,
        initiator,
        schedule,
        simulate: None,
    }
}

/// The demo's generated traffic on one Site.
struct Traffic {
    state: AppState,
    site: std::sync::Arc<SiteRuntime>,
}

impl Traffic {
    async fn run(self, shutdown: CancellationToken) {
        let schedules = match self.schedules().await {
            Ok(schedules) => schedules,
            Err(error) => {
                tracing::warn!(%error, "demo schedules are missing");
                Vec::new()
            }
        };
        // A queue to look at from the first second (topped up, not doubled,
        // when the demo's data was kept from an earlier run). A fresh queue
        // starts with a scheduled scan of a Segment, so every filter of the
        // Active tasks list has something to show, not just most of them.
        let queued = self.queued().await;
        if queued == 0 {
            let mut task = random_task(&mut rand::rng(), &schedules);
            // The Hourly LAN scan: a Segment, as its schedule says.
            if let Some(schedule) = schedules.iter().find(|s| s.name.contains("LAN")) {
                task.kind = TaskKind::Scan;
                task.initiator = Initiator::Schedule;
                task.schedule = Some(schedule.clone());
                task.target = Target {
                    target_type: TargetType::Segment,
                    name: SEGMENTS[0].to_owned(),
                };
                task.scope = format!("Segment {}", SEGMENTS[0]);
            }
            self.queue(task).await;
        }
        for _ in queued.max(1)..SEED_QUEUE {
            self.add_task(&schedules).await;
        }
        loop {
            let pause = Duration::from_millis(rand::rng().random_range(1_500..4_500));
            tokio::select! {
                _ = tokio::time::sleep(pause) => {}
                _ = shutdown.cancelled() => return,
            }
            if self.queued().await < MAX_DEMO_QUEUE {
                self.add_task(&schedules).await;
            }
        }
    }

    /// The demo's schedules, created on its first run.
    async fn schedules(&self) -> Result<Vec<ObjectRef>, crate::AppError> {
        let pool = self.state.pool();
        let mut existing = schedules::list(pool, &self.site).await?;
        if existing.is_empty() {
            for (name, kind, cron, target_type, target, scope) in SCHEDULES {
                let draft = ScheduleCreate {
                    name: name.to_owned(),
                    kind,
                    cron: cron.to_owned(),
                    target: Target {
                        target_type,
                        name: target.to_owned(),
                    },
                    scope: scope.to_owned(),
                    enabled: true,
                };
                existing.push(schedules::insert(pool, &self.site, &draft).await?);
            }
        }
        Ok(existing
            .into_iter()
            .map(|schedule| ObjectRef {
                id: schedule.id,
                name: schedule.name,
            })
            .collect())
    }

    async fn add_task(&self, schedules: &[ObjectRef]) {
        let task = random_task(&mut rand::rng(), schedules);
        self.queue(task).await;
    }

    async fn queue(&self, task: NewTask) {
        if let Err(error) = lifecycle::create(self.state.pool(), &self.site, task).await {
            tracing::warn!(%error, "demo traffic could not queue a task");
        }
    }

    async fn queued(&self) -> u64 {
        monitor::queue_counts(self.state.pool(), &self.site)
            .await
            .map(|(queued, _)| queued)
            .unwrap_or(0)
    }
}
