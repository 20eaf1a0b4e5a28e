//! Benchmark: how fast the desktop backend hears of a Site's changes, and
//! what following five Sites costs in memory. Prints numbers; asserts nothing.
//!
//! `cargo bench -p taskdeck --bench live` (release build). Each Site server
//! runs in its own process (this binary, re-run with `--serve DIR`), so
//! the memory figure is the backend's alone: Site clients, followers, their
//! live lists and event streams, and the async runtime.

use std::path::Path;
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use site_api::{CreateTaskRequest, SimulateSpec, SimulatedOutcome, Target, TargetType, TaskKind};
use taskdeck_app::live::failures::{FailureNotice, NotifySettings};
use taskdeck_app::live::follow::{Follower, LiveSink};
use taskdeck_app::live::list::LiveList;
use taskdeck_app::site_client::{SecretSource, SiteClient};
use taskdeck_app::Error;
use taskdeck_ipc::LinkState;
use taskdeck_testing::measure::percentile;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

#[path = "../tests/support/mod.rs"]
mod support;
use support::{ADMIN_ID, ADMIN_SECRET};

const SITES: usize = 5;

/// Child mode: serve one Site with its data in `dir` and print its URL.
/// (The child hashes the secret: argon2's 19 MiB stay out of the backend.)
async fn serve(dir: &str) {
    let config = support::config(&Path::new(dir).join("data"), "127.0.0.1:0", 8);
    let server = taskdeck_site::start(config).await.unwrap();
    println!("{}", server.url());
    std::future::pending::<()>().await;
}

/// Starts a Site server process; returns it and its URL.
fn spawn_site(dir: &Path) -> (std::process::Child, String) {
    use std::io::BufRead;
    let mut child = std::process::Command::new(std::env::current_exe().unwrap())
        .arg("--serve")
        .arg(dir)
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    std::io::BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    (child, line.trim().to_owned())
}

/// Records when the follower reported what.
#[derive(Clone)]
struct Timings {
    tasks: mpsc::UnboundedSender<(site_api::TaskId, site_api::TaskStatus, Instant)>,
    failures: mpsc::UnboundedSender<(site_api::TaskId, Instant)>,
    live: Arc<Mutex<bool>>,
}

impl LiveSink for Timings {
    fn list_changed(&self, _site_id: &str, _list: &LiveList) {}
    fn tasks_changed(&self, _site_id: &str, tasks: Vec<site_api::Task>) {
        let now = Instant::now();
        for task in tasks {
            let _ = self.tasks.send((task.id, task.status, now));
        }
    }
    fn audit_service(&self, _site_id: &str, _service: site_api::AuditService) {}
    fn signal(&self, _site_id: &str, _signal: site_api::Signal) {}
    fn failure(&self, notice: FailureNotice) {
        let _ = self.failures.send((notice.task, Instant::now()));
    }
    fn link(&self, _site_id: &str, state: LinkState) {
        *self.live.lock().unwrap() = state == LinkState::Live;
    }
    fn error(&self, _site_id: &str, _error: Option<&Error>) {}
}

fn request(name: String, outcome: SimulatedOutcome) -> CreateTaskRequest {
    CreateTaskRequest {
        kind: TaskKind::Scan,
        target: Target {
            target_type: TargetType::Device,
            name,
        },
        scope: "bench".to_owned(),
        simulate: Some(SimulateSpec {
            duration_ms: 0,
            outcome,
            errors: 1,
        }),
    }
}

fn print(what: &str, mut samples: Vec<Duration>) {
    samples.sort();
    println!(
        "{what}: p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms ({} samples)",
        percentile(&samples, 0.5).as_secs_f64() * 1e3,
        percentile(&samples, 0.99).as_secs_f64() * 1e3,
        samples.last().unwrap().as_secs_f64() * 1e3,
        samples.len()
    );
}

/// This process's resident set, in KiB.
fn rss_kib() -> u64 {
    taskdeck_testing::measure::rss_kib(std::process::id())
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(position) = args.iter().position(|arg| arg == "--serve") {
        serve(&args[position + 1]).await;
        return;
    }
    let dirs: Vec<tempfile::TempDir> = (0..SITES).map(|_| tempfile::tempdir().unwrap()).collect();
    let mut children = Vec::new();
    let mut clients = Vec::new();
    for dir in &dirs {
        let (child, url) = spawn_site(dir.path());
        children.push(child);
        clients.push(Arc::new(
            SiteClient::new(
                url.parse().unwrap(),
                ADMIN_ID.to_owned(),
                SecretSource::Memory(ADMIN_SECRET.to_owned()),
                None,
            )
            .unwrap(),
        ));
    }
    let rss_before = rss_kib();
    let stop = CancellationToken::new();
    let (tasks_tx, mut tasks) = mpsc::unbounded_channel();
    let (failures_tx, mut failures) = mpsc::unbounded_channel();
    let mut lives = Vec::new();
    for client in &clients {
        let live = Arc::new(Mutex::new(false));
        lives.push(live.clone());
        let follower = Follower {
            client: client.clone(),
            site_id: "hq".to_owned(),
            me: "alice@example.com".to_owned(),
            settings: Arc::new(RwLock::new(NotifySettings::default())),
            attention: Arc::default(),
            sink: Timings {
                tasks: tasks_tx.clone(),
                failures: failures_tx.clone(),
                live,
            },
        };
        tokio::spawn(follower.run(stop.clone()));
    }
    while !lives.iter().all(|live| *live.lock().unwrap()) {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    // Server event -> follower report, for a task's creation (its `queued` event).
    let site = &clients[0];
    let mut delivery = Vec::new();
    for i in 0..100 {
        while tasks.try_recv().is_ok() {}
        let start = Instant::now();
        let created = site
            .create_task("hq", &request(format!("EV-{i}"), SimulatedOutcome::Hang))
            .await
            .unwrap();
        loop {
            let (id, status, at) = tasks.recv().await.unwrap();
            if id == created.id && status == site_api::TaskStatus::Queued {
                delivery.push(at - start);
                break;
            }
        }
        site.cancel_tasks("hq", vec![created.id]).await.unwrap();
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    print(
        "server event -> backend report (SSE, from just before the creating POST)",
        delivery,
    );

    // A failure on the server -> the notification call.
    let mut notified = Vec::new();
    for i in 0..50 {
        let start = Instant::now();
        let created = site
            .create_task(
                "hq",
                &request(format!("FAIL-{i}"), SimulatedOutcome::Failed),
            )
            .await
            .unwrap();
        loop {
            let (id, at) = failures.recv().await.unwrap();
            if id == created.id {
                notified.push(at - start);
                break;
            }
        }
    }
    print(
        "failure on the server -> notification call (SSE, from just before the creating POST of a 0 ms failing task)",
        notified,
    );

    // Five Sites streaming: traffic on each for 30 s, then the RSS.
    let traffic_stop = CancellationToken::new();
    for (n, client) in clients.iter().enumerate() {
        let (client, traffic_stop) = (client.clone(), traffic_stop.clone());
        tokio::spawn(async move {
            let mut i = 0;
            while !traffic_stop.is_cancelled() {
                i += 1;
                let outcome = if i % 10 == 0 {
                    SimulatedOutcome::Failed
                } else {
                    SimulatedOutcome::Finished
                };
                let _ = client
                    .create_task("hq", &request(format!("S{n}-{i}"), outcome))
                    .await;
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        });
    }
    let drain = tokio::spawn(async move {
        loop {
            tokio::select! {
                Some(_) = tasks.recv() => {}
                Some(_) = failures.recv() => {}
                else => break,
            }
        }
    });
    tokio::time::sleep(Duration::from_secs(30)).await;
    println!(
        "backend RSS following {SITES} Sites, each streaming ~10 tasks/s for 30 s: {} MB ({} MB before the followers started)",
        rss_kib() / 1024,
        rss_before / 1024
    );
    traffic_stop.cancel();
    stop.cancel();
    drain.abort();
    for mut child in children {
        let _ = child.kill();
        let _ = child.wait();
    }
}
