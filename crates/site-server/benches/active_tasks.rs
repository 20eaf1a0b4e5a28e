//! Benchmark: `GET …/active-tasks` pages at 100,000 active tasks, over real
//! HTTP on loopback. Prints p50/p99 latencies; asserts nothing.
//!
//! `cargo bench -p taskdeck-site --bench active_tasks` (release build).

use std::time::{Duration, Instant};

use site_api::TokenResponse;

const N_TASKS: usize = 100_000;

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

#[tokio::main]
async fn main() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let seed_start = Instant::now();
    {
        let pool = taskdeck_site::db::open(&data).await.unwrap();
        let mut tx = pool.begin().await.unwrap();
        sqlx::query("INSERT INTO sites (id) VALUES ('hq')")
            .execute(&mut *tx)
            .await
            .unwrap();
        let now = chrono::Utc::now().timestamp();
        for i in 0..N_TASKS {
            let kind = if i % 3 == 0 { "audit" } else { "scan" };
            sqlx::query(
                "INSERT INTO tasks (site_id, kind, number, target_type, target_name, scope, initiator, status, start_date)
                 VALUES ('hq', ?, ?, 'device', ?, ?, ?, 'queued', ?)",
            )
            .bind(kind)
            .bind(i as i64 + 1)
            .bind(format!("WS-{:05}", i % 20_000))
            .bind(format!("Segment {}", i % 50))
            .bind(if i % 4 == 0 { "Schedule".to_owned() } else { format!("user{}@example.com", i % 30) })
            .bind(now - (N_TASKS - i) as i64)
            .execute(&mut *tx)
            .await
            .unwrap();
        }
        sqlx::query("INSERT INTO task_numbers (site_id, kind, last) VALUES ('hq', 'scan', ?), ('hq', 'audit', ?)")
            .bind(N_TASKS as i64)
            .bind(N_TASKS as i64)
            .execute(&mut *tx)
            .await
            .unwrap();
        // The per-Site counters that lifecycle keeps.
        sqlx::query("UPDATE sites SET queued = ?, revision = ? WHERE id = 'hq'")
            .bind(N_TASKS as i64)
            .bind(N_TASKS as i64)
            .execute(&mut *tx)
            .await
            .unwrap();
        tx.commit().await.unwrap();
        pool.close().await;
    }
    eprintln!(
        "seeded {N_TASKS} queued tasks in {:.1?}",
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

[[users]]
email = "alice@example.com"
display_name = "Alice"
roles = {{ hq = "site_administrator" }}

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
    server.stop().await;
}
