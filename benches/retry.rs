//! Benchmark: "Run failed again" over 10,000 failed tasks, end to end as
//! the desktop backend does it — the failed rows the log's filter matches
//! read page after page, then the tasks created in batches of 500 — against
//! a real taskdeck-site over HTTP. Prints numbers; asserts nothing.
//!
//! `cargo bench -p taskdeck --bench retry`.

use std::time::Instant;

use site_api::{LogQuery, TaskKind};
use taskdeck_app::run_tasks::{failed_in_log, run_tasks};

#[path = "../tests/support/mod.rs"]
mod support;
use support::{ADMIN_ID, ADMIN_SECRET};

const FAILED: usize = 10_000;

#[tokio::main]
async fn main() {
    let dir = tempfile::tempdir().unwrap();
    let seeding = Instant::now();
    taskdeck_site::seed::failed_scans(dir.path(), "hq", FAILED)
        .await
        .unwrap();
    println!(
        "seeded {FAILED} failed scans in {:.0} ms",
        seeding.elapsed().as_secs_f64() * 1e3
    );
    let config = support::config(dir.path(), "127.0.0.1:0", 4);
    let server = taskdeck_site::start(config).await.unwrap();
    let client = support::client(&server.url(), ADMIN_ID, ADMIN_SECRET);
    client.me().await.unwrap();

    let start = Instant::now();
    let tasks = failed_in_log(&client, "hq", TaskKind::Scan, &LogQuery::default())
        .await
        .unwrap();
    let counted = start.elapsed();
    let mut batches = 0;
    let summary = run_tasks(&client, "hq", &tasks, |_| batches += 1).await;
    let total = start.elapsed();
    println!(
        "retry of {} failed tasks: counted in {:.0} ms, {} created in {batches} batches in {:.0} ms; \
         count → all created {:.2} s (goal ≤ 5 s){}",
        tasks.len(),
        counted.as_secs_f64() * 1e3,
        summary.created.len(),
        (total - counted).as_secs_f64() * 1e3,
        total.as_secs_f64(),
        summary
            .failure
            .map(|failure| format!("; stopped: {failure}"))
            .unwrap_or_default()
    );
    server.stop().await;
}
