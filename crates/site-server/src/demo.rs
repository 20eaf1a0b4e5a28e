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
const MAX_DEMO_QUEUE: u64 = 34;
/// The demo's traffic alternates: a busy spell, when tasks come faster
/// than the slots run them and the queue grows long, then a calm one,
/// when it drains.
const BUSY_SPELL: Duration = Duration::from_secs(8 * 60);
const CALM_SPELL: Duration = Duration::from_secs(6 * 60);
/// A task that runs long (past the demo's running-long limit) starts this
/// often, the first at once.
const LONG_TASK_EVERY: Duration = Duration::from_secs(20 * 60);
/// How long the demo's long task runs.
const LONG_TASK_RUNS: Duration = Duration::from_secs(9 * 60);
/// How far back the demo's history goes.
const HISTORY: i64 = 24 * 60 * 60;

/// Where and how to run the demo.
#[derive(Debug, Clone)]
pub struct DemoOptions {
    /// Address to listen on (port 0: a free port).
    pub listen: SocketAddr,
    /// Keep the data here; `None`: a temporary folder removed at stop.
    pub data_dir: Option<PathBuf>,
    /// Its app registrations (by default [`new_registrations`]): known
    /// before it starts, so a client can file its secret meanwhile. Their
    /// secrets must be random, as [`crate::new_client_secret`] makes them: they
    /// are hashed at argon2's lightest cost ([`crate::hash_random_secret`]).
    pub registrations: Vec<DemoRegistration>,
}

impl Default for DemoOptions {
    fn default() -> DemoOptions {
        DemoOptions {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            data_dir: None,
            registrations: new_registrations(),
        }
    }
}

impl DemoOptions {
    /// The registration whose owner has `role`.
    pub fn registration(&self, role: SiteRole) -> Option<&DemoRegistration> {
        registration_of(&self.registrations, role)
    }
}

/// The registration in `registrations` whose owner has `role`.
fn registration_of(
    registrations: &[DemoRegistration],
    role: SiteRole,
) -> Option<&DemoRegistration> {
    registrations.iter().find(|r| r.role == role)
}

/// Fresh credentials: a Site Administrator's registration and a Site
/// User's, each with a new id and secret.
pub fn new_registrations() -> Vec<DemoRegistration> {
    [
        (DEMO_ADMIN_EMAIL, SiteRole::SiteAdministrator),
        (DEMO_USER_EMAIL, SiteRole::SiteUser),
    ]
    .into_iter()
    .map(|(owner, role)| DemoRegistration {
        client_id: new_client_id(),
        client_secret: new_client_secret(),
        owner: owner.to_owned(),
        role,
    })
    .collect()
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
        registration_of(&self.registrations, role).unwrap_or(&self.registrations[0])
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
    let registrations = options.registrations;
    if registration_of(&registrations, SiteRole::SiteAdministrator).is_none() {
        return Err(StartError::InvalidConfig {
            path: "(demo)".into(),
            message: "the demo needs a Site Administrator's app registration".to_owned(),
        });
    }
    let config = demo_config(options.listen, data_dir, &registrations)?;
    let began = std::time::Instant::now();
    let server = crate::start(config).await?;
    let server_ready = began.elapsed();
    let site = server
        .state()
        .site(DEMO_SITE_ID)
        .cloned()
        .expect("the demo configuration has the demo Site");
    let traffic = Traffic {
        state: server.state().clone(),
        site,
    };
    // Its day and its first queue are there before anyone connects.
    let schedules = traffic.prepare().await;
    tracing::info!(
        server_ms = server_ready.as_millis() as u64,
        prepared_ms = (began.elapsed() - server_ready).as_millis() as u64,
        "the Demo Site is ready"
    );
    tokio::spawn(traffic.run(schedules, server.shutdown_token()));
    Ok(Demo {
        server,
        registrations,
        _temp_dir: temp_dir,
    })
}

/// The demo's configuration: one Site, two Audit Services, an admin and a
/// viewer, whose random secrets are hashed here at the lightest cost.
pub fn demo_config(
    listen: SocketAddr,
    data_dir: PathBuf,
    registrations: &[DemoRegistration],
) -> Result<Config, StartError> {
    let app_registrations = registrations
        .iter()
        .map(|registration| {
            Ok(AppRegistrationConfig {
                client_id: registration.client_id.clone(),
                client_secret_hash: Some(
                    crate::hash_random_secret(&registration.client_secret)
                        .map_err(StartError::Hash)?,
                ),
                client_secret: None,
                owner: registration.owner.clone(),
                name: "Demo".to_owned(),
                expires_at: None,
            })
        })
        .collect::<Result<_, StartError>>()?;
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
    Ok(Config {
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
            // Short, so that a new user sees both signals within minutes.
            queue_long_window: Duration::from_secs(3 * 60),
            running_long_after: Duration::from_secs(4 * 60),
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
        app_registrations,
        api_revision: crate::ApiRevision::default(),
    })
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
    /// The demo's schedules, its day of history (first run only) and a
    /// queue to look at from the first second, entered over the last
    /// minutes.
    async fn prepare(&self) -> Vec<ObjectRef> {
        let schedules = match self.schedules().await {
            Ok(schedules) => schedules,
            Err(error) => {
                tracing::warn!(%error, "demo schedules are missing");
                Vec::new()
            }
        };
        // A day behind it, on the first run: its logs and charts are full.
        if !self.has_history().await {
            let day = demo_day(crate::db::now().timestamp(), &mut rand::rng(), &schedules);
            let pool = self.state.pool();
            let began = std::time::Instant::now();
            match crate::history::day(pool, self.site.id(), &day.tasks, &day.samples).await {
                Ok(()) => tracing::info!(
                    tasks = day.tasks.len(),
                    ms = began.elapsed().as_millis() as u64,
                    "the demo's day of history is loaded"
                ),
                Err(error) => tracing::warn!(%error, "the demo's history could not be loaded"),
            }
        }
        // A queue to look at from the first second (topped up, not doubled,
        // when the demo's data was kept from an earlier run). A fresh queue
        // starts with the long audit, then a scheduled scan of a Segment, so
        // every filter of the Active tasks list has something to show.
        let queued = self.queued().await;
        if queued == 0 {
            // First, a task that will run long: the running-long signal
            // shows within minutes.
            let mut first = vec![long_task()];
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
            first.push(task);
            first.extend((1..SEED_QUEUE).map(|_| random_task(&mut rand::rng(), &schedules)));
            self.queue_all(first).await;
            self.spread_start_dates().await;
        } else {
            let more = (queued..SEED_QUEUE)
                .map(|_| random_task(&mut rand::rng(), &schedules))
                .collect();
            self.queue_all(more).await;
        }
        schedules
    }

    /// The first queue entered over the last ten minutes, not at one
    /// instant: the newest stays now, the others earlier, in their order.
    /// Only before anyone has connected (no client holds these dates).
    async fn spread_start_dates(&self) {
        let spread = sqlx::query(
            "UPDATE tasks SET start_date = start_date - (
                 SELECT COUNT(*) FROM tasks AS newer
                  WHERE newer.site_id = tasks.site_id AND newer.end_date IS NULL AND newer.seq > tasks.seq
             ) * 40
              WHERE site_id = $1 AND end_date IS NULL",
        )
        .bind(self.site.id())
        .execute(self.state.pool())
        .await;
        if let Err(error) = spread {
            tracing::warn!(%error, "the demo's first queue keeps one start date");
        }
    }

    async fn run(self, schedules: Vec<ObjectRef>, shutdown: CancellationToken) {
        let started = tokio::time::Instant::now();
        let mut last_long = started;
        loop {
            let into_cycle = started.elapsed().as_secs() % (BUSY_SPELL + CALM_SPELL).as_secs();
            let pause = match into_cycle < BUSY_SPELL.as_secs() {
                true => rand::rng().random_range(1_500..4_500),
                false => rand::rng().random_range(6_000..12_000),
            };
            tokio::select! {
                _ = tokio::time::sleep(Duration::from_millis(pause)) => {}
                _ = shutdown.cancelled() => return,
            }
            if last_long.elapsed() >= LONG_TASK_EVERY {
                last_long = tokio::time::Instant::now();
                self.queue(long_task()).await;
            } else if self.queued().await < MAX_DEMO_QUEUE {
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

    /// Queues `tasks` in one transaction (one commit, not one each: the
    /// app waits for the first queue before it shows its first rows).
    async fn queue_all(&self, tasks: Vec<NewTask>) {
        if let Err(error) = lifecycle::create_many(self.state.pool(), &self.site, tasks).await {
            tracing::warn!(%error, "the demo's first queue could not be queued");
        }
    }

    async fn queue(&self, task: NewTask) {
        if let Err(error) = lifecycle::create(self.state.pool(), &self.site, task).await {
            tracing::warn!(%error, "demo traffic could not queue a task");
        }
    }

    /// Whether the Site's logs hold anything (the data kept from a run before).
    async fn has_history(&self) -> bool {
        let ended: Result<Option<(i64,)>, _> = sqlx::query_as(
            "SELECT number FROM tasks WHERE site_id = $1 AND end_date IS NOT NULL LIMIT 1",
        )
        .bind(self.site.id())
        .fetch_optional(self.state.pool())
        .await;
        !matches!(ended, Ok(None))
    }

    async fn queued(&self) -> u64 {
        monitor::queue_counts(self.state.pool(), &self.site)
            .await
            .map(|(queued, _)| queued)
            .unwrap_or(0)
    }
}

/// The demo's long task: an audit of the ERP server that runs for minutes.
fn long_task() -> NewTask {
    NewTask {
        kind: TaskKind::Audit,
        target: Target {
            target_type: TargetType::Device,
            name: "SRV-APP-02".to_owned(),
        },
        scope: "Datacenter servers".to_owned(),
        initiator: Initiator::User(DEMO_ADMIN_EMAIL.to_owned()),
        schedule: None,
        simulate: Some(site_api::SimulateSpec {
            duration_ms: LONG_TASK_RUNS.as_millis() as u64,
            outcome: site_api::SimulatedOutcome::Finished,
            errors: 0,
        }),
    }
}

/// A day of a Site's life: its ended tasks and a queue sample per minute.
#[derive(Debug)]
pub struct DemoDay {
    /// The tasks that ended, in the order they entered the queue.
    pub tasks: Vec<crate::history::EndedTask>,
    /// `(minute, queued, running)`, one per minute of the day.
    pub samples: Vec<(i64, u64, u64)>,
}

/// Why a demo task failed: what its log row says.
const FAILURES: [&str; 6] = [
    "host unreachable: no answer on 445/tcp after 3 tries",
    "credentials rejected (Kerberos: KDC_ERR_PREAUTH_FAILED)",
    "inventory script ran over its 900 s timeout",
    "WMI query failed: the RPC server is unavailable",
    "SNMP v3 authentication failed",
    "cloud API answered 403: the audit role lacks ec2:DescribeInstances",
];

/// The demo Site's last 24 hours up to `now` (Unix seconds): the hourly
/// and nightly schedules' firings, people's ad-hoc tasks (more by day),
/// three bursts that made the queue long for a while, a few failures with
/// their errors and a few cancellations, run FIFO on the demo's six slots.
pub fn demo_day(now: i64, rng: &mut impl Rng, schedules: &[ObjectRef]) -> DemoDay {
    use crate::history::EndedTask;
    use site_api::TaskStatus;
    let from = now - HISTORY;
    let schedule = |part: &str| schedules.iter().find(|s| s.name.contains(part)).cloned();
    // Arrivals: (second, task).
    let mut arrivals: Vec<(i64, NewTask)> = Vec::new();
    let hourly = schedule("LAN");
    let mut hour = from - from.rem_euclid(3_600) + 3_600;
    while hour < now - 600 {
        let mut task = random_task(rng, &[]);
        task.kind = TaskKind::Scan;
        task.target = Target {
            target_type: TargetType::Segment,
            name: SEGMENTS[0].to_owned(),
        };
        task.scope = format!("Segment {}", SEGMENTS[0]);
        task.initiator = Initiator::Schedule;
        task.schedule = hourly.clone();
        arrivals.push((hour, task));
        // The nightly cloud audit, at 02:00 UTC.
        if hour.rem_euclid(86_400) == 2 * 3_600 {
            let mut audit = random_task(rng, &[]);
            audit.kind = TaskKind::Audit;
            audit.target = Target {
                target_type: TargetType::CloudResource,
                name: CLOUD[0].to_owned(),
            };
            audit.scope = "Cloud estate".to_owned();
            audit.initiator = Initiator::Schedule;
            audit.schedule = schedule("cloud");
            arrivals.push((hour, audit));
        }
        hour += 3_600;
    }
    // People, one every few minutes by day (07–19 UTC), fewer at night.
    let mut at = from;
    while at < now - 600 {
        let daytime = (7..19).contains(&(at.rem_euclid(86_400) / 3_600));
        at += match daytime {
            true => rng.random_range(60..300),
            false => rng.random_range(300..1_500),
        };
        arrivals.push((at, random_task(rng, &[])));
    }
    // Bursts: a Segment's devices scanned at once.
    for hours_ago in [20, 9, 3] {
        let start = now - hours_ago * 3_600 + rng.random_range(0..1_800);
        for i in 0..42 {
            let mut task = random_task(rng, &[]);
            task.kind = TaskKind::Scan;
            task.target = Target {
                target_type: TargetType::Device,
                name: DEVICES[i % DEVICES.len()].to_owned(),
            };
            arrivals.push((start + (i as i64) * 2, task));
        }
    }
    arrivals.sort_by_key(|(at, _)| *at);

    // FIFO on the slots: AS-1 has four, AS-2 two.
    let services = [
        ObjectRef {
            id: "as-1".to_owned(),
            name: "AS-1".to_owned(),
        },
        ObjectRef {
            id: "as-2".to_owned(),
            name: "AS-2".to_owned(),
        },
    ];
    let mut free_at: Vec<(i64, usize)> = vec![
        (from, 0),
        (from, 0),
        (from, 0),
        (from, 0),
        (from, 1),
        (from, 1),
    ];
    let mut tasks = Vec::with_capacity(arrivals.len());
    for (arrived, task) in arrivals {
        let initiator = match &task.initiator {
            Initiator::Schedule => "Schedule".to_owned(),
            Initiator::User(email) => email.clone(),
        };
        let roll: f64 = rng.random();
        // A few cancelled while still queued: no slot taken.
        if roll < 0.015 {
            tasks.push(EndedTask {
                kind: task.kind,
                target: task.target,
                scope: task.scope,
                initiator,
                schedule: task.schedule,
                status: TaskStatus::Cancelled,
                audit_service: None,
                start_date: arrived,
                running_since: None,
                end_date: arrived + rng.random_range(20..240),
                error_messages: Vec::new(),
                cancelled_by: Some(DEMO_ADMIN_EMAIL.to_owned()),
            });
            continue;
        }
        let slot = (0..free_at.len())
            .min_by_key(|&i| free_at[i].0)
            .unwrap_or(0);
        let began = free_at[slot].0.max(arrived);
        let runs = match task.kind {
            TaskKind::Scan => rng.random_range(30..240),
            TaskKind::Audit => rng.random_range(60..600),
        };
        let (status, ran, errors, cancelled_by) = if roll < 0.035 {
            (
                TaskStatus::Cancelled,
                runs / 3,
                Vec::new(),
                Some(DEMO_ADMIN_EMAIL.to_owned()),
            )
        } else if roll < 0.11 {
            let n = rng.random_range(1..4);
            let errors = (0..n)
                .map(|i| {
                    format!(
                        "{}: {}",
                        task.target.name,
                        FAILURES[(i + tasks.len()) % FAILURES.len()]
                    )
                })
                .collect();
            (TaskStatus::Failed, runs / 2, errors, None)
        } else {
            (TaskStatus::Finished, runs, Vec::new(), None)
        };
        let ended = began + ran.max(5);
        free_at[slot].0 = ended;
        if ended >= now - 30 {
            continue;
        }
        tasks.push(EndedTask {
            kind: task.kind,
            target: task.target,
            scope: task.scope,
            initiator,
            schedule: task.schedule,
            status,
            audit_service: Some(services[free_at[slot].1].clone()),
            start_date: arrived,
            running_since: Some(began),
            end_date: ended,
            error_messages: errors,
            cancelled_by,
        });
    }

    // What the queue held each minute.
    let first_minute = from / 60;
    let minutes = (HISTORY / 60) as usize;
    let mut queued = vec![0u64; minutes];
    let mut running = vec![0u64; minutes];
    for task in &tasks {
        let began = task.running_since.unwrap_or(task.end_date);
        let mark = |counts: &mut Vec<u64>, from: i64, until: i64| {
            let (a, b) = (
                from.div_euclid(60) - first_minute,
                until.div_euclid(60) - first_minute,
            );
            for minute in a.max(0)..b.min(minutes as i64) {
                counts[minute as usize] += 1;
            }
        };
        mark(&mut queued, task.start_date, began);
        mark(&mut running, began, task.end_date);
    }
    let samples = (0..minutes)
        .map(|i| (first_minute + i as i64, queued[i], running[i]))
        .collect();
    DemoDay { tasks, samples }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_demo_day_has_schedules_people_failures_cancellations_and_a_long_queue() {
        let now = 1_796_000_000;
        let schedules = [
            ObjectRef {
                id: "sch-1".to_owned(),
                name: "Hourly LAN scan".to_owned(),
            },
            ObjectRef {
                id: "sch-2".to_owned(),
                name: "Nightly cloud audit".to_owned(),
            },
        ];
        let day = demo_day(now, &mut rand::rng(), &schedules);
        let tasks = &day.tasks;
        assert!(tasks.len() > 300, "{} tasks", tasks.len());
        assert!(tasks
            .iter()
            .all(|t| t.end_date < now && t.end_date >= t.start_date));
        assert!(tasks.iter().all(|t| t.start_date >= now - HISTORY));
        let fired = tasks
            .iter()
            .filter(|t| t.schedule.as_ref().is_some_and(|s| s.id == "sch-1"))
            .count();
        assert!((20..=24).contains(&fired), "{fired} hourly firings");
        let failed: Vec<_> = tasks
            .iter()
            .filter(|t| t.status == site_api::TaskStatus::Failed)
            .collect();
        assert!(!failed.is_empty() && failed.iter().all(|t| !t.error_messages.is_empty()));
        let cancelled = tasks
            .iter()
            .filter(|t| t.status == site_api::TaskStatus::Cancelled)
            .count();
        assert!(cancelled > 0);
        assert!(tasks.iter().any(|t| t.initiator.contains('@')));
        // The bursts made the queue long (the demo's threshold is 25).
        assert_eq!(day.samples.len(), (HISTORY / 60) as usize);
        assert!(day.samples.iter().any(|(_, queued, _)| *queued >= 25));
        assert!(day.samples.iter().all(|(_, _, running)| *running <= 6));
    }
}
