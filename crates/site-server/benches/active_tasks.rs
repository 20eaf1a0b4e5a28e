//! Benchmark: `GET …/active-tasks` pages at 100,000 active tasks, over real
//! HTTP on loopback. Prints p50/p99 latencies; asserts nothing.
//!
//! `cargo bench -p taskdeck-site --bench active_tasks` (release build).

use std::time::{Duration, Instant};

use taskdeck_testing::measure::percentile;

mod support;

const N_TASKS: usize = 100_000;
/// Terminal rows (the logs) seeded behind the active tasks.
const N_LOG_ROWS: usize = 1_000_000;

/// This process's resident set, in KiB.
fn rss_kib() -> u64 {
    taskdeck_testing::measure::rss_kib(std::process::id())
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
        let pool = taskdeck_site::db::open_sqlite(&data).await.unwrap();
        let mut tx = pool.begin().await.unwrap();
        let now = chrono::Utc::now().timestamp();
        // 1,000,000 Scan-log and Audit-log rows behind the active ones.
        for i in 0..N_LOG_ROWS {
            let kind = if i % 3 == 0 { "audit" } else { "scan" };
            let failed = i % 17 == 0;
            sqlx::query(
                "INSERT INTO tasks (site_id, kind, number, target_type, target_name, scope, initiator,
                                    status, start_date, end_date, errors, error_messages)
                 VALUES ('hq', $1, $2, 'device', $3, $4, 'Schedule', $5, $6, $7, $8, $9)",
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
        sqlx::query("UPDATE task_numbers SET last = $1 WHERE site_id = 'hq'")
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
slots = 64

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
    let token = support::token(&http, &server.url()).await;
    let base = format!("{}/api/v1/sites/hq/active-tasks", server.url());
    let since = (chrono::Utc::now() - chrono::Duration::hours(1))
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let until = (chrono::Utc::now() - chrono::Duration::hours(2))
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let mut cases: Vec<(String, String)> = vec![("default order".into(), String::new())];
    for sort in [
        "start_date",
        "task",
        "target",
        "scope",
        "initiator",
        "status",
    ] {
        for order in ["asc", "desc"] {
            cases.push((
                format!("sort={sort}&order={order}"),
                format!("sort={sort}&order={order}"),
            ));
        }
    }
    for filter in [
        "kind=audit".to_owned(),
        "status=queued".to_owned(),
        "status=running".to_owned(),
        "scope=Segment%207".to_owned(),
        "initiator=user7@example.com".to_owned(),
        "initiator=Schedule".to_owned(),
        "target_type=segment".to_owned(),
        "target_type=cloud_resource".to_owned(),
        "audit_service=as-1".to_owned(),
        format!("since={since}"),
        format!("since={until}&until={since}"),
        "q=ws-0042".to_owned(),
        "q=ws-".to_owned(),
        // Common combinations: a filter with another sort, two filters.
        "kind=audit&sort=target&order=asc".to_owned(),
        "scope=Segment%207&sort=initiator".to_owned(),
        "initiator=Schedule&kind=scan&sort=status".to_owned(),
        format!("since={since}&sort=scope&order=asc"),
        "target_type=cloud_resource&sort=task".to_owned(),
    ] {
        cases.push((filter.replace("%20", " "), filter));
    }
    if wanted("list") {
        // Warm up the caches once.
        support::sequential_gets(&http, &format!("{base}?limit=200"), &token, 20).await;
        println!("active-tasks, page of 200, at {N_TASKS} active tasks (release, loopback HTTP, sequential, 100 requests each):");
        println!(
            "  {:<44} {:>9} {:>9} {:>8}",
            "query", "p50 ms", "p99 ms", "total"
        );
        for (name, query) in &cases {
            let url = format!("{base}?limit=200&{query}");
            let (p50, p99) = support::sequential_gets(&http, &url, &token, 100).await;
            let total = http
                .get(&url)
                .bearer_auth(&token)
                .send()
                .await
                .unwrap()
                .json::<serde_json::Value>()
                .await
                .unwrap()["total"]
                .clone();
            println!(
                "  {name:<44} {:>9.2} {:>9.2} {:>8}",
                p50.as_secs_f64() * 1e3,
                p99.as_secs_f64() * 1e3,
                total
            );
        }
        println!("facets at {N_TASKS} active tasks (100 requests each):");
        for query in [
            "field=scope",
            "field=initiator",
            "field=target_type",
            "field=kind",
            "field=status",
            "field=audit_service",
            "field=scope&kind=audit",
            "field=initiator&scope=Segment%207",
        ] {
            let url = format!("{base}/facets?{query}");
            let (p50, p99) = support::sequential_gets(&http, &url, &token, 100).await;
            println!(
                "  {query:<44} p50 {:>8.2} ms   p99 {:>8.2} ms",
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
            let (p50, p99) = support::sequential_gets(&http, &url, &token, 50).await;
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
        throughput(&http, &server, &token).await;
    }
    server.stop().await;
}

/// Waits until Site `tp` has no active task left.
async fn drained(http: &reqwest::Client, base: &str, token: &str) {
    let active_url = format!("{base}/api/v1/sites/tp/active-tasks?limit=1");
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
            return;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// Runs `n` clients at once (each gets its index) and returns how long
/// until they are done and Site `tp` has no active task left.
async fn clients_until_drained<F, Fut>(
    http: &reqwest::Client,
    server: &taskdeck_site::RunningServer,
    token: &str,
    n: usize,
    client: F,
) -> Duration
where
    F: Fn(reqwest::Client, String, usize) -> Fut,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    let start = Instant::now();
    let clients: Vec<_> = (0..n)
        .map(|i| tokio::spawn(client(http.clone(), token.to_owned(), i)))
        .collect();
    for running in clients {
        running.await.unwrap();
    }
    drained(http, &server.url(), token).await;
    start.elapsed()
}

/// Lifecycle throughput on Site `tp` (64 slots): zero-duration simulated
/// tasks, each queued -> running -> finished with its log row, under
/// `synchronous = FULL`; and, in the same run, the same transitions done
/// by hand on raw SQLite with the same schema and pragmas: the ceiling.
async fn throughput(http: &reqwest::Client, server: &taskdeck_site::RunningServer, token: &str) {
    let base = server.url();
    let tasks_url = format!("{base}/api/v1/sites/tp/tasks");

    // Single creates from 8 clients at once.
    const N_SINGLE: usize = 10_000;
    let single = clients_until_drained(http, server, token, 8, move |http, token, client| {
        let url = tasks_url.clone();
        async move {
            for i in 0..N_SINGLE / 8 {
                let response = http
                    .post(&url)
                    .bearer_auth(&token)
                    .json(&support::zero_duration(client * N_SINGLE + i, "tp"))
                    .send()
                    .await
                    .unwrap();
                assert!(response.status().is_success());
            }
        }
    })
    .await;
    let single = N_SINGLE as f64 / single.as_secs_f64();
    println!(
        "lifecycle throughput, single creates over HTTP from 8 clients: {N_SINGLE} tasks: {single:.0} tasks/s"
    );

    // Batches of 500 from 4 clients at once.
    const N_BATCHED: usize = 40_000;
    let batch_url = format!("{base}/api/v1/sites/tp/tasks/batch");
    let batched = clients_until_drained(http, server, token, 4, move |http, token, client| {
        let url = batch_url.clone();
        async move {
            for batch in 0..N_BATCHED / 4 / 500 {
                let tasks: Vec<serde_json::Value> = (0..500)
                    .map(|i| support::zero_duration(client * N_BATCHED + batch * 500 + i, "tp"))
                    .collect();
                let response = http
                    .post(&url)
                    .bearer_auth(&token)
                    .json(&serde_json::json!({ "tasks": tasks }))
                    .send()
                    .await
                    .unwrap();
                assert!(response.status().is_success(), "{}", response.status());
            }
        }
    })
    .await;
    let batched = N_BATCHED as f64 / batched.as_secs_f64();
    println!(
        "lifecycle throughput, batches of 500 over HTTP from 4 clients: {N_BATCHED} tasks: {batched:.0} tasks/s"
    );

    // The ceiling: the same three transitions by hand on raw SQLite.
    let (one_each, grouped) = raw_sqlite_ceiling().await;
    println!(
        "raw SQLite, same schema and pragmas (WAL, synchronous = FULL), insert -> running -> finished:"
    );
    println!("  one transaction per transition: {one_each:.0} tasks/s");
    println!("  500 tasks per transaction:      {grouped:.0} tasks/s");
    println!(
        "  ours: single creates {:.0}% of one-per-transition, batches {:.0}% of 500-per-transaction",
        100.0 * single / one_each,
        100.0 * batched / grouped
    );
}

/// Tasks per second through insert, `queued -> running` and `running ->
/// finished` done by hand on a fresh database of our schema: with one
/// transaction per transition, and with 500 tasks per transaction.
async fn raw_sqlite_ceiling() -> (f64, f64) {
    let dir = tempfile::tempdir().unwrap();
    let pool = taskdeck_site::db::open_sqlite(dir.path()).await.unwrap();
    sqlx::query("INSERT INTO sites (id) VALUES ('raw')")
        .execute(&pool)
        .await
        .unwrap();
    let mut connection = pool.acquire().await.unwrap();
    let mut number = 0_i64;
    let mut run = |n: usize, per_tx: usize| {
        let first = number + 1;
        number += n as i64;
        (first, per_tx)
    };
    let mut rates = Vec::new();
    for (n, per_tx) in [(3_000, 1), (50_000, 500)] {
        let (first, per_tx) = run(n, per_tx);
        let start = Instant::now();
        for chunk in (first..first + n as i64).collect::<Vec<_>>().chunks(per_tx) {
            for step in 0..3 {
                sqlx::query("BEGIN IMMEDIATE")
                    .execute(&mut *connection)
                    .await
                    .unwrap();
                for &number in chunk {
                    let sql = match step {
                        0 => "INSERT INTO tasks (site_id, kind, number, target_type, target_name, scope,
                                                 initiator, status, start_date)
                              VALUES ('raw', 'scan', $1, 'device', 'TP', 'tp', 'alice@example.com', 'queued', 0)",
                        1 => "UPDATE tasks SET status = 'running', audit_service_id = 'as', audit_service_name = 'AS',
                                               running_since = 0
                               WHERE site_id = 'raw' AND kind = 'scan' AND number = $1 AND status = 'queued'",
                        _ => "UPDATE tasks SET status = 'finished', end_date = 0
                               WHERE site_id = 'raw' AND kind = 'scan' AND number = $1 AND status = 'running'",
                    };
                    sqlx::query(sql)
                        .bind(number)
                        .execute(&mut *connection)
                        .await
                        .unwrap();
                }
                // The kept counts, one upsert per group as ours does.
                sqlx::query(
                    "INSERT INTO active_counts (site_id, kind, status, target_type, n)
                     VALUES ('raw', 'scan', $1, 'device', $2)
                     ON CONFLICT (site_id, kind, status, target_type) DO UPDATE SET n = n + excluded.n",
                )
                .bind(["queued", "running", "running"][step])
                .bind(if step == 2 { -(chunk.len() as i64) } else { chunk.len() as i64 })
                .execute(&mut *connection)
                .await
                .unwrap();
                sqlx::query("UPDATE sites SET revision = revision + $1 WHERE id = 'raw'")
                    .bind(chunk.len() as i64)
                    .execute(&mut *connection)
                    .await
                    .unwrap();
                sqlx::query("COMMIT")
                    .execute(&mut *connection)
                    .await
                    .unwrap();
            }
        }
        rates.push(n as f64 / start.elapsed().as_secs_f64());
    }
    (rates[0], rates[1])
}
