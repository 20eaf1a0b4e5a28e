//! Benchmark: a remote Audit Service end to end — the real agent binary
//! (release) against a Site server in this process, over loopback HTTP.
//! Prints figures; asserts nothing.
//!
//! `cargo bench -p taskdeck-audit-service --bench agent`
//!
//! - handoff: a slot freed (the program exited) → the next task's program
//!   running, from the programs' own clock (it includes bash starting);
//! - cancel: the cancel call returned → the program's process gone;
//! - throughput: one agent, 64 slots, programs that do nothing (`true`);
//! - agent RSS idle and with 64 programs running.

use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};
use taskdeck_testing::measure::{percentile, rss_kib};

use serde_json::{json, Value};
use tokio::io::{AsyncBufReadExt, BufReader};

const ADMIN_ID: &str = "01234567890123456789";
const ADMIN_SECRET: &str = "bench-admin-secret";
const AGENT_SECRET: &str = "bench-agent-secret";

/// Records its start and end (ns) and its pid, then does what its target says.
const SCRIPT: &str = r#"#!/bin/bash
echo "start $(date +%s%N)" >> "$(dirname "$0")/times/$1"
echo $$ > "$(dirname "$0")/pids/$1"
case "$2" in
  sleep) exec sleep 60 ;;
esac
echo "end $(date +%s%N)" >> "$(dirname "$0")/times/$1"
"#;

struct Bench {
    dir: tempfile::TempDir,
    url: String,
    http: reqwest::Client,
    token: String,
    _server: taskdeck_site::RunningServer,
}

impl Bench {
    async fn start(slots: u32) -> Bench {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("times")).unwrap();
        std::fs::create_dir(dir.path().join("pids")).unwrap();
        let script = dir.path().join("task.sh");
        std::fs::write(&script, SCRIPT).unwrap();
        std::fs::set_permissions(&script, std::os::unix::fs::PermissionsExt::from_mode(0o755))
            .unwrap();
        let config = format!(
            r#"listen = "127.0.0.1:0"
data_dir = "data"
mode = "test"
rate_limit_per_minute = 1000000

[[sites]]
id = "hq"
name = "Headquarters"

[[sites.audit_services]]
id = "as-bench"
name = "AS-Bench"
slots = {slots}
runner = "remote"
agent_secret = "{AGENT_SECRET}"

[[users]]
email = "alice@example.com"
display_name = "Alice"
roles = {{ hq = "site_administrator" }}

[[app_registrations]]
client_id = "{ADMIN_ID}"
client_secret = "{ADMIN_SECRET}"
owner = "alice@example.com"
name = "Bench"
"#
        );
        let path = dir.path().join("site.toml");
        std::fs::write(&path, config).unwrap();
        std::fs::write(dir.path().join("secret"), AGENT_SECRET).unwrap();
        let server = taskdeck_site::start(taskdeck_site::Config::load(&path).unwrap())
            .await
            .unwrap();
        let url = server.url();
        let http = reqwest::Client::new();
        let token: Value = http
            .post(format!("{url}/api/oauth/token"))
            .form(&[
                ("grant_type", "client_credentials"),
                ("client_id", ADMIN_ID),
                ("client_secret", ADMIN_SECRET),
            ])
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        Bench {
            dir,
            url,
            http,
            token: token["access_token"].as_str().unwrap().to_owned(),
            _server: server,
        }
    }

    /// The agent running `program` for each task, once connected.
    async fn agent(&self, program: &[&str]) -> tokio::process::Child {
        let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_taskdeck-audit-service"))
            .args([
                "--server",
                &self.url,
                "--site",
                "hq",
                "--service",
                "as-bench",
            ])
            .arg("--secret-file")
            .arg(self.dir.path().join("secret"))
            .arg("--")
            .args(program)
            .env("RUST_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let line = BufReader::new(stdout).lines().next_line().await.unwrap();
        assert!(line.is_some_and(|l| l.starts_with("connected to")));
        child
    }

    async fn post(&self, path: &str, body: Value) -> Value {
        self.http
            .post(format!("{}/api/v1/sites/hq{path}", self.url))
            .bearer_auth(&self.token)
            .json(&body)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }

    async fn get(&self, path: &str) -> Value {
        self.http
            .get(format!("{}/api/v1/sites/hq{path}", self.url))
            .bearer_auth(&self.token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }

    /// Queues `n` scans of `target`, 500 a batch: their ids.
    async fn queue(&self, target: &str, n: usize) -> Vec<String> {
        let mut ids = Vec::with_capacity(n);
        for chunk in (0..n).collect::<Vec<_>>().chunks(500) {
            let tasks: Vec<Value> = chunk
                .iter()
                .map(|_| json!({"kind": "scan", "target": {"type": "device", "name": target}, "scope": "s"}))
                .collect();
            let created = self.post("/tasks/batch", json!({ "tasks": tasks })).await;
            ids.extend(
                created["tasks"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|t| t["id"].as_str().unwrap().to_owned()),
            );
        }
        ids
    }

    /// Active tasks (queued and running) now.
    async fn active(&self) -> u64 {
        self.get("/active-tasks?limit=1").await["total"]
            .as_u64()
            .unwrap()
    }

    async fn running(&self) -> u64 {
        self.get("/active-tasks?limit=1&status=running").await["total"]
            .as_u64()
            .unwrap()
    }

    async fn wait_until_idle(&self) {
        while self.active().await > 0 {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }

    fn times(&self, id: &str) -> (u128, u128) {
        let text = std::fs::read_to_string(self.dir.path().join("times").join(id)).unwrap();
        let mut start = 0;
        let mut end = 0;
        for line in text.lines() {
            let (what, at) = line.split_once(' ').unwrap();
            match what {
                "start" => start = at.parse().unwrap(),
                _ => end = at.parse().unwrap(),
            }
        }
        (start, end)
    }

    fn pid(&self, id: &str) -> Option<i32> {
        std::fs::read_to_string(self.dir.path().join("pids").join(id))
            .ok()?
            .trim()
            .parse()
            .ok()
    }
}

fn report(what: &str, mut times: Vec<Duration>) {
    times.sort();
    println!(
        "{what}: n={} p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
        times.len(),
        percentile(&times, 0.5).as_secs_f64() * 1e3,
        percentile(&times, 0.99).as_secs_f64() * 1e3,
        times.last().unwrap().as_secs_f64() * 1e3
    );
}

fn alive(pid: i32) -> bool {
    Path::new(&format!("/proc/{pid}")).exists()
        && !std::fs::read_to_string(format!("/proc/{pid}/stat"))
            .unwrap_or_default()
            .rsplit_once(')')
            .is_some_and(|(_, rest)| rest.trim_start().starts_with('Z'))
}

async fn handoff() {
    let bench = Bench::start(1).await;
    let script = bench.dir.path().join("task.sh");
    let script = script.to_str().unwrap();
    let _agent = bench.agent(&[script, "{id}", "{target}"]).await;
    let ids = bench.queue("quick", 300).await;
    bench.wait_until_idle().await;
    let times: Vec<(u128, u128)> = ids.iter().map(|id| bench.times(id)).collect();
    let gaps = times
        .windows(2)
        .map(|pair| Duration::from_nanos((pair[1].0.saturating_sub(pair[0].1)) as u64))
        .collect();
    report(
        "slot freed -> next remote task's program running (1 slot)",
        gaps,
    );
}

async fn cancel() {
    let bench = Bench::start(1).await;
    let script = bench.dir.path().join("task.sh");
    let script = script.to_str().unwrap();
    let _agent = bench.agent(&[script, "{id}", "{target}"]).await;
    let mut times = Vec::new();
    for _ in 0..50 {
        let id = bench.queue("sleep", 1).await.remove(0);
        let pid = loop {
            if let Some(pid) = bench.pid(&id) {
                break pid;
            }
            tokio::time::sleep(Duration::from_millis(2)).await;
        };
        bench
            .post("/active-tasks/cancel", json!({ "tasks": [id] }))
            .await;
        let returned = Instant::now();
        while alive(pid) {
            tokio::time::sleep(Duration::from_micros(500)).await;
        }
        times.push(returned.elapsed());
        // The slot is free once the agent has seen the program end.
        while bench.running().await > 0 {
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
    }
    report("cancel returned -> the program's process gone", times);
}

async fn throughput_and_memory() {
    const N: usize = 5_000;
    let bench = Bench::start(64).await;
    let agent = bench.agent(&["true"]).await;
    let pid = agent.id().unwrap();
    tokio::time::sleep(Duration::from_secs(2)).await;
    println!("agent RSS idle: {:.1} MB", rss_kib(pid) as f64 / 1024.0);
    // Warm up, then time N tasks queued at once.
    bench.queue("warm", 200).await;
    bench.wait_until_idle().await;
    let started = Instant::now();
    bench.queue("quick", N).await;
    bench.wait_until_idle().await;
    let elapsed = started.elapsed();
    println!(
        "throughput, 64 slots, `true`: {N} tasks in {:.2} s = {:.0} tasks/s (queueing included)",
        elapsed.as_secs_f64(),
        N as f64 / elapsed.as_secs_f64()
    );
    // A clean stop closes the lease, so the next agent may take the service.
    stop(agent).await;
    let sleeper = bench.agent(&["sleep", "30"]).await;
    let pid = sleeper.id().unwrap();
    bench.queue("sleep", 64).await;
    while bench.running().await < 64 {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    tokio::time::sleep(Duration::from_secs(1)).await;
    println!(
        "agent RSS with 64 programs running: {:.1} MB",
        rss_kib(pid) as f64 / 1024.0
    );
}

async fn stop(mut agent: tokio::process::Child) {
    // SAFETY: kill has no memory effects.
    unsafe {
        libc::kill(agent.id().unwrap() as i32, libc::SIGTERM);
    }
    agent.wait().await.unwrap();
}

fn main() {
    let filter: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    let wanted = |name: &str| filter.is_empty() || filter.iter().any(|f| name.contains(f.as_str()));
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        if wanted("handoff") {
            handoff().await;
        }
        if wanted("cancel") {
            cancel().await;
        }
        if wanted("throughput") {
            throughput_and_memory().await;
        }
    });
}
