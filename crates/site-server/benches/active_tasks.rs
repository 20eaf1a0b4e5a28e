//! Benchmark: `GET …/active-tasks` pages at 100,000 active tasks, over real
//! HTTP on loopback. Prints p50/p99 latencies; asserts nothing.
//!
//! `cargo bench -p taskdeck-site --bench active_tasks` (release build).

use std::time::{Duration, Instant};

use site_api::TokenResponse;

const N_TASKS: usize = 100_000;
/// Terminal rows (the logs) seeded behind the active tasks.
const N_LOG_ROWS: usize = 1_000_000;

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index]
}

async fn measure(http: &reqwest::Client, url: &str, token: &str, n: usize) -> (Duration, Duration) {
    let mut times = Vec::with_capacity(n);
    for _ in 0..n {
        let start = Instant::now();
        let response = http.get(url).bearer_auth(token).send().await.unwrap();
        assert!(
            response.status().is_success(),
            "{url}: {}",
            response.status()
        );
        let _ = response.bytes().await.unwrap();
        times.push(start.elapsed());
    }
    times.sort();
    (percentile(&times, 0.5), percentile(&times, 0.99))
}

/// This process's resident set, in KiB.
fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find_map(|line| line.strip_prefix("VmRSS:"))
                .and_then(|value| value.trim().trim_end_matches("kB").trim().parse().ok())
        })
        .unwrap_or(0)
}

/// Opens 50 event streams on Site `tp`, queues 50 tasks one by one and
/// prints the p50/p99 of creation-to-delivery over every subscriber.
async fn sse_latency(http: &reqwest::Client, base: &str, token: &str) {
    const SUBSCRIBERS: usize = 50;
    const TASKS: usize = 50;
    let (sender, mut receiver) = tokio::sync::mpsc::unbounded_channel::<(String, Instant)>();
    for _ in 0..SUBSCRIBERS {
        let mut response = http
            .get(format!("{base}/api/v1/sites/tp/events"))
            .bearer_auth(token)
            .send()
            .await
            .unwrap();
        let sender = sender.clone();
        tokio::spawn(async move {
            let mut buffer = String::new();
            while let Ok(Some(chunk)) = response.chunk().await {
                let now = Instant::now();
                buffer.push_str(&String::from_utf8_lossy(&chunk));
                while let Some(end) = buffer.find("\n\n") {
                    let block: String = buffer.drain(..end + 2).collect();
                    if let Some(data) = block.lines().find_map(|l| l.strip_prefix("data:")) {
                        if let Ok(task) = serde_json::from_str::<serde_json::Value>(data.trim()) {
                            if task["status"] == "queued" {
                                let _ = sender
                                    .send((task["id"].as_str().unwrap_or("").to_owned(), now));
                            }
                        }
                    }
                }
            }
        });
    }
    drop(sender);
    let mut created = std::collections::HashMap::new();
    for i in 0..TASKS {
        let body = serde_json::json!({
            "kind": "audit", "target": {"type": "device", "name": format!("SSE-{i}")}, "scope": "sse",
            "simulate": {"duration_ms": 10, "outcome": "finished"}
        });
        let start = Instant::now();
        let task: serde_json::Value = http
            .post(format!("{base}/api/v1/sites/tp/tasks"))
            .bearer_auth(token)
            .json(&body)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        created.insert(task["id"].as_str().unwrap().to_owned(), start);
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let mut latencies = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(30);
    while latencies.len() < SUBSCRIBERS * TASKS && Instant::now() < deadline {
        match tokio::time::timeout(Duration::from_secs(5), receiver.recv()).await {
            Ok(Some((id, at))) => {
                if let Some(start) = created.get(&id) {
                    latencies.push(at.duration_since(*start));
                }
            }
            _ => break,
        }
    }
    latencies.sort();
    println!(
        "SSE, {SUBSCRIBERS} subscribers: creation-to-delivery p50 {:.2} ms, p99 {:.2} ms ({} deliveries of {})",
        percentile(&latencies, 0.5).as_secs_f64() * 1e3,
        percentile(&latencies, 0.99).as_secs_f64() * 1e3,
        latencies.len(),
        SUBSCRIBERS * TASKS
    );
}

/// Whether the section `name` runs: all of them, or those named on the
/// command line (`cargo bench … -- throughput`).
fn wanted(name: &str) -> bool {
    let named: Vec<String> = std::env::args()
        .skip(1)
        .filter(|arg| !arg.starts_with("--"))
        .collect();
    named.is_empty() || named.iter().any(|arg| arg == name)
}

#[tokio::main]
async fn main() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let seed_start = Instant::now();
    taskdeck_site::seed::queued_tasks(&data, "hq", N_TASKS)
        .await
        .unwrap();
    if wanted("logs") {
        let pool = taskdeck_site::db::open(&data).await.unwrap();
        let mut tx = pool.begin().await.unwrap();
        let now = chrono::Utc::now().timestamp();
        // 1,000,000 Scan-log and Audit-log rows behind the active ones.
        for i in 0..N_LOG_ROWS {
            let kind = if i % 3 == 0 { "audit" } else { "scan" };
            let failed = i % 17 == 0;
            sqlx::query(
                "INSERT INTO tasks (site_id, kind, number, target_type, target_name, scope, initiator,
                                    status, start_date, end_date, errors, error_messages)
                 VALUES ('hq', ?, ?, 'device', ?, ?, 'Schedule', ?, ?, ?, ?, ?)",
            )
            .bind(kind)
            .bind((N_TASKS + i) as i64 + 1)
            .bind(format!("WS-{:05}", i % 20_000))
            .bind(format!("Segment {}", i % 50))
            .bind(if failed { "failed" } else { "finished" })
            .bind(now - 2 * (N_LOG_ROWS - i) as i64)
            .bind(now - 2 * (N_LOG_ROWS - i) as i64 + 1)
            .bind(i64::from(failed))
            .bind(if failed { r#"["connection refused"]"# } else { "[]" })
            .execute(&mut *tx)
            .await
            .unwrap();
        }
        sqlx::query("UPDATE task_numbers SET last = ? WHERE site_id = 'hq'")
            .bind((N_TASKS + N_LOG_ROWS) as i64)
            .execute(&mut *tx)
            .await
            .unwrap();
        tx.commit().await.unwrap();
        pool.close().await;
    }
    eprintln!(
        "seeded {N_TASKS} queued tasks (and the log rows, if wanted) in {:.1?}",
        seed_start.elapsed()
    );

    let config_text = format!(
        r#"
listen = "127.0.0.1:0"
data_dir = "{}"
mode = "test"
rate_limit_per_minute = 1000000

[[sites]]
id = "hq"
name = "Headquarters"

[[sites.audit_services]]
id = "as-1"
name = "AS-1"
slots = 4

[[sites]]
id = "tp"
name = "Throughput"

[[sites.audit_services]]
id = "as-tp"
name = "AS-TP"
slots = 16

[[users]]
email = "alice@example.com"
display_name = "Alice"
roles = {{ hq = "site_administrator", tp = "site_administrator" }}

[[app_registrations]]
client_id = "bench000000000000001"
client_secret = "bench"
owner = "alice@example.com"
name = "bench"
"#,
        data.display()
    );
    let config: taskdeck_site::Config = toml::from_str(&config_text).unwrap();
    let server = taskdeck_site::start(config).await.unwrap();
    let http = reqwest::Client::new();
    let token = http
        .post(format!("{}/api/oauth/token", server.url()))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", "bench000000000000001"),
            ("client_secret", "bench"),
        ])
        .send()
        .await
        .unwrap()
        .json::<TokenResponse>()
        .await
        .unwrap()
        .access_token;
    let base = format!("{}/api/v1/sites/hq/active-tasks", server.url());
    let cases = [
        (
            "page of 200, default order",
            format!("{base}?limit=200"),
            300,
        ),
        (
            "page of 200, q=ws-0042",
            format!("{base}?limit=200&q=ws-0042"),
            100,
        ),
        (
            "page of 200, sort=target asc",
            format!("{base}?limit=200&sort=target&order=asc"),
            100,
        ),
        (
            "page of 200, kind=audit",
            format!("{base}?limit=200&kind=audit"),
            100,
        ),
    ];
    if wanted("list") {
        // Warm up the caches once.
        measure(&http, &cases[0].1, &token, 20).await;
        println!("active-tasks at {N_TASKS} active tasks (release, loopback HTTP, sequential):");
        for (name, url, n) in cases {
            let (p50, p99) = measure(&http, &url, &token, n).await;
            println!(
                "  {name:<32} p50 {:>8.2} ms   p99 {:>8.2} ms   ({n} requests)",
                p50.as_secs_f64() * 1e3,
                p99.as_secs_f64() * 1e3
            );
        }

        println!(
        "process RSS (server, its SQLite cache and this client) at {N_TASKS} active tasks: {} MB",
        rss_kib() / 1024
    );
    }

    if wanted("logs") {
        let log_url = format!("{}/api/v1/sites/hq/scan-log", server.url());
        println!("scan-log with {N_LOG_ROWS} log rows (release, loopback HTTP, sequential):");
        for (name, url) in [
            ("page of 200, newest first", format!("{log_url}?limit=200")),
            (
                "page of 200, has_errors=true",
                format!("{log_url}?limit=200&has_errors=true"),
            ),
            (
                "page of 200, q=ws-0042",
                format!("{log_url}?limit=200&q=ws-0042"),
            ),
        ] {
            let (p50, p99) = measure(&http, &url, &token, 50).await;
            println!(
                "  {name:<32} p50 {:>8.2} ms   p99 {:>8.2} ms   (50 requests)",
                p50.as_secs_f64() * 1e3,
                p99.as_secs_f64() * 1e3
            );
        }
        println!(
            "process RSS at {N_TASKS} active tasks and {N_LOG_ROWS} log rows: {} MB",
            rss_kib() / 1024
        );
    }

    if wanted("sse") {
        // SSE: 50 subscribers; time from a task's creation to each delivery.
        sse_latency(&http, &server.url(), &token).await;
    }

    if wanted("cancel") {
        // Cancel of 500 ids in one call (queued scans of the 100,000).
        let cancel_url = format!("{base}/cancel");
        let scan_numbers: Vec<usize> = (1..=N_TASKS).filter(|n| (n - 1) % 3 != 0).collect();
        let mut times = Vec::new();
        for batch in scan_numbers.chunks(500).take(10) {
            let ids: Vec<String> = batch.iter().map(|n| format!("scan-{n}")).collect();
            let start = Instant::now();
            let response = http
                .post(&cancel_url)
                .bearer_auth(&token)
                .json(&serde_json::json!({ "tasks": ids }))
                .send()
                .await
                .unwrap();
            assert!(response.status().is_success());
            let _ = response.bytes().await.unwrap();
            times.push(start.elapsed());
        }
        times.sort();
        println!(
            "cancel of 500 ids in one call: p50 {:.2} ms, max {:.2} ms (10 calls)",
            percentile(&times, 0.5).as_secs_f64() * 1e3,
            times.last().unwrap().as_secs_f64() * 1e3
        );
    }

    if wanted("throughput") {
        // Lifecycle throughput: zero-duration simulated tasks, created by 8
        // clients at once, each queued -> running -> finished with its log row.
        const N_THROUGHPUT: usize = 2000;
        let tasks_url = format!("{}/api/v1/sites/tp/tasks", server.url());
        let start = Instant::now();
        let mut clients = Vec::new();
        for _ in 0..8 {
            let (http, url, token) = (http.clone(), tasks_url.clone(), token.clone());
            clients.push(tokio::spawn(async move {
            for i in 0..N_THROUGHPUT / 8 {
                let body = serde_json::json!({
                    "kind": "scan", "target": {"type": "device", "name": format!("TP-{i}")}, "scope": "tp",
                    "simulate": {"duration_ms": 0, "outcome": "finished"}
                });
                let response = http.post(&url).bearer_auth(&token).json(&body).send().await.unwrap();
                assert!(response.status().is_success());
            }
        }));
        }
        for client in clients {
            client.await.unwrap();
        }
        let active_url = format!("{}/api/v1/sites/tp/active-tasks?limit=1", server.url());
        loop {
            let page: serde_json::Value = http
                .get(&active_url)
                .bearer_auth(&token)
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            if page["total"] == 0 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        let elapsed = start.elapsed();
        println!(
        "lifecycle throughput: {N_THROUGHPUT} zero-duration tasks through queued -> running -> finished in {:.2?}: {:.0} tasks/s",
        elapsed,
        N_THROUGHPUT as f64 / elapsed.as_secs_f64()
    );

        // The same through the lifecycle API in-process: what the state
        // machine and SQLite sustain without HTTP and token checks.
        const N_IN_PROCESS: usize = 10_000;
        let state = server.state().clone();
        let site = state.site("tp").unwrap().clone();
        let start = Instant::now();
        let mut producers = Vec::new();
        for producer in 0..8 {
            let (pool, site) = (state.pool().clone(), site.clone());
            producers.push(tokio::spawn(async move {
                for i in 0..N_IN_PROCESS / 8 {
                    let new = taskdeck_site::lifecycle::NewTask {
                        kind: site_api::TaskKind::Scan,
                        target: site_api::Target {
                            target_type: site_api::TargetType::Device,
                            name: format!("IP-{producer}-{i}"),
                        },
                        scope: "in-process".to_owned(),
                        initiator: site_api::Initiator::User("alice@example.com".to_owned()),
                        schedule: None,
                        simulate: Some(site_api::SimulateSpec {
                            duration_ms: 0,
                            outcome: site_api::SimulatedOutcome::Finished,
                            errors: 0,
                        }),
                    };
                    taskdeck_site::lifecycle::create(&pool, &site, new)
                        .await
                        .unwrap();
                }
            }));
        }
        for producer in producers {
            producer.await.unwrap();
        }
        loop {
            let counters = taskdeck_site::monitor::counters(state.pool(), &site)
                .await
                .unwrap();
            if counters.queued + counters.running == 0 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        let elapsed = start.elapsed();
        println!(
            "lifecycle throughput in-process (no HTTP): {N_IN_PROCESS} zero-duration tasks in {:.2?}: {:.0} tasks/s",
            elapsed,
            N_IN_PROCESS as f64 / elapsed.as_secs_f64()
        );
    }
    server.stop().await;
}
