//! Several taskdeck-site servers on one PostgreSQL database (1.1), black
//! box: each a real server over HTTP, started from the same configuration.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::json;
use site_api::{ActiveTasksPage, Task, TaskStatus};

use crate::suite::{
    admin_token_at, error_code, read_events, retry_after, scan, spawn_server, take_events,
    test_config, test_config_text, test_store, Site, ADMIN_ID, ADMIN_SECRET, USER_ID, USER_SECRET,
};

/// `n` servers on one fresh database, started at the same moment.
async fn servers(dir: &std::path::Path, n: usize, slots: u32) -> Vec<Site> {
    let starts = (0..n).map(|_| Site::start_with(test_config(dir, "test", slots)));
    futures_util::future::join_all(starts).await
}

#[tokio::test]
async fn three_servers_started_at_once_number_concurrent_creations_without_gaps() {
    let dir = tempfile::tempdir().unwrap();
    let sites = servers(dir.path(), 3, 1).await;
    let tokens = futures_util::future::join_all(sites.iter().map(Site::admin)).await;
    // A token from one server works on all.
    for site in &sites {
        let (status, _) = site.get(&tokens[0], "/api/v1/me").await;
        assert_eq!(status, StatusCode::OK);
    }
    let creations = (0..60).map(|i| {
        let (site, token) = (&sites[i % 3], &tokens[i % 3]);
        async move {
            site.create(
                token,
                "hq",
                scan(&format!("WS-{i:03}"), "finished", 60_000, 0),
            )
            .await
        }
    });
    let tasks: Vec<Task> = futures_util::future::join_all(creations).await;
    let numbers: BTreeSet<u64> = tasks.iter().map(|t| t.number).collect();
    assert_eq!(numbers, (1..=60).collect(), "gapless, never reused");
    // Every server sees every task.
    for site in &sites {
        let (_, body) = site
            .get(&tokens[0], "/api/v1/sites/hq/active-tasks?limit=200")
            .await;
        let page: ActiveTasksPage = serde_json::from_value(body).unwrap();
        assert_eq!(page.total, 60);
    }
}

#[tokio::test]
async fn an_event_stream_on_one_server_carries_changes_made_through_another_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let sites = servers(dir.path(), 2, 1).await;
    let (a, b) = (&sites[0], &sites[1]);
    let token = a.admin().await;
    let mut stream = b
        .http
        .get(b.url("/api/v1/sites/hq/events"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(stream.status(), StatusCode::OK);
    let started = Instant::now();
    let created = a
        .create(&token, "hq", scan("WS-A", "finished", 60_000, 0))
        .await;
    let events = read_events(&mut stream, 1).await;
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "delivered within 1 s, as the contract says"
    );
    assert_eq!(events[0].1, "task");
    assert_eq!(events[0].2["id"], created.id.to_string());
    let first = events[0].0;
    // More changes through both servers: one ordered stream.
    a.create(&token, "hq", scan("WS-B", "finished", 60_000, 0))
        .await;
    b.create(&token, "hq", scan("WS-C", "finished", 60_000, 0))
        .await;
    let more = read_events(&mut stream, 2).await;
    let revisions: Vec<u64> = more.iter().map(|e| e.0).collect();
    assert!(
        revisions[0] > first && revisions[1] > revisions[0],
        "{revisions:?}"
    );

    // A client that saw `first` through B resumes through A and misses nothing.
    let mut resumed = a
        .http
        .get(a.url("/api/v1/sites/hq/events"))
        .bearer_auth(&token)
        .header("Last-Event-ID", first.to_string())
        .send()
        .await
        .unwrap();
    let replayed = read_events(&mut resumed, 2).await;
    assert_eq!(
        replayed.iter().map(|e| e.0).collect::<Vec<_>>(),
        revisions,
        "the same events, in the same order, on the other server"
    );
}

#[tokio::test]
async fn an_audit_service_never_runs_more_than_its_slots_whichever_server_claims() {
    let dir = tempfile::tempdir().unwrap();
    // Both servers run the in-process service `as-1` with 2 slots.
    let sites = servers(dir.path(), 2, 2).await;
    let token = sites[0].admin().await;
    for i in 0..8 {
        sites[i % 2]
            .create(&token, "hq", scan(&format!("WS-{i}"), "finished", 400, 0))
            .await;
    }
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut most = 0;
    loop {
        let (_, body) = sites[1]
            .get(&token, "/api/v1/sites/hq/active-tasks?limit=200")
            .await;
        let page: ActiveTasksPage = serde_json::from_value(body).unwrap();
        most = most.max(page.counts.running);
        assert!(page.counts.running <= 2, "{} running", page.counts.running);
        if page.total == 0 {
            break;
        }
        assert!(Instant::now() < deadline, "the queue never drained");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(most >= 1);
    let (_, log) = sites[0].get(&token, "/api/v1/sites/hq/scan-log").await;
    assert_eq!(log["entries"].as_array().map(Vec::len), Some(8));
}

#[tokio::test]
async fn a_token_revoked_on_one_server_is_refused_by_all() {
    let dir = tempfile::tempdir().unwrap();
    let sites = servers(dir.path(), 2, 1).await;
    let token = sites[0].admin().await;
    let response = sites[0]
        .http
        .post(sites[0].url("/api/oauth/revoke"))
        .form(&[("token", token.as_str())])
        .send()
        .await
        .unwrap();
    assert!(response.status().is_success(), "{}", response.status());
    for site in &sites {
        let (status, _) = site.get(&token, "/api/v1/me").await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
    }
}

#[tokio::test]
async fn cancel_racing_completion_across_servers_ends_each_task_once() {
    let dir = tempfile::tempdir().unwrap();
    let sites = servers(dir.path(), 2, 4).await;
    let token = sites[0].admin().await;
    let mut ids = Vec::new();
    for i in 0..12 {
        let task = sites[i % 2]
            .create(&token, "hq", scan(&format!("WS-{i}"), "finished", 30, 0))
            .await;
        ids.push(task.id.to_string());
    }
    // Cancel through the other server while the tasks end.
    let (status, body) = sites[1]
        .post(
            &token,
            "/api/v1/sites/hq/active-tasks/cancel",
            &json!({ "tasks": ids }),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    for id in &ids {
        sites[0]
            .wait_for(&token, "hq", id, |t| t.status.is_terminal())
            .await;
    }
    let (_, log) = sites[1]
        .get(&token, "/api/v1/sites/hq/scan-log?limit=200")
        .await;
    let logged: Vec<&str> = log["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["id"].as_str().unwrap())
        .collect();
    let unique: BTreeSet<&str> = logged.iter().copied().collect();
    assert_eq!(logged.len(), 12, "one log row per task");
    assert_eq!(unique.len(), 12);
}

#[tokio::test]
async fn a_client_ids_request_budget_counts_across_servers() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = test_config(dir.path(), "test", 1);
    config.rate_limit_per_minute = 9;
    let (a, b) = (
        Site::start_with(config.clone()).await,
        Site::start_with(config).await,
    );
    // The token request through A is one; four calls on each server make nine.
    let token = a.admin().await;
    for _ in 0..4 {
        assert_eq!(a.get(&token, "/api/v1/me").await.0, StatusCode::OK);
        assert_eq!(b.get(&token, "/api/v1/me").await.0, StatusCode::OK);
    }
    for site in [&a, &b] {
        let response = site
            .http
            .get(site.url("/api/v1/me"))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
        let wait = retry_after(&response);
        assert!((1..=60).contains(&wait), "{wait}");
    }
    // Another client id has its own budget, on both.
    let user = b.token(USER_ID, USER_SECRET).await;
    assert_eq!(a.get(&user, "/api/v1/me").await.0, StatusCode::OK);
}

#[tokio::test]
async fn concurrent_requests_through_two_servers_never_pass_the_budget_together() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = test_config(dir.path(), "test", 1);
    config.rate_limit_per_minute = 30;
    let (a, b) = (
        Site::start_with(config.clone()).await,
        Site::start_with(config).await,
    );
    let token = a.admin().await;
    // 60 requests at once, half through each: exactly 29 more fit.
    let calls = (0..60).map(|i| {
        let (site, token) = (if i % 2 == 0 { &a } else { &b }, &token);
        async move { site.get(token, "/api/v1/me").await.0 }
    });
    let statuses = futures_util::future::join_all(calls).await;
    let passed = statuses.iter().filter(|s| **s == StatusCode::OK).count();
    let refused = statuses
        .iter()
        .filter(|s| **s == StatusCode::TOO_MANY_REQUESTS)
        .count();
    assert_eq!((passed, refused), (29, 31), "{statuses:?}");
}

#[tokio::test]
async fn failed_token_requests_through_both_servers_lock_the_client_out_of_both() {
    let dir = tempfile::tempdir().unwrap();
    let sites = servers(dir.path(), 2, 1).await;
    for i in 0..10 {
        let response = sites[i % 2].request_token(ADMIN_ID, "wrong").await;
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    }
    for site in &sites {
        let locked = site.request_token(ADMIN_ID, ADMIN_SECRET).await;
        assert_eq!(locked.status(), StatusCode::TOO_MANY_REQUESTS);
        let wait = retry_after(&locked);
        assert!((1..=300).contains(&wait), "{wait}");
    }
    // Other clients are not affected.
    sites[1].token(USER_ID, USER_SECRET).await;
}

/// The task `id` of `hq`, polled until it exists (at most 15 s).
async fn appears(site: &Site, token: &str, id: &str) -> Task {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let (status, body) = site
            .get(token, &format!("/api/v1/sites/hq/tasks/{id}"))
            .await;
        if status == StatusCode::OK {
            return serde_json::from_value(body).unwrap();
        }
        assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
        assert!(Instant::now() < deadline, "{id} never appeared");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn a_schedule_fires_once_with_three_servers_watching_it() {
    let dir = tempfile::tempdir().unwrap();
    let sites = servers(dir.path(), 3, 1).await;
    let token = sites[0].admin().await;
    let (status, created) = sites[0]
        .post(
            &token,
            "/api/v1/sites/hq/schedules",
            &json!({
                "name": "Nightly audit", "kind": "audit", "cron": "0 0 1 1 *",
                "target": {"type": "device", "name": "SRV-DB-01"}, "scope": "Servers"
            }),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let pool = taskdeck_site::db::open(&test_store(dir.path()))
        .await
        .unwrap();
    // Three firings come due, one after another; all three servers check
    // every second, and each firing is claimed by one of them.
    for firing in 1..=3 {
        sqlx::query("UPDATE schedules SET next_run = $1")
            .bind(chrono::Utc::now().timestamp() - 1)
            .execute(&pool)
            .await
            .unwrap();
        let task = appears(&sites[firing % 3], &token, &format!("audit-{firing}")).await;
        assert_eq!(task.initiator, site_api::Initiator::Schedule);
    }
    // Longer than every server's check interval: no second task for any.
    tokio::time::sleep(Duration::from_millis(2500)).await;
    for site in &sites {
        let (_, body) = site.get(&token, "/api/v1/sites/hq/tasks/audit-4").await;
        assert_eq!(error_code(&body), "not_found", "one task per firing");
    }
    pool.close().await;
}

#[tokio::test]
async fn kill_9_of_one_server_under_load_fails_its_tasks_through_the_other() {
    let dir = tempfile::tempdir().unwrap();
    let config_path = dir.path().join("site.toml");
    std::fs::write(&config_path, test_config_text(dir.path(), "test", 2)).unwrap();
    // A is a real process, so it can be killed; it starts alone and takes
    // both slots of `as-1` with tasks that never end by themselves.
    let (mut a, a_url) = spawn_server(&config_path).await;
    let http = reqwest::Client::new();
    let token = admin_token_at(&http, &a_url).await;
    let mut hung = Vec::new();
    for i in 0..2 {
        let response = http
            .post(format!("{a_url}/api/v1/sites/hq/tasks"))
            .bearer_auth(&token)
            .json(&scan(&format!("HUNG-{i}"), "hang", 1000, 0))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::CREATED);
        hung.push(response.json::<Task>().await.unwrap().id.to_string());
    }
    let pool = taskdeck_site::db::open(&test_store(dir.path()))
        .await
        .unwrap();
    // B starts only once A runs both (B would take its share of them).
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let running: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM tasks WHERE status = 'running' AND server_id IS NOT NULL",
        )
        .fetch_one(&pool)
        .await
        .unwrap();
        if running == 2 {
            break;
        }
        assert!(Instant::now() < deadline, "A never ran both hung tasks");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let b = Site::start_with(test_config(dir.path(), "test", 2)).await;
    // Load through both servers while A dies: twenty short tasks.
    let load = (0..20).map(|i| {
        let (http, a_url, b, token) = (&http, &a_url, &b, &token);
        async move {
            let body = scan(&format!("WS-{i:02}"), "finished", 100, 0);
            if i % 2 == 0 {
                b.create(token, "hq", body).await.id.to_string()
            } else {
                let response = http
                    .post(format!("{a_url}/api/v1/sites/hq/tasks"))
                    .bearer_auth(token)
                    .json(&body)
                    .send()
                    .await
                    .unwrap();
                assert_eq!(response.status(), StatusCode::CREATED);
                response.json::<Task>().await.unwrap().id.to_string()
            }
        }
    });
    let loaded: Vec<String> = futures_util::future::join_all(load).await;
    a.start_kill().unwrap();
    a.wait().await.unwrap();
    let killed = Instant::now();

    // A's running tasks end failed (interrupted) through B, within 30 s.
    for id in &hung {
        let task = b
            .wait_for(&token, "hq", id, |t| t.status.is_terminal())
            .await;
        assert_eq!(task.status, TaskStatus::Failed, "{id}");
        assert!(task.errors >= 1);
    }
    assert!(killed.elapsed() < Duration::from_secs(30));
    // Nothing queued is lost: B runs every other task to its end, once.
    for id in &loaded {
        let task = b
            .wait_for(&token, "hq", id, |t| t.status.is_terminal())
            .await;
        assert_eq!(task.status, TaskStatus::Finished, "{id}");
    }
    let (_, log) = b.get(&token, "/api/v1/sites/hq/scan-log?limit=200").await;
    let logged: Vec<&str> = log["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["id"].as_str().unwrap())
        .collect();
    let unique: BTreeSet<&str> = logged.iter().copied().collect();
    assert_eq!(logged.len(), 22, "one log row per task: {logged:?}");
    assert_eq!(unique.len(), 22);
    pool.close().await;
}

/// Every event `stream` delivers within `window`.
async fn events_within(
    stream: &mut reqwest::Response,
    window: Duration,
) -> Vec<(u64, String, serde_json::Value)> {
    let deadline = tokio::time::Instant::now() + window;
    let mut buffer = String::new();
    let mut events = Vec::new();
    while let Ok(chunk) = tokio::time::timeout_at(deadline, stream.chunk()).await {
        let Some(chunk) = chunk.unwrap() else { break };
        buffer.push_str(&String::from_utf8_lossy(&chunk));
        take_events(&mut buffer, &mut events);
    }
    events
}

#[tokio::test]
async fn an_audit_services_busy_slots_are_announced_once_with_two_servers() {
    let dir = tempfile::tempdir().unwrap();
    let sites = servers(dir.path(), 2, 2).await;
    let token = sites[0].admin().await;
    let mut stream = sites[1]
        .http
        .get(sites[1].url("/api/v1/sites/hq/events"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    let task = sites[0]
        .create(&token, "hq", scan("WS-1", "finished", 1500, 0))
        .await;
    let events = events_within(&mut stream, Duration::from_millis(4500)).await;
    let busy = |n: u64| {
        events
            .iter()
            .filter(|(_, name, data)| {
                name == "audit_service" && data["id"] == "as-1" && data["busy"] == n
            })
            .count()
    };
    assert_eq!(busy(1), 1, "one announcement of the busy slot: {events:?}");
    assert_eq!(busy(0), 1, "and one of it freed: {events:?}");
    // Both servers report the slot the task took, whichever runs it.
    let ended = sites[0]
        .wait_for(&token, "hq", &task.id.to_string(), |t| {
            t.status.is_terminal()
        })
        .await;
    assert_eq!(ended.status, TaskStatus::Finished);
}

#[tokio::test]
async fn a_cancel_through_one_server_stops_the_program_another_server_runs() {
    let dir = tempfile::tempdir().unwrap();
    let pid_file = dir.path().join("pid");
    // `as-1` runs a real program per task: it writes its pid, then sleeps.
    let text = test_config_text(dir.path(), "test", 1).replacen(
        "slots = 1\n",
        &format!(
            "slots = 1\nrunner = \"command\"\ncommand = [\"sh\", \"-c\", \"echo $$ > {}; exec sleep 120\"]\n",
            pid_file.display()
        ),
        1,
    );
    let config = || {
        let config: taskdeck_site::Config = toml::from_str(&text).unwrap();
        config.validate().unwrap();
        config
    };
    let a = Site::start_with(config()).await;
    let token = a.admin().await;
    let task = a
        .create(&token, "hq", scan("WS-CMD", "finished", 1000, 0))
        .await;
    let deadline = Instant::now() + Duration::from_secs(15);
    let pid: i32 = loop {
        if let Some(pid) = std::fs::read_to_string(&pid_file)
            .ok()
            .and_then(|text| text.trim().parse().ok())
        {
            break pid;
        }
        assert!(Instant::now() < deadline, "the program never started");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    // A zombie is gone too: only its parent's wait is left.
    let alive = |pid: i32| {
        std::fs::read_to_string(format!("/proc/{pid}/stat"))
            .is_ok_and(|stat| !stat.contains(") Z "))
    };
    assert!(alive(pid));

    // B did not run it; the cancel through B still stops it on A.
    let b = Site::start_with(config()).await;
    let (status, body) = b
        .post(
            &token,
            "/api/v1/sites/hq/active-tasks/cancel",
            &json!({ "tasks": [task.id.to_string()] }),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let deadline = Instant::now() + Duration::from_secs(10);
    while alive(pid) {
        assert!(
            Instant::now() < deadline,
            "the program went on running on A after the cancel through B"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let ended = a
        .wait_for(&token, "hq", &task.id.to_string(), |t| {
            t.status.is_terminal()
        })
        .await;
    assert_eq!(ended.status, TaskStatus::Cancelled);
}
