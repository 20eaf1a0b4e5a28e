//! Benchmark: SQLite against PostgreSQL in one run, release build, real
//! HTTP on loopback. Prints numbers; asserts nothing.
//!
//! - the Active tasks page (200 rows) at 100,000 active tasks: default
//!   order, another sort, a filter, a narrow and a broad search; p50 and
//!   p99 of 200 sequential requests;
//! - lifecycle throughput: zero-duration simulated tasks through
//!   queued -> running -> finished with their log rows, created in batches
//!   of 500 by 4 clients, until the queue is empty, on a Site whose one
//!   Audit Service has 64 slots and on one with 256; SQLite with its one
//!   server, PostgreSQL with one and with two servers on one database;
//! - event latency: a task created through server A until its `queued`
//!   event arrives on a stream of server B (PostgreSQL), beside the same
//!   on one server (both stores).
//!
//! `cargo xtask bench-stores` starts the PostgreSQL cluster and runs it;
//! by hand, `TASKDECK_TEST_POSTGRES=… cargo bench -p taskdeck-site --bench stores`.

use std::time::{Duration, Instant};

use taskdeck_site::config::Store;
use taskdeck_site::RunningServer;
use taskdeck_testing::measure::percentile;

mod support;

const N_TASKS: usize = 100_000;
const PAGE_REQUESTS: usize = 200;
const N_THROUGHPUT: usize = 20_000;
const N_LATENCY: usize = 200;
/// The Sites whose lifecycle throughput is measured: one Audit Service
/// each, with this many slots.
const THROUGHPUT_SITES: [(&str, u32); 2] = [("tp", 64), ("tp-wide", 256)];

fn config(store: &Store) -> taskdeck_site::Config {
    let store_line = match store {
        Store::Sqlite(dir) => format!("data_dir = {:?}", dir.display().to_string()),
        Store::Postgres(url) => format!("database_url = {url:?}"),
    };
    let text = format!(
        r#"
listen = "127.0.0.1:0"
{store_line}
mode = "test"
rate_limit_per_minute = 100000000

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
slots = 64

[[sites]]
id = "tp-wide"
name = "Throughput, wide"

[[sites.audit_services]]
id = "as-tp-wide"
name = "AS-TP-Wide"
slots = 256

[[users]]
email = "alice@example.com"
display_name = "Alice"
roles = {{ hq = "site_administrator", tp = "site_administrator", tp-wide = "site_administrator" }}

[[app_registrations]]
client_id = "{client_id}"
client_secret = "{client_secret}"
owner = "alice@example.com"
name = "bench"
"#,
        client_id = support::CLIENT_ID,
        client_secret = support::CLIENT_SECRET,
    );
    toml::from_str(&text).unwrap()
}

fn ms(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1000.0
}

/// Tasks a second through the whole lifecycle on Site `site`, the batches
/// spread over `servers` round robin, until none is active.
async fn throughput(
    http: &reqwest::Client,
    servers: &[&RunningServer],
    site: &str,
    token: &str,
) -> f64 {
    const CLIENTS: usize = 4;
    let start = Instant::now();
    let clients: Vec<_> = (0..CLIENTS)
        .map(|client| {
            let (http, token) = (http.clone(), token.to_owned());
            let urls: Vec<String> = servers
                .iter()
                .map(|s| format!("{}/api/v1/sites/{site}/tasks/batch", s.url()))
                .collect();
            tokio::spawn(async move {
                for batch in 0..N_THROUGHPUT / CLIENTS / 500 {
                    let tasks: Vec<serde_json::Value> = (0..500)
                        .map(|i| {
                            support::zero_duration(
                                client * N_THROUGHPUT + batch * 500 + i,
                                "throughput",
                            )
                        })
                        .collect();
                    let url = &urls[(client + batch) % urls.len()];
                    let response = http
                        .post(url)
                        .bearer_auth(&token)
                        .json(&serde_json::json!({ "tasks": tasks }))
                        .send()
                        .await
                        .unwrap();
                    assert!(response.status().is_success(), "{}", response.status());
                }
            })
        })
        .collect();
    for client in clients {
        client.await.unwrap();
    }
    let active_url = format!(
        "{}/api/v1/sites/{site}/active-tasks?limit=1",
        servers[0].url()
    );
    loop {
        let page: serde_json::Value = http
            .get(&active_url)
            .bearer_auth(token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        if page["total"] == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    N_THROUGHPUT as f64 / start.elapsed().as_secs_f64()
}

/// p50 and p99 from a create through `writer` until its `queued` event
/// arrives on a stream of `reader` (Site `hq`), one task at a time.
async fn event_latency(
    http: &reqwest::Client,
    writer: &RunningServer,
    reader: &RunningServer,
    token: &str,
) -> (Duration, Duration) {
    let mut stream = http
        .get(format!("{}/api/v1/sites/hq/events", reader.url()))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    let mut buffer = String::new();
    let mut times = Vec::with_capacity(N_LATENCY);
    let url = format!("{}/api/v1/sites/hq/tasks", writer.url());
    for i in 0..N_LATENCY {
        let start = Instant::now();
        let created: serde_json::Value = http
            .post(&url)
            .bearer_auth(token)
            .json(&serde_json::json!({
                "kind": "scan", "target": {"type": "device", "name": format!("LAT-{i}")},
                "scope": "latency", "simulate": {"duration_ms": 3_600_000, "outcome": "finished"}
            }))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let id = created["id"].as_str().unwrap().to_owned();
        'wait: loop {
            while let Some(end) = buffer.find("\n\n") {
                let block: String = buffer.drain(..end + 2).collect();
                if let Some(data) = block.lines().find_map(|l| l.strip_prefix("data:")) {
                    let event: serde_json::Value =
                        serde_json::from_str(data.trim()).unwrap_or_default();
                    if event["id"] == id.as_str() && event["status"] == "queued" {
                        times.push(start.elapsed());
                        break 'wait;
                    }
                }
            }
            let chunk = tokio::time::timeout(Duration::from_secs(10), stream.chunk())
                .await
                .expect("an event within 10 s")
                .unwrap()
                .expect("the stream stays open");
            buffer.push_str(&String::from_utf8_lossy(&chunk));
        }
    }
    times.sort();
    (percentile(&times, 0.5), percentile(&times, 0.99))
}

/// Runs every measurement on one store; `second` is another server on the
/// same database (PostgreSQL).
async fn bench_store(name: &str, store: &Store, two_servers: bool) {
    let seeded = Instant::now();
    taskdeck_site::seed::queued_tasks_in(store, "hq", N_TASKS)
        .await
        .unwrap();
    eprintln!(
        "{name}: seeded {N_TASKS} queued tasks in {:.1?}",
        seeded.elapsed()
    );
    let a = taskdeck_site::start(config(store)).await.unwrap();
    let http = reqwest::Client::new();
    let token = support::token(&http, &a.url()).await;
    let base = format!("{}/api/v1/sites/hq/active-tasks?limit=200", a.url());
    support::sequential_gets(&http, &base, &token, PAGE_REQUESTS).await; // warm-up
    println!("{name}: Active tasks page of 200 at {N_TASKS} active tasks ({PAGE_REQUESTS} sequential requests):");
    for (label, query) in [
        ("default order (newest first)", ""),
        ("sort=target&order=asc", "&sort=target&order=asc"),
        ("scope=Segment 7", "&scope=Segment%207"),
        ("q=WS-0004 (search, 50 rows)", "&q=WS-0004"),
        ("q=Segment 1 (search, broad)", "&q=Segment%201"),
    ] {
        let (p50, p99) =
            support::sequential_gets(&http, &format!("{base}{query}"), &token, PAGE_REQUESTS).await;
        println!(
            "  {label:<30} p50 {:>6.2} ms   p99 {:>6.2} ms",
            ms(p50),
            ms(p99)
        );
    }
    for (site, slots) in THROUGHPUT_SITES {
        let one = throughput(&http, &[&a], site, &token).await;
        println!("{name}: lifecycle throughput, one server, {slots} slots, batches of 500 from 4 clients, {N_THROUGHPUT} tasks: {one:.0} tasks/s");
    }
    let (p50, p99) = event_latency(&http, &a, &a, &token).await;
    println!(
        "{name}: event latency, create -> queued event, one server ({N_LATENCY}): p50 {:.2} ms, p99 {:.2} ms",
        ms(p50),
        ms(p99)
    );
    if two_servers {
        let b = taskdeck_site::start(config(store)).await.unwrap();
        for (site, slots) in THROUGHPUT_SITES {
            let two = throughput(&http, &[&a, &b], site, &token).await;
            println!("{name}: lifecycle throughput, two servers, {slots} slots, batches of 500 from 4 clients, {N_THROUGHPUT} tasks: {two:.0} tasks/s");
        }
        let (p50, p99) = event_latency(&http, &a, &b, &token).await;
        println!(
            "{name}: event latency, create on A -> queued event on B ({N_LATENCY}): p50 {:.2} ms, p99 {:.2} ms",
            ms(p50),
            ms(p99)
        );
        b.stop().await;
    }
    a.stop().await;
}

#[tokio::main]
async fn main() {
    let dir = tempfile::tempdir().unwrap();
    bench_store("SQLite", &Store::Sqlite(dir.path().join("sqlite")), false).await;
    let url = taskdeck_testing::postgres::database_for(&dir.path().join("postgres"));
    bench_store("PostgreSQL", &Store::Postgres(url), true).await;
}
