//! The Site task API over real HTTP on loopback: a server started from a
//! test configuration, driven with reqwest as any client would. The
//! `api` test runs it on SQLite, `api_postgres` on PostgreSQL: one
//! store-conformance suite for both.

use std::path::Path;
use std::time::{Duration, Instant};

use reqwest::{Client, StatusCode};
use serde_json::{json, Value};
use site_api::{ActiveTasksPage, LogPage, Me, Task, TaskStatus, TokenResponse};
use taskdeck_site::config::Store;
use taskdeck_site::{Config, RunningServer};

#[path = "v1_1.rs"]
mod v1_1;

use taskdeck_site::testing::{TestSite, EXPIRED_ID};
pub(crate) use taskdeck_site::testing::{ADMIN_ID, ADMIN_SECRET, USER_ID, USER_SECRET};

/// The shared test Site (`taskdeck_site::testing`) with all three Sites,
/// stored as [`test_store`] says.
fn test_site(data_dir: &Path, mode: &str, slots: u32) -> TestSite {
    let mut site = TestSite::new(test_store(data_dir), slots);
    site.mode = mode.to_owned();
    site.more_sites = true;
    site
}

/// The test configuration as a file would hold it.
pub(crate) fn test_config_text(data_dir: &Path, mode: &str, slots: u32) -> String {
    test_site(data_dir, mode, slots).config_text()
}

/// Where a test server keeps its state: SQLite under `data_dir`, or for
/// `api_postgres` a PostgreSQL database of its own, named after `data_dir`
/// (so a restarted server finds its state again), in the cluster whose
/// URL `cargo xtask test` gives in `TASKDECK_TEST_POSTGRES`.
pub(crate) fn test_store(data_dir: &Path) -> Store {
    if !crate::POSTGRES {
        return Store::Sqlite(data_dir.to_owned());
    }
    Store::Postgres(postgres_database(data_dir))
}

/// The URL of the test database for `data_dir`, created if missing.
pub(crate) fn postgres_database(data_dir: &Path) -> String {
    taskdeck_testing::postgres::database_for(data_dir)
}

pub(crate) fn test_config(data_dir: &Path, mode: &str, slots: u32) -> Config {
    test_site(data_dir, mode, slots).config()
}

/// A running test server and an HTTP client for it.
pub(crate) struct Site {
    pub(crate) server: RunningServer,
    pub(crate) http: Client,
}

impl Site {
    pub(crate) async fn start(data_dir: &Path) -> Site {
        Site::start_with(test_config(data_dir, "test", 2)).await
    }

    pub(crate) async fn start_with(config: Config) -> Site {
        let server = taskdeck_site::start(config).await.unwrap();
        Site {
            server,
            http: Client::new(),
        }
    }

    pub(crate) fn url(&self, path: &str) -> String {
        format!("{}{path}", self.server.url())
    }

    /// Asks for a token with client credentials in the form body.
    pub(crate) async fn request_token(&self, id: &str, secret: &str) -> reqwest::Response {
        self.http
            .post(self.url("/api/oauth/token"))
            .form(&[
                ("grant_type", "client_credentials"),
                ("client_id", id),
                ("client_secret", secret),
            ])
            .send()
            .await
            .unwrap()
    }

    pub(crate) async fn token(&self, id: &str, secret: &str) -> String {
        let response = self.request_token(id, secret).await;
        assert_eq!(response.status(), StatusCode::OK);
        response.json::<TokenResponse>().await.unwrap().access_token
    }

    pub(crate) async fn admin(&self) -> String {
        self.token(ADMIN_ID, ADMIN_SECRET).await
    }

    pub(crate) async fn get(&self, token: &str, path: &str) -> (StatusCode, Value) {
        let response = self
            .http
            .get(self.url(path))
            .bearer_auth(token)
            .send()
            .await
            .unwrap();
        let status = response.status();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    pub(crate) async fn post(&self, token: &str, path: &str, body: &Value) -> (StatusCode, Value) {
        let response = self
            .http
            .post(self.url(path))
            .bearer_auth(token)
            .json(body)
            .send()
            .await
            .unwrap();
        let status = response.status();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    pub(crate) async fn create(&self, token: &str, site: &str, body: Value) -> Task {
        let (status, task) = self
            .post(token, &format!("/api/v1/sites/{site}/tasks"), &body)
            .await;
        assert_eq!(status, StatusCode::CREATED, "{task}");
        serde_json::from_value(task).unwrap()
    }

    /// Polls the task until `done` holds, for at most 15 s.
    pub(crate) async fn wait_for(
        &self,
        token: &str,
        site: &str,
        id: &str,
        done: impl Fn(&Task) -> bool,
    ) -> Task {
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            let (status, body) = self
                .get(token, &format!("/api/v1/sites/{site}/tasks/{id}"))
                .await;
            assert_eq!(status, StatusCode::OK, "{body}");
            let task: Task = serde_json::from_value(body).unwrap();
            if done(&task) {
                return task;
            }
            assert!(Instant::now() < deadline, "{id} never got there: {task:?}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

pub(crate) fn scan(name: &str, outcome: &str, duration_ms: u64, errors: u64) -> Value {
    json!({
        "kind": "scan",
        "target": {"type": "device", "name": name},
        "scope": "Segment HQ-LAN",
        "simulate": {"duration_ms": duration_ms, "outcome": outcome, "errors": errors}
    })
}

pub(crate) fn error_code(body: &Value) -> &str {
    body["error"]["code"].as_str().unwrap_or("<no error body>")
}

#[tokio::test]
async fn token_endpoint_issues_tokens_for_form_and_basic_credentials() {
    let dir = tempfile::tempdir().unwrap();
    let site = Site::start(dir.path()).await;
    let token = site.admin().await;
    assert_eq!(token.len(), 43);

    let basic = site
        .http
        .post(site.url("/api/oauth/token"))
        .basic_auth(ADMIN_ID, Some(ADMIN_SECRET))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap();
    assert_eq!(basic.status(), StatusCode::OK);
    let body: TokenResponse = basic.json().await.unwrap();
    assert_eq!(body.token_type, "Bearer");
    assert_eq!(body.expires_in, 3600);
    assert_ne!(body.access_token, token);
}

#[tokio::test]
async fn token_endpoint_refuses_wrong_unknown_and_expired_clients_alike() {
    let dir = tempfile::tempdir().unwrap();
    let site = Site::start(dir.path()).await;
    for (id, secret) in [
        (ADMIN_ID, "wrong"),
        ("nobody00000000000000", ADMIN_SECRET),
        (EXPIRED_ID, USER_SECRET),
    ] {
        let response = site.request_token(id, secret).await;
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "{id}");
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["error"], "invalid_client");
        let description = body["error_description"].as_str().unwrap();
        assert!(description.len() > 10);
        // Only the right secret of an expired registration learns it expired.
        assert_eq!(
            description.contains("expired"),
            id == EXPIRED_ID,
            "{description}"
        );
    }
    let response = site.request_token(EXPIRED_ID, "wrong").await;
    let body: Value = response.json().await.unwrap();
    assert!(!body["error_description"]
        .as_str()
        .unwrap()
        .contains("expired"));
    let cases = [
        (
            "grant_type=password&client_id=a&client_secret=b",
            "unsupported_grant_type",
        ),
        ("client_id=a&client_secret=b", "invalid_request"),
        ("grant_type=client_credentials", "invalid_request"),
        ("%%%", "invalid_request"),
    ];
    for (body, expected) in cases {
        let response = site
            .http
            .post(site.url("/api/oauth/token"))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{body}");
        let json: Value = response.json().await.unwrap();
        assert_eq!(json["error"], expected, "{body}");
    }
}

#[tokio::test]
async fn revoked_and_unknown_tokens_are_unauthenticated() {
    let dir = tempfile::tempdir().unwrap();
    let site = Site::start(dir.path()).await;
    let token = site.admin().await;
    assert_eq!(site.get(&token, "/api/v1/me").await.0, StatusCode::OK);

    let revoke = site
        .http
        .post(site.url("/api/oauth/revoke"))
        .form(&[("token", token.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(revoke.status(), StatusCode::OK);
    let (status, body) = site.get(&token, "/api/v1/me").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(error_code(&body), "unauthenticated");

    let (status, body) = site.get("made-up", "/api/v1/sites").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(error_code(&body), "unauthenticated");
    let response = site.http.get(site.url("/api/v1/me")).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn me_and_sites_show_only_sites_with_a_role() {
    let dir = tempfile::tempdir().unwrap();
    let site = Site::start(dir.path()).await;
    let token = site.admin().await;
    let (status, body) = site.get(&token, "/api/v1/me").await;
    assert_eq!(status, StatusCode::OK);
    let me: Me = serde_json::from_value(body).unwrap();
    assert_eq!(me.email, "alice@example.com");
    assert_eq!(me.client_id, ADMIN_ID);
    let ids: Vec<_> = me.sites.iter().map(|s| s.id.as_str()).collect();
    assert_eq!(ids, ["branch-2", "hq"]);

    let user = site.token(USER_ID, USER_SECRET).await;
    let (_, body) = site.get(&user, "/api/v1/sites").await;
    assert_eq!(
        body,
        json!({"sites": [{"id": "hq", "name": "Headquarters", "role": "site_user"}]})
    );

    // A Site without a role, or none at all, is not disclosed.
    for path in [
        "/api/v1/sites/branch-2/active-tasks",
        "/api/v1/sites/secret-site/active-tasks",
        "/api/v1/sites/no-such-site/active-tasks",
        "/api/v1/sites/branch-2/tasks/scan-1",
    ] {
        let (status, body) = site.get(&user, path).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
        assert_eq!(error_code(&body), "not_found");
    }
}

#[tokio::test]
async fn simulated_tasks_run_to_their_outcome_and_leave_a_log_row() {
    let dir = tempfile::tempdir().unwrap();
    let site = Site::start(dir.path()).await;
    let token = site.admin().await;
    let user = site.token(USER_ID, USER_SECRET).await;

    let ok = site
        .create(&user, "hq", scan("WS-1", "finished", 300, 0))
        .await;
    assert_eq!(ok.initiator.as_str(), "bob@example.com");
    assert!(matches!(
        ok.status,
        TaskStatus::Queued | TaskStatus::Running
    ));
    assert_eq!(ok.errors, 0);
    assert_eq!(ok.end_date, None);
    let bad = site
        .create(&token, "hq", scan("WS-2", "failed", 300, 2))
        .await;

    let ok = site
        .wait_for(&token, "hq", &ok.id.to_string(), |t| t.status.is_terminal())
        .await;
    assert_eq!(ok.status, TaskStatus::Finished);
    assert_eq!(ok.errors, 0);
    assert!(ok.end_date.is_some());
    assert_eq!(ok.audit_service.as_ref().unwrap().id, "as-1");
    assert!(ok.running_since.is_some());

    let bad = site
        .wait_for(&token, "hq", &bad.id.to_string(), |t| {
            t.status.is_terminal()
        })
        .await;
    assert_eq!(bad.status, TaskStatus::Failed);
    assert_eq!(bad.errors, 2);

    let (status, body) = site.get(&token, "/api/v1/sites/hq/scan-log").await;
    assert_eq!(status, StatusCode::OK);
    let log: LogPage = serde_json::from_value(body).unwrap();
    assert_eq!(log.entries.len(), 2);
    let row = log.entries.iter().find(|e| e.task.id == bad.id).unwrap();
    assert_eq!(row.error_messages.len(), 2);
    assert_eq!(row.task.number, bad.number);
    assert_eq!(row.task.initiator.as_str(), "alice@example.com");
    assert_eq!(row.cancelled_by, None);

    let (_, body) = site.get(&token, "/api/v1/sites/hq/audit-log").await;
    assert_eq!(body["entries"], json!([]));
    let (_, body) = site.get(&token, "/api/v1/sites/hq/active-tasks").await;
    assert_eq!(body["tasks"], json!([]), "terminal tasks left the queue");
}

#[tokio::test]
async fn a_finished_label_site_reports_failures_as_finished_with_errors() {
    let dir = tempfile::tempdir().unwrap();
    let site = Site::start(dir.path()).await;
    let token = site.admin().await;
    let task = site
        .create(&token, "branch-2", scan("WS-9", "failed", 100, 0))
        .await;
    let task = site
        .wait_for(&token, "branch-2", &task.id.to_string(), |t| {
            t.status.is_terminal()
        })
        .await;
    assert_eq!(task.status, TaskStatus::Finished);
    assert_eq!(task.errors, 1, "a failure counts at least one error");
    assert!(task.is_effectively_failed());
}

#[tokio::test]
async fn active_tasks_are_newest_first_and_pages_neither_skip_nor_repeat() {
    let dir = tempfile::tempdir().unwrap();
    let site = Site::start_with(test_config(dir.path(), "test", 1)).await;
    let token = site.admin().await;
    let mut created = Vec::new();
    for i in 0..7 {
        let kind = if i % 3 == 0 { "audit" } else { "scan" };
        let mut body = scan(&format!("WS-{i}"), "hang", 1000, 0);
        body["kind"] = json!(kind);
        created.push(site.create(&token, "hq", body).await);
    }
    let (status, body) = site.get(&token, "/api/v1/sites/hq/active-tasks").await;
    assert_eq!(status, StatusCode::OK);
    let page: ActiveTasksPage = serde_json::from_value(body).unwrap();
    assert_eq!(page.total, 7);
    assert_eq!(page.counts.queued + page.counts.running, 7);
    assert!(page.counts.running <= 1, "one slot");
    assert!(page.revision >= 7);
    assert_eq!(page.next_cursor, None);
    let order: Vec<_> = page
        .tasks
        .iter()
        .map(|t| (t.start_date, t.number))
        .collect();
    let mut sorted = order.clone();
    sorted.sort_by(|a, b| b.cmp(a));
    assert_eq!(order, sorted, "newest first, ties by number desc");

    let mut paged = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(c) => format!("/api/v1/sites/hq/active-tasks?limit=3&cursor={c}"),
            None => "/api/v1/sites/hq/active-tasks?limit=3".to_owned(),
        };
        let (status, body) = site.get(&token, &path).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let page: ActiveTasksPage = serde_json::from_value(body).unwrap();
        assert!(page.tasks.len() <= 3);
        paged.extend(page.tasks.into_iter().map(|t| t.id));
        cursor = page.next_cursor;
        if cursor.is_none() {
            break;
        }
    }
    let all: Vec<_> = page.tasks.iter().map(|t| t.id).collect();
    assert_eq!(paged, all);
}

#[tokio::test]
async fn malformed_requests_get_the_contract_error_body() {
    let dir = tempfile::tempdir().unwrap();
    let site = Site::start(dir.path()).await;
    let token = site.admin().await;
    let bad_bodies = [
        json!({"kind": "inventory", "target": {"type": "device", "name": "x"}, "scope": "s"}),
        json!({"kind": "scan", "target": {"type": "printer", "name": "x"}, "scope": "s"}),
        json!({"kind": "scan", "target": {"type": "device", "name": ""}, "scope": "s"}),
        json!({"kind": "scan", "target": {"type": "device", "name": "x"}}),
        json!({"kind": "scan", "target": {"type": "device", "name": "x"}, "scope": "s", "simulate": {"duration_ms": -1, "outcome": "finished"}}),
        json!({"kind": "scan", "target": {"type": "device", "name": "x"}, "scope": "s", "simulate": {"duration_ms": 1, "outcome": "exploded"}}),
        json!([1, 2, 3]),
    ];
    for body in bad_bodies {
        let (status, answer) = site.post(&token, "/api/v1/sites/hq/tasks", &body).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
        assert_eq!(error_code(&answer), "invalid_request", "{body}");
        assert!(answer["error"]["message"].as_str().unwrap().ends_with('.'));
    }
    let not_json = site
        .http
        .post(site.url("/api/v1/sites/hq/tasks"))
        .bearer_auth(&token)
        .header("content-type", "application/json")
        .body("{\"kind\": ")
        .send()
        .await
        .unwrap();
    assert_eq!(not_json.status(), StatusCode::BAD_REQUEST);

    for query in [
        "limit=0",
        "limit=1001",
        "limit=x",
        "cursor=not-a-cursor",
        "colour=blue",
    ] {
        let (status, body) = site
            .get(&token, &format!("/api/v1/sites/hq/active-tasks?{query}"))
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{query}");
        assert_eq!(error_code(&body), "invalid_request", "{query}");
    }

    let huge = json!({"kind": "scan", "target": {"type": "device", "name": "x"}, "scope": "x".repeat(1_100_000)});
    let (status, body) = site.post(&token, "/api/v1/sites/hq/tasks", &huge).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(error_code(&body), "payload_too_large");

    // A path segment that is not UTF-8 is the contract's 400 too, not axum's plain text.
    for path in [
        "/api/v1/sites/%ff%fe/schedules",
        "/api/v1/sites/%ff/active-tasks",
        "/api/v1/sites/hq/tasks/%c3%28",
        "/api/v1/sites/hq/schedules/%80",
    ] {
        let (status, body) = site.get(&token, path).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{path}");
        assert_eq!(error_code(&body), "invalid_request", "{path}: {body}");
        assert!(
            body["error"]["message"].as_str().unwrap().ends_with('.'),
            "{body}"
        );
    }

    let (status, body) = site.get(&token, "/api/v1/nothing-here").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(error_code(&body), "not_found");
    let (status, body) = site.get(&token, "/api/v1/sites/hq/tasks/scan-x").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(error_code(&body), "not_found");
    let response = site.http.delete(site.url("/healthz")).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::METHOD_NOT_ALLOWED);
    let body: Value = response.json().await.unwrap();
    assert_eq!(error_code(&body), "method_not_allowed");
}

#[tokio::test]
async fn production_servers_refuse_simulate() {
    let dir = tempfile::tempdir().unwrap();
    let site = Site::start_with(test_config(dir.path(), "production", 2)).await;
    let token = site.admin().await;
    let (status, body) = site
        .post(
            &token,
            "/api/v1/sites/hq/tasks",
            &scan("WS-1", "finished", 10, 0),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(error_code(&body), "invalid_request");
}

#[tokio::test]
async fn numbers_survive_a_restart_and_running_tasks_end_interrupted() {
    let dir = tempfile::tempdir().unwrap();
    let site = Site::start(dir.path()).await;
    let token = site.admin().await;
    let first = site
        .create(&token, "hq", scan("WS-1", "hang", 1000, 0))
        .await;
    let second = site
        .create(&token, "hq", scan("WS-2", "hang", 1000, 0))
        .await;
    let third = site
        .create(&token, "hq", scan("WS-3", "hang", 1000, 0))
        .await;
    assert_eq!((first.number, second.number, third.number), (1, 2, 3));
    site.wait_for(&token, "hq", "scan-1", |t| t.status == TaskStatus::Running)
        .await;
    site.server.stop().await;

    let site = Site::start(dir.path()).await;
    let token = site.admin().await;
    let (_, body) = site.get(&token, "/api/v1/sites/hq/tasks/scan-1").await;
    let interrupted: Task = serde_json::from_value(body).unwrap();
    assert_eq!(interrupted.status, TaskStatus::Failed);
    assert!(interrupted.errors >= 1);
    let (_, body) = site.get(&token, "/api/v1/sites/hq/scan-log").await;
    let messages = body["entries"][0]["error_messages"].to_string();
    assert!(messages.contains("Interrupted"), "{messages}");
    // The third was still queued: it survived and runs now.
    site.wait_for(&token, "hq", "scan-3", |t| t.status == TaskStatus::Running)
        .await;
    let fourth = site
        .create(&token, "hq", scan("WS-4", "finished", 10, 0))
        .await;
    assert_eq!(fourth.number, 4, "numbers are never reused");
    let audit = site
        .create(
            &token,
            "hq",
            json!({"kind": "audit", "target": {"type": "segment", "name": "HQ-LAN"}, "scope": "HQ"}),
        )
        .await;
    assert_eq!(audit.label, "Audit #1", "numbers count per kind");
}

#[tokio::test]
async fn the_binary_announces_its_address_and_stops_cleanly_on_sigterm() {
    use tokio::io::{AsyncBufReadExt, BufReader};
    let dir = tempfile::tempdir().unwrap();
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_taskdeck-site"))
        .args(["demo", "--data"])
        .arg(dir.path())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut lines = BufReader::new(stdout).lines();
    let line = tokio::time::timeout(Duration::from_secs(20), lines.next_line())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    let url = line.strip_prefix("listening on ").expect(&line);
    assert!(url.starts_with("http://127.0.0.1:"), "{line}");
    let health: Value = reqwest::get(format!("{url}/healthz"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(health["status"], "ok");
    assert_eq!(health["version"], env!("CARGO_PKG_VERSION"));

    let pid = child.id().unwrap().to_string();
    let kill = std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap();
    assert!(kill.success());
    let status = tokio::time::timeout(Duration::from_secs(15), child.wait())
        .await
        .unwrap()
        .unwrap();
    assert!(status.success(), "{status}");
    assert_eq!(
        lines.next_line().await.unwrap(),
        None,
        "nothing else on stdout"
    );
}

async fn cancel(site: &Site, token: &str, ids: &[&str]) -> (StatusCode, Value) {
    site.post(
        token,
        "/api/v1/sites/hq/active-tasks/cancel",
        &json!({ "tasks": ids }),
    )
    .await
}

#[tokio::test]
async fn admins_cancel_queued_and_running_tasks_and_results_keep_request_order() {
    let dir = tempfile::tempdir().unwrap();
    let site = Site::start_with(test_config(dir.path(), "test", 1)).await;
    let token = site.admin().await;
    let running = site
        .create(&token, "hq", scan("WS-1", "hang", 1000, 0))
        .await;
    site.wait_for(&token, "hq", &running.id.to_string(), |t| {
        t.status == TaskStatus::Running
    })
    .await;
    let queued = site
        .create(&token, "hq", scan("WS-2", "hang", 1000, 0))
        .await;
    let done = site
        .create(&token, "hq", scan("WS-3", "finished", 10, 0))
        .await;
    // WS-3 waits behind the hung task: cancel the runner first, then it runs.

    let (status, body) = cancel(&site, &token, &["scan-2", "scan-99", "scan-1"]).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        body,
        json!({"results": [
            {"task": "scan-2", "outcome": "cancelled", "status": "cancelled"},
            {"task": "scan-99", "outcome": "not_found", "status": null},
            {"task": "scan-1", "outcome": "cancelled", "status": "cancelled"},
        ]})
    );
    for id in [&running.id, &queued.id] {
        let (_, body) = site
            .get(&token, &format!("/api/v1/sites/hq/tasks/{id}"))
            .await;
        assert_eq!(
            body["status"], "cancelled",
            "{id} is cancelled when the call returns"
        );
        assert!(body["end_date"].is_string());
    }
    let done = site
        .wait_for(&token, "hq", &done.id.to_string(), |t| {
            t.status.is_terminal()
        })
        .await;
    assert_eq!(
        done.status,
        TaskStatus::Finished,
        "the freed slot ran the next task"
    );

    // Cancelling again, or a finished task, changes nothing and says so.
    let (_, body) = cancel(&site, &token, &["scan-1", "scan-3"]).await;
    assert_eq!(body["results"][0]["outcome"], "already_terminal");
    assert_eq!(body["results"][0]["status"], "cancelled");
    assert_eq!(body["results"][1]["outcome"], "already_terminal");
    assert_eq!(body["results"][1]["status"], "finished");

    let (_, body) = site.get(&token, "/api/v1/sites/hq/scan-log").await;
    let log: LogPage = serde_json::from_value(body).unwrap();
    assert_eq!(log.entries.len(), 3, "one log row per task");
    for entry in log
        .entries
        .iter()
        .filter(|e| e.task.status == TaskStatus::Cancelled)
    {
        assert_eq!(entry.cancelled_by.as_deref(), Some("alice@example.com"));
    }
    let never_ran = log.entries.iter().find(|e| e.task.id == queued.id).unwrap();
    assert_eq!(
        never_ran.task.running_since, None,
        "a cancelled queued task never runs"
    );
}

#[tokio::test]
async fn site_users_cannot_cancel_and_nothing_changes() {
    let dir = tempfile::tempdir().unwrap();
    let site = Site::start_with(test_config(dir.path(), "test", 1)).await;
    let user = site.token(USER_ID, USER_SECRET).await;
    let task = site
        .create(&user, "hq", scan("WS-1", "hang", 1000, 0))
        .await;
    let (status, body) = cancel(&site, &user, &[&task.id.to_string()]).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(error_code(&body), "forbidden");
    let (_, body) = site
        .get(&user, &format!("/api/v1/sites/hq/tasks/{}", task.id))
        .await;
    assert!(
        matches!(body["status"].as_str(), Some("queued" | "running")),
        "{body}"
    );
}

#[tokio::test]
async fn cancel_requests_are_validated() {
    let dir = tempfile::tempdir().unwrap();
    let site = Site::start(dir.path()).await;
    let token = site.admin().await;
    let too_many: Vec<String> = (1..=501).map(|n| format!("scan-{n}")).collect();
    for body in [
        json!({"tasks": []}),
        json!({"tasks": too_many}),
        json!({"tasks": ["job-1"]}),
        json!({"tasks": "scan-1"}),
        json!({}),
    ] {
        let (status, answer) = site
            .post(&token, "/api/v1/sites/hq/active-tasks/cancel", &body)
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
        assert_eq!(error_code(&answer), "invalid_request");
    }
    let (status, _) = site
        .get(&token, "/api/v1/sites/hq/active-tasks/cancel")
        .await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
}

#[tokio::test]
async fn cancel_racing_completion_ends_each_task_exactly_once() {
    let dir = tempfile::tempdir().unwrap();
    let site = Site::start_with(test_config(dir.path(), "test", 8)).await;
    let token = site.admin().await;
    let mut ids = Vec::new();
    for i in 0..300u64 {
        let task = site
            .create(
                &token,
                "hq",
                scan(&format!("WS-{i}"), "finished", 20 + (i % 7) * 15, 0),
            )
            .await;
        ids.push(task.id.to_string());
    }
    // Cancels fired while tasks finish: each answer must match the end state.
    let mut calls = Vec::new();
    for chunk in ids.chunks(3) {
        let http = site.http.clone();
        let url = site.url("/api/v1/sites/hq/active-tasks/cancel");
        let token = token.clone();
        let body = json!({ "tasks": chunk });
        calls.push(tokio::spawn(async move {
            http.post(url)
                .bearer_auth(token)
                .json(&body)
                .send()
                .await
                .unwrap()
                .json::<Value>()
                .await
                .unwrap()
        }));
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let mut reported = std::collections::HashMap::new();
    for call in calls {
        for result in call.await.unwrap()["results"].as_array().unwrap() {
            reported.insert(result["task"].as_str().unwrap().to_owned(), result.clone());
        }
    }
    for id in &ids {
        let task = site
            .wait_for(&token, "hq", id, |t| t.status.is_terminal())
            .await;
        let result = &reported[id];
        assert_eq!(result["status"], task.status.as_str(), "{id}: {result}");
        match result["outcome"].as_str().unwrap() {
            "cancelled" => assert_eq!(task.status, TaskStatus::Cancelled),
            "already_terminal" => assert_eq!(task.status, TaskStatus::Finished),
            other => panic!("{id}: unexpected outcome {other}"),
        }
    }
    let (_, body) = site
        .get(&token, "/api/v1/sites/hq/scan-log?limit=1000")
        .await;
    assert_eq!(
        body["entries"].as_array().unwrap().len(),
        ids.len(),
        "one log row each"
    );
    let (_, body) = site.get(&token, "/api/v1/sites/hq/active-tasks").await;
    assert_eq!(
        body["counts"],
        json!({"queued": 0, "running": 0}),
        "the counters add up"
    );
    assert_eq!(body["total"], 0);
}

#[tokio::test]
async fn active_tasks_carry_an_etag_that_answers_304_until_something_changes() {
    let dir = tempfile::tempdir().unwrap();
    let site = Site::start(dir.path()).await;
    let token = site.admin().await;
    site.create(&token, "hq", scan("WS-1", "hang", 1000, 0))
        .await;
    site.wait_for(&token, "hq", "scan-1", |t| t.status == TaskStatus::Running)
        .await;
    let url = site.url("/api/v1/sites/hq/active-tasks?limit=50");
    let first = site
        .http
        .get(&url)
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(first.status(), StatusCode::OK);
    let etag = first.headers()["etag"].to_str().unwrap().to_owned();
    let again = site
        .http
        .get(&url)
        .bearer_auth(&token)
        .header("if-none-match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), StatusCode::NOT_MODIFIED);
    assert_eq!(again.headers()["etag"], etag.as_str());
    // Another query is another page.
    let other = site
        .http
        .get(site.url("/api/v1/sites/hq/active-tasks?limit=51"))
        .bearer_auth(&token)
        .header("if-none-match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(other.status(), StatusCode::OK);
    // A change makes the old tag stale.
    site.create(&token, "hq", scan("WS-2", "hang", 1000, 0))
        .await;
    let changed = site
        .http
        .get(&url)
        .bearer_auth(&token)
        .header("if-none-match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(changed.status(), StatusCode::OK);
}

#[tokio::test]
async fn audit_services_report_their_slots() {
    let dir = tempfile::tempdir().unwrap();
    let site = Site::start_with(test_config(dir.path(), "test", 3)).await;
    let token = site.admin().await;
    site.create(&token, "hq", scan("WS-1", "hang", 1000, 0))
        .await;
    site.wait_for(&token, "hq", "scan-1", |t| t.status == TaskStatus::Running)
        .await;
    let (status, body) = site.get(&token, "/api/v1/sites/hq/audit-services").await;
    assert_eq!(status, StatusCode::OK);
    let services = body["audit_services"].as_array().unwrap();
    assert_eq!(services.len(), 1);
    assert_eq!(services[0]["id"], "as-1");
    assert_eq!(services[0]["slots"], 3);
    assert_eq!(services[0]["busy"], 1);
    assert_eq!(services[0]["state"], "online");
    assert!(services[0]["last_heartbeat"].is_string());
    // (1.1) How it runs; only a remote service has an agent's address and version.
    assert_eq!(services[0]["runner"], "simulated");
    assert_eq!(services[0]["address"], Value::Null);
    assert_eq!(services[0]["version"], Value::Null);
}

/// Reads server-sent events until `count` events (not comments) arrived.
pub(crate) async fn read_events(
    response: &mut reqwest::Response,
    count: usize,
) -> Vec<(u64, String, Value)> {
    let mut buffer = String::new();
    let mut events = Vec::new();
    while events.len() < count {
        let chunk = tokio::time::timeout(Duration::from_secs(15), response.chunk())
            .await
            .expect("an event within 15 s")
            .unwrap()
            .expect("the stream stays open");
        buffer.push_str(&String::from_utf8_lossy(&chunk));
        take_events(&mut buffer, &mut events);
    }
    events
}

/// Moves every whole event block at the front of `buffer` into `events`
/// as (id, name, data), leaving a partial block where it is.
pub(crate) fn take_events(buffer: &mut String, events: &mut Vec<(u64, String, Value)>) {
    while let Some(end) = buffer.find("\n\n") {
        let block: String = buffer.drain(..end + 2).collect();
        let (mut id, mut name, mut data) = (0, String::new(), String::new());
        for line in block.lines() {
            if let Some(value) = line.strip_prefix("id:") {
                id = value.trim().parse().unwrap();
            } else if let Some(value) = line.strip_prefix("event:") {
                name = value.trim().to_owned();
            } else if let Some(value) = line.strip_prefix("data:") {
                data.push_str(value.trim());
            }
        }
        if !name.is_empty() {
            events.push((id, name, serde_json::from_str(&data).unwrap()));
        }
    }
}

#[tokio::test]
async fn events_stream_every_change_in_revision_order_and_replay_after_reconnect() {
    let dir = tempfile::tempdir().unwrap();
    let site = Site::start(dir.path()).await;
    let token = site.admin().await;
    let url = site.url("/api/v1/sites/hq/events");
    let mut stream = site
        .http
        .get(&url)
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(stream.status(), StatusCode::OK);
    assert!(stream.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/event-stream"));

    let task = site
        .create(&token, "hq", scan("WS-1", "finished", 300, 0))
        .await;
    // Created, picked up, then finished (progress may come in between).
    let mut seen = Vec::new();
    while seen
        .last()
        .is_none_or(|(_, name, data): &(u64, String, Value)| {
            name != "task" || data["status"] != "finished"
        })
    {
        seen.extend(read_events(&mut stream, 1).await);
    }
    let revisions: Vec<u64> = seen.iter().map(|(id, _, _)| *id).collect();
    assert!(revisions.windows(2).all(|w| w[0] < w[1]), "{revisions:?}");
    // Audit Service events (its busy slots) come in between.
    let task_events: Vec<&Value> = seen
        .iter()
        .filter(|(_, name, _)| name == "task")
        .map(|(_, _, data)| data)
        .collect();
    assert!(task_events
        .iter()
        .all(|data| data["id"] == task.id.to_string()));
    assert_eq!(task_events[0]["status"], "queued");
    let terminal = &seen.last().unwrap().2;
    assert!(terminal["end_date"].is_string());
    assert_eq!(terminal["errors"], 0);

    // Reconnecting after the first event replays exactly what came after it.
    let mut resumed = site
        .http
        .get(&url)
        .bearer_auth(&token)
        .header("last-event-id", seen[0].0.to_string())
        .send()
        .await
        .unwrap();
    let replayed = read_events(&mut resumed, seen.len() - 1).await;
    assert_eq!(
        replayed.iter().map(|(id, _, _)| *id).collect::<Vec<_>>(),
        revisions[1..].to_vec()
    );

    // An id this Site never gave out: the client must refetch.
    let mut unknown = site
        .http
        .get(&url)
        .bearer_auth(&token)
        .header("last-event-id", "999999")
        .send()
        .await
        .unwrap();
    let reset = read_events(&mut unknown, 1).await;
    assert_eq!(reset[0].1, "reset");
}

#[tokio::test]
async fn events_announce_audit_service_slots_and_new_signals() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = test_config(dir.path(), "test", 1);
    config.sites[0].running_long_after = Duration::from_secs(1);
    let site = Site::start_with(config).await;
    let token = site.admin().await;
    let mut stream = site
        .http
        .get(site.url("/api/v1/sites/hq/events"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    site.create(&token, "hq", scan("WS-1", "hang", 1000, 0))
        .await;

    let mut seen: Vec<(u64, String, Value)> = Vec::new();
    let has = |seen: &[(u64, String, Value)], wanted: &dyn Fn(&str, &Value) -> bool| {
        seen.iter().any(|(_, name, data)| wanted(name, data))
    };
    let busy = |name: &str, data: &Value| {
        name == "audit_service" && data["id"] == "as-1" && data["busy"] == 1
    };
    let running_long = |name: &str, data: &Value| {
        name == "signal" && data["kind"] == "task_running_long" && data["task"] == "scan-1"
    };
    while !(has(&seen, &busy) && has(&seen, &running_long)) {
        seen.extend(read_events(&mut stream, 1).await);
    }
    let revisions: Vec<u64> = seen.iter().map(|(id, _, _)| *id).collect();
    assert!(revisions.windows(2).all(|w| w[0] < w[1]), "{revisions:?}");
    let service = seen.iter().find(|(_, n, d)| busy(n, d)).unwrap();
    assert_eq!(service.2["slots"], 1);
    assert_eq!(service.2["state"], "online");
    let signal = seen.iter().find(|(_, n, d)| running_long(n, d)).unwrap();
    assert!(signal.2["message"].as_str().unwrap().contains("Scan #1"));
    assert_eq!(
        seen.iter().filter(|(_, n, d)| running_long(n, d)).count(),
        1,
        "announced once"
    );

    // Cancelling frees the slot: announced too.
    cancel(&site, &token, &["scan-1"]).await;
    loop {
        let (_, name, data) = read_events(&mut stream, 1).await.remove(0);
        if name == "audit_service" && data["busy"] == 0 {
            break;
        }
    }
}

#[tokio::test]
async fn stopping_the_server_closes_event_streams() {
    let dir = tempfile::tempdir().unwrap();
    let site = Site::start(dir.path()).await;
    let token = site.admin().await;
    let mut stream = site
        .http
        .get(site.url("/api/v1/sites/hq/events"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    tokio::time::timeout(Duration::from_secs(15), site.server.stop())
        .await
        .expect("stop does not wait for open streams");
    let end = tokio::time::timeout(Duration::from_secs(5), async {
        while let Ok(Some(_)) = stream.chunk().await {}
    })
    .await;
    assert!(end.is_ok(), "the stream ended");
}

/// Every page of a query, following cursors.
async fn all_pages(site: &Site, token: &str, query: &str) -> Vec<Task> {
    let mut tasks = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(c) => format!("/api/v1/sites/hq/active-tasks?{query}&limit=2&cursor={c}"),
            None => format!("/api/v1/sites/hq/active-tasks?{query}&limit=2"),
        };
        let (status, body) = site.get(token, &path).await;
        assert_eq!(status, StatusCode::OK, "{path}: {body}");
        let page: ActiveTasksPage = serde_json::from_value(body).unwrap();
        tasks.extend(page.tasks);
        cursor = page.next_cursor;
        if cursor.is_none() {
            return tasks;
        }
    }
}

async fn listed(site: &Site, token: &str, query: &str) -> (u64, Vec<String>) {
    let (status, body) = site
        .get(token, &format!("/api/v1/sites/hq/active-tasks?{query}"))
        .await;
    assert_eq!(status, StatusCode::OK, "{query}: {body}");
    let page: ActiveTasksPage = serde_json::from_value(body).unwrap();
    (
        page.total,
        page.tasks.iter().map(|t| t.id.to_string()).collect(),
    )
}

#[tokio::test]
async fn active_tasks_filter_search_and_sort_with_stable_paging() {
    let dir = tempfile::tempdir().unwrap();
    let site = Site::start_with(test_config(dir.path(), "test", 1)).await;
    let admin = site.admin().await;
    let user = site.token(USER_ID, USER_SECRET).await;
    let specs = [
        (&admin, "scan", "device", "ws-10", "Segment HQ-LAN"),
        (&user, "audit", "segment", "HQ-LAN", "Segment HQ-LAN"),
        (
            &admin,
            "scan",
            "cloud_resource",
            "aws:prod-db",
            "Cloud estate",
        ),
        (&user, "scan", "device", "WS-2", "Segment DMZ"),
        (&admin, "audit", "device", "Ws-1", "Segment DMZ"),
        (&user, "scan", "segment", "DMZ", "Segment DMZ"),
    ];
    for (token, kind, target_type, name, scope) in specs {
        let body = json!({
            "kind": kind, "target": {"type": target_type, "name": name}, "scope": scope,
            "simulate": {"duration_ms": 1000, "outcome": "hang"}
        });
        site.create(token, "hq", body).await;
    }
    site.wait_for(&admin, "hq", "scan-1", |t| t.status == TaskStatus::Running)
        .await;

    assert_eq!(listed(&site, &admin, "kind=audit").await.0, 2);
    let (total, ids) = listed(&site, &admin, "status=running").await;
    assert_eq!((total, ids), (1, vec!["scan-1".to_owned()]));
    assert_eq!(listed(&site, &admin, "status=queued").await.0, 5);
    assert_eq!(
        listed(&site, &admin, "initiator=BOB@example.com").await.0,
        3
    );
    assert_eq!(
        listed(&site, &admin, "target_type=segment,cloud_resource")
            .await
            .0,
        3
    );
    assert_eq!(
        listed(&site, &admin, "kind=scan&target_type=device")
            .await
            .1,
        ["scan-3", "scan-1"]
    );
    // Search: case-insensitive over target, label, scope and initiator.
    assert_eq!(
        listed(&site, &admin, "q=WS-1").await.1,
        ["audit-2", "scan-1"]
    );
    assert_eq!(listed(&site, &admin, "q=audit%20%232").await.1, ["audit-2"]);
    assert_eq!(listed(&site, &admin, "q=dmz").await.0, 3);
    assert_eq!(listed(&site, &admin, "q=bob@").await.0, 3);
    assert_eq!(listed(&site, &admin, "q=100%25").await.0, 0, "% is literal");
    assert_eq!(
        listed(&site, &admin, "q=WS-1%0AAudit").await.0,
        0,
        "a match within one text, never across two"
    );
    // Filtered totals, whole-Site counts.
    let (_, body) = site
        .get(&admin, "/api/v1/sites/hq/active-tasks?kind=audit")
        .await;
    assert_eq!(body["counts"], json!({"queued": 5, "running": 1}));

    let names = |tasks: &[Task]| {
        tasks
            .iter()
            .map(|t| t.target.name.clone())
            .collect::<Vec<_>>()
    };
    let by_target = all_pages(&site, &admin, "sort=target&order=asc").await;
    assert_eq!(
        names(&by_target),
        ["aws:prod-db", "DMZ", "HQ-LAN", "Ws-1", "ws-10", "WS-2"]
    );
    let by_target_desc = all_pages(&site, &admin, "sort=target").await;
    assert_eq!(
        names(&by_target_desc),
        ["WS-2", "ws-10", "Ws-1", "HQ-LAN", "DMZ", "aws:prod-db"]
    );
    let by_task = all_pages(&site, &admin, "sort=task&order=asc").await;
    let labels: Vec<_> = by_task.iter().map(|t| t.label.clone()).collect();
    assert_eq!(
        labels,
        ["Audit #1", "Audit #2", "Scan #1", "Scan #2", "Scan #3", "Scan #4"]
    );
    let by_status = all_pages(&site, &admin, "sort=status&order=asc").await;
    assert_eq!(
        by_status.last().unwrap().status,
        TaskStatus::Running,
        "queued before running"
    );
    let by_initiator = all_pages(&site, &admin, "sort=initiator&order=asc&kind=scan").await;
    let initiators: Vec<_> = by_initiator
        .iter()
        .map(|t| t.initiator.as_str().to_owned())
        .collect();
    assert_eq!(
        initiators,
        [
            "alice@example.com",
            "alice@example.com",
            "bob@example.com",
            "bob@example.com"
        ]
    );

    // A cursor is only good for the sort it came from.
    let (_, body) = site
        .get(&admin, "/api/v1/sites/hq/active-tasks?sort=target&limit=1")
        .await;
    let cursor = body["next_cursor"].as_str().unwrap();
    let (status, body) = site
        .get(
            &admin,
            &format!("/api/v1/sites/hq/active-tasks?sort=scope&limit=1&cursor={cursor}"),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(error_code(&body), "invalid_request");
}

#[tokio::test]
async fn ten_failed_token_requests_lock_a_client_id_out() {
    let dir = tempfile::tempdir().unwrap();
    let site = Site::start(dir.path()).await;
    for _ in 0..10 {
        let response = site.request_token(ADMIN_ID, "wrong").await;
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    }
    // Now even the right secret waits.
    let locked = site.request_token(ADMIN_ID, ADMIN_SECRET).await;
    assert_eq!(locked.status(), StatusCode::TOO_MANY_REQUESTS);
    let wait = retry_after(&locked);
    assert!((1..=300).contains(&wait), "{wait}");
    // Other clients are not affected.
    site.token(USER_ID, USER_SECRET).await;
}

#[tokio::test]
async fn each_client_id_has_a_request_budget_per_minute() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = test_config(dir.path(), "test", 2);
    config.rate_limit_per_minute = 5;
    let site = Site::start_with(config).await;
    // The token request counts too: four calls are left.
    let token = site.admin().await;
    for _ in 0..4 {
        assert_eq!(site.get(&token, "/api/v1/me").await.0, StatusCode::OK);
    }
    let response = site
        .http
        .get(site.url("/api/v1/me"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(response.headers().contains_key("retry-after"));
    let body: Value = response.json().await.unwrap();
    assert_eq!(error_code(&body), "rate_limited");
    // Another client id has its own budget.
    let user = site.token(USER_ID, USER_SECRET).await;
    assert_eq!(site.get(&user, "/api/v1/me").await.0, StatusCode::OK);
}

/// The seconds a 429 `response` says to wait (its `Retry-After`).
pub(crate) fn retry_after(response: &reqwest::Response) -> u64 {
    let value = response
        .headers()
        .get("retry-after")
        .expect("a 429 says when to retry");
    value
        .to_str()
        .unwrap()
        .parse()
        .expect("Retry-After in seconds")
}

/// An access token for the test configuration's administrator from the
/// server (or proxy) at `url`.
pub(crate) async fn admin_token_at(http: &Client, url: &str) -> String {
    let response = http
        .post(format!("{url}/api/oauth/token"))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", ADMIN_ID),
            ("client_secret", ADMIN_SECRET),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK, "a token from {url}");
    response.json::<TokenResponse>().await.unwrap().access_token
}

/// Starts the binary on `config` and returns it with its URL.
pub(crate) async fn spawn_server(config: &Path) -> (tokio::process::Child, String) {
    use tokio::io::{AsyncBufReadExt, BufReader};
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_taskdeck-site"))
        .arg("serve")
        .arg("--config")
        .arg(config)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let line = tokio::time::timeout(
        Duration::from_secs(20),
        BufReader::new(stdout).lines().next_line(),
    )
    .await
    .unwrap()
    .unwrap()
    .unwrap();
    let url = line.strip_prefix("listening on ").expect(&line).to_owned();
    (child, url)
}

#[tokio::test]
async fn nothing_is_lost_or_duplicated_after_kill_9() {
    let dir = tempfile::tempdir().unwrap();
    let config_path = dir.path().join("site.toml");
    let config_text = test_config_text(&dir.path().join("data"), "test", 2);
    std::fs::write(&config_path, config_text).unwrap();
    let http = Client::new();
    let token = |url: String| {
        let http = http.clone();
        async move { admin_token_at(&http, &url).await }
    };

    let (mut child, url) = spawn_server(&config_path).await;
    let bearer = token(url.clone()).await;
    let mut created = Vec::new();
    for i in 0..6 {
        let response = http
            .post(format!("{url}/api/v1/sites/hq/tasks"))
            .bearer_auth(&bearer)
            .json(&scan(&format!("WS-{i}"), "hang", 1000, 0))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::CREATED);
        created.push(response.json::<Task>().await.unwrap().id.to_string());
    }
    // Two run (two slots), four wait.
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let page: ActiveTasksPage = http
            .get(format!("{url}/api/v1/sites/hq/active-tasks"))
            .bearer_auth(&bearer)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        if page.counts.running == 2 {
            break;
        }
        assert!(Instant::now() < deadline, "two tasks never ran");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    child.start_kill().unwrap();
    child.wait().await.unwrap();

    let (_child, url) = spawn_server(&config_path).await;
    let bearer = token(url.clone()).await;
    let mut queued = 0;
    let mut interrupted = 0;
    for id in &created {
        let task: Task = http
            .get(format!("{url}/api/v1/sites/hq/tasks/{id}"))
            .bearer_auth(&bearer)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        match task.status {
            TaskStatus::Failed => {
                assert!(task.errors >= 1);
                interrupted += 1;
            }
            // Queued tasks survived; with slots free again two of them run now.
            TaskStatus::Queued | TaskStatus::Running => queued += 1,
            other => panic!("{id} is {other}"),
        }
    }
    assert_eq!((interrupted, queued), (2, 4));
    let log: LogPage = http
        .get(format!("{url}/api/v1/sites/hq/scan-log"))
        .bearer_auth(&bearer)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(log.entries.len(), 2, "one log row per interrupted task");
    assert!(log
        .entries
        .iter()
        .all(|e| e.error_messages[0].contains("Interrupted")));
    let next = http
        .post(format!("{url}/api/v1/sites/hq/tasks"))
        .bearer_auth(&bearer)
        .json(&scan("WS-9", "finished", 10, 0))
        .send()
        .await
        .unwrap()
        .json::<Task>()
        .await
        .unwrap();
    assert_eq!(next.number, 7, "numbers continue after the crash");
}

#[tokio::test]
async fn signals_name_tasks_running_too_long_and_stats_cover_a_day() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = test_config(dir.path(), "test", 2);
    config.sites[0].running_long_after = Duration::from_secs(1);
    config.sites[0].queue_long_threshold = 1;
    config.sites[0].queue_long_window = Duration::from_secs(0);
    let site = Site::start_with(config).await;
    let token = site.admin().await;
    let (status, body) = site.get(&token, "/api/v1/sites/hq/signals").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        body,
        json!({"signals": []}),
        "nothing to report on an idle Site"
    );

    site.create(&token, "hq", scan("WS-1", "hang", 1000, 0))
        .await;
    site.create(&token, "hq", scan("WS-2", "finished", 10, 0))
        .await;
    site.wait_for(&token, "hq", "scan-2", |t| t.status.is_terminal())
        .await;
    let deadline = Instant::now() + Duration::from_secs(15);
    let signal = loop {
        let (_, body) = site.get(&token, "/api/v1/sites/hq/signals").await;
        let found = body["signals"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["kind"] == "task_running_long")
            .cloned();
        if let Some(signal) = found {
            break signal;
        }
        assert!(
            Instant::now() < deadline,
            "no task_running_long signal: {body}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert_eq!(signal["task"], "scan-1");
    assert!(signal["running_since"].is_string());
    assert!(signal["message"].as_str().unwrap().contains("Scan #1"));

    let (status, body) = site.get(&token, "/api/v1/sites/hq/stats").await;
    assert_eq!(status, StatusCode::OK);
    let stats: site_api::Stats = serde_json::from_value(body).unwrap();
    assert_eq!(stats.now.slots_total, 2);
    assert_eq!(stats.now.running, 1);
    assert_eq!(stats.now.slots_busy, 1);
    assert_eq!(
        stats.history.len(),
        24 * 60,
        "one bucket a minute for 24 hours"
    );
    assert!(stats
        .history
        .windows(2)
        .all(|w| (w[1].at - w[0].at).num_seconds() == 60));
    let finished: u64 = stats.history.iter().map(|b| b.finished).sum();
    assert_eq!(finished, 1);
    assert_eq!(
        stats.history.last().unwrap().running,
        1,
        "the current minute shows the queue now"
    );
}

#[tokio::test]
async fn admins_manage_schedules_and_users_only_read_them() {
    let dir = tempfile::tempdir().unwrap();
    let site = Site::start(dir.path()).await;
    let admin = site.admin().await;
    let user = site.token(USER_ID, USER_SECRET).await;
    let body = json!({
        "name": "Hourly LAN scan", "kind": "scan", "cron": "0 * * * *",
        "target": {"type": "segment", "name": "HQ-LAN"}, "scope": "Segment HQ-LAN"
    });
    let (status, _) = site.post(&user, "/api/v1/sites/hq/schedules", &body).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, created) = site.post(&admin, "/api/v1/sites/hq/schedules", &body).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let schedule: site_api::Schedule = serde_json::from_value(created).unwrap();
    assert!(schedule.enabled);
    let next_run = schedule
        .next_run
        .expect("an enabled schedule has a next run");
    assert_eq!(next_run.timestamp() % 3600, 0, "on the hour");
    assert!(next_run > chrono::Utc::now());

    let (status, list) = site.get(&user, "/api/v1/sites/hq/schedules").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(list["schedules"][0]["id"], schedule.id.as_str());

    let path = format!("/api/v1/sites/hq/schedules/{}", schedule.id);
    let patch = |token: String, body: Value| {
        let request = site
            .http
            .patch(site.url(&path))
            .bearer_auth(token)
            .json(&body);
        async move { request.send().await.unwrap() }
    };
    assert_eq!(
        patch(user.clone(), json!({"enabled": false}))
            .await
            .status(),
        StatusCode::FORBIDDEN
    );
    let disabled = patch(admin.clone(), json!({"enabled": false})).await;
    assert_eq!(disabled.status(), StatusCode::OK);
    let disabled: Value = disabled.json().await.unwrap();
    assert_eq!(disabled["enabled"], false);
    assert_eq!(disabled["next_run"], Value::Null);
    assert_eq!(disabled["name"], "Hourly LAN scan", "unsent fields stay");
    let bad = patch(admin.clone(), json!({"cron": "every hour"})).await;
    assert_eq!(bad.status(), StatusCode::BAD_REQUEST);

    for (cron, why) in [
        ("* * * *", "four fields"),
        ("0 0 * * * *", "six fields"),
        ("99 * * * *", "bad minute"),
    ] {
        let mut body = body.clone();
        body["cron"] = json!(cron);
        let (status, answer) = site.post(&admin, "/api/v1/sites/hq/schedules", &body).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{why}");
        assert_eq!(error_code(&answer), "invalid_request");
    }

    let delete = site
        .http
        .delete(site.url(&path))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap();
    assert_eq!(delete.status(), StatusCode::NO_CONTENT);
    let (status, _) = site.get(&admin, &path).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_firing_missed_while_down_runs_once_at_start() {
    let dir = tempfile::tempdir().unwrap();
    let site = Site::start(dir.path()).await;
    let admin = site.admin().await;
    let (_, created) = site
        .post(
            &admin,
            "/api/v1/sites/hq/schedules",
            &json!({
                "name": "Nightly audit", "kind": "audit", "cron": "0 0 1 1 *",
                "target": {"type": "device", "name": "SRV-DB-01"}, "scope": "Servers"
            }),
        )
        .await;
    let id = created["id"].as_str().unwrap().to_owned();
    site.server.stop().await;

    // While the server was down, an hour of firings went by.
    let pool = taskdeck_site::db::open(&test_store(dir.path()))
        .await
        .unwrap();
    let an_hour_ago = chrono::Utc::now().timestamp() - 3600;
    sqlx::query("UPDATE schedules SET next_run = $1")
        .bind(an_hour_ago)
        .execute(&pool)
        .await
        .unwrap();
    pool.close().await;

    let site = Site::start(dir.path()).await;
    let admin = site.admin().await;
    let task = site.wait_for(&admin, "hq", "audit-1", |_| true).await;
    assert_eq!(task.initiator, site_api::Initiator::Schedule);
    let schedule = task.schedule.expect("the schedule is named");
    assert_eq!(
        (schedule.id.as_str(), schedule.name.as_str()),
        (id.as_str(), "Nightly audit")
    );
    assert_eq!(task.target.name, "SRV-DB-01");
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let (_, body) = site.get(&admin, "/api/v1/sites/hq/tasks/audit-2").await;
    assert_eq!(
        error_code(&body),
        "not_found",
        "one firing, not one per missed slot"
    );
    let (_, body) = site
        .get(&admin, &format!("/api/v1/sites/hq/schedules/{id}"))
        .await;
    let next_run: chrono::DateTime<chrono::Utc> =
        body["next_run"].as_str().unwrap().parse().unwrap();
    assert!(next_run > chrono::Utc::now(), "next run moved past now");
}

#[tokio::test]
async fn the_demo_serves_a_live_queue_with_its_own_schedules() {
    let starting = Instant::now();
    let demo = taskdeck_site::demo::start(Default::default())
        .await
        .unwrap();
    eprintln!("the demo started in {:?}", starting.elapsed());
    let site = Site {
        http: Client::new(),
        server: demo.server,
    };
    let admin = demo
        .registrations
        .iter()
        .find(|r| r.role == site_api::SiteRole::SiteAdministrator)
        .unwrap();
    let token = site.token(&admin.client_id, &admin.client_secret).await;
    let (_, body) = site.get(&token, "/api/v1/sites/demo/schedules").await;
    let schedules: site_api::SchedulesResponse = serde_json::from_value(body).unwrap();
    assert_eq!(schedules.schedules.len(), 3);
    assert!(schedules
        .schedules
        .iter()
        .all(|s| s.enabled && s.next_run.is_some()));
    // The demo seeds its queue in the background as it starts.
    let deadline = Instant::now() + Duration::from_secs(20);
    let page = loop {
        let (_, body) = site.get(&token, "/api/v1/sites/demo/active-tasks").await;
        let page: ActiveTasksPage = serde_json::from_value(body).unwrap();
        if page.total >= 10 {
            break page;
        }
        assert!(
            Instant::now() < deadline,
            "the demo starts with a queue: {}",
            page.total
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    for task in page
        .tasks
        .iter()
        .filter(|t| t.initiator == site_api::Initiator::Schedule)
    {
        let reference = task
            .schedule
            .as_ref()
            .expect("scheduled tasks name their schedule");
        assert!(schedules
            .schedules
            .iter()
            .any(|s| s.id == reference.id && s.name == reference.name));
    }
    // Its first queue entered over the last minutes, not at one instant.
    let starts: Vec<_> = page.tasks.iter().map(|t| t.start_date).collect();
    let (first, last) = (starts.iter().min().unwrap(), starts.iter().max().unwrap());
    assert!(
        *last - *first >= chrono::Duration::minutes(5),
        "start dates spread: {first} … {last}"
    );
    // A day behind it: its logs and the stats' history are full at once.
    let (_, body) = site.get(&token, "/api/v1/sites/demo/scan-log").await;
    let log: site_api::LogPage = serde_json::from_value(body).unwrap();
    assert!(log.entries.len() >= 100, "{} log rows", log.entries.len());
    assert!(log
        .entries
        .iter()
        .any(|e| e.task.status == site_api::TaskStatus::Failed && !e.error_messages.is_empty()));
    let (_, body) = site.get(&token, "/api/v1/sites/demo/stats").await;
    let stats: site_api::Stats = serde_json::from_value(body).unwrap();
    let ended: u64 = stats
        .history
        .iter()
        .map(|b| b.finished + b.failed + b.cancelled)
        .sum();
    assert!(ended >= 300, "{ended} ended in the history");
    assert!(
        stats.history.iter().any(|b| b.queued >= 25),
        "a long queue in the day"
    );
    // The viewer may look but not cancel.
    let viewer = demo
        .registrations
        .iter()
        .find(|r| r.role == site_api::SiteRole::SiteUser)
        .unwrap();
    let viewer_token = site.token(&viewer.client_id, &viewer.client_secret).await;
    let (status, _) = site
        .post(
            &viewer_token,
            "/api/v1/sites/demo/active-tasks/cancel",
            &json!({"tasks": [page.tasks[0].id]}),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    site.server.stop().await;
}

#[tokio::test]
async fn logs_filter_by_status_errors_time_and_search_and_page_without_gaps() {
    let dir = tempfile::tempdir().unwrap();
    let site = Site::start_with(test_config(dir.path(), "test", 4)).await;
    let admin = site.admin().await;
    let user = site.token(USER_ID, USER_SECRET).await;
    let mut ids = Vec::new();
    for i in 0..5 {
        let outcome = if i % 2 == 0 { "finished" } else { "failed" };
        let token = if i < 3 { &admin } else { &user };
        ids.push(
            site.create(token, "hq", scan(&format!("LOG-{i}"), outcome, 10, 1))
                .await
                .id
                .to_string(),
        );
    }
    let hang = site
        .create(&admin, "hq", scan("LOG-hang", "hang", 1000, 0))
        .await;
    cancel(&site, &admin, &[&hang.id.to_string()]).await;
    for id in &ids {
        site.wait_for(&admin, "hq", id, |t| t.status.is_terminal())
            .await;
    }
    let entries = |body: &Value| -> Vec<String> {
        body["entries"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["id"].as_str().unwrap().to_owned())
            .collect()
    };
    let (_, all) = site.get(&admin, "/api/v1/sites/hq/scan-log").await;
    assert_eq!(entries(&all).len(), 6);
    let (_, failed) = site
        .get(&admin, "/api/v1/sites/hq/scan-log?status=failed")
        .await;
    assert_eq!(entries(&failed).len(), 2);
    let (_, cancelled) = site
        .get(&admin, "/api/v1/sites/hq/scan-log?status=cancelled")
        .await;
    assert_eq!(entries(&cancelled), [hang.id.to_string()]);
    assert_eq!(cancelled["entries"][0]["cancelled_by"], "alice@example.com");
    let (_, clean) = site
        .get(&admin, "/api/v1/sites/hq/scan-log?has_errors=false")
        .await;
    assert_eq!(
        entries(&clean),
        [hang.id.to_string()],
        "finished with an error counts as having errors"
    );
    let (_, bobs) = site
        .get(
            &admin,
            "/api/v1/sites/hq/scan-log?initiator=bob@example.com",
        )
        .await;
    assert_eq!(entries(&bobs).len(), 2);
    let (_, found) = site.get(&admin, "/api/v1/sites/hq/scan-log?q=log-3").await;
    assert_eq!(entries(&found), ["scan-4"]);
    let (_, future) = site
        .get(
            &admin,
            "/api/v1/sites/hq/scan-log?since=2999-01-01T00:00:00Z",
        )
        .await;
    assert_eq!(entries(&future).len(), 0);
    let (_, past) = site
        .get(
            &admin,
            "/api/v1/sites/hq/scan-log?until=2999-01-01T00:00:00Z",
        )
        .await;
    assert_eq!(entries(&past).len(), 6);

    // Pages of two, newest end first, nothing skipped or repeated.
    let mut paged = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(c) => format!("/api/v1/sites/hq/scan-log?limit=2&cursor={c}"),
            None => "/api/v1/sites/hq/scan-log?limit=2".to_owned(),
        };
        let (status, body) = site.get(&admin, &path).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        paged.extend(entries(&body));
        cursor = body["next_cursor"].as_str().map(str::to_owned);
        if cursor.is_none() {
            break;
        }
    }
    assert_eq!(paged, entries(&all));

    for query in [
        "status=queued",
        "has_errors=maybe",
        "since=yesterday",
        "cursor=zzz",
        "order=asc",
    ] {
        let (status, body) = site
            .get(&admin, &format!("/api/v1/sites/hq/scan-log?{query}"))
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{query}");
        assert_eq!(error_code(&body), "invalid_request");
    }
}

#[tokio::test]
async fn a_registration_created_on_the_command_line_gets_tokens() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("site.toml");
    std::fs::write(
        &config,
        r#"listen = "127.0.0.1:0"
data_dir = "data"

[[sites]]
id = "hq"
name = "Headquarters"

[[users]]
email = "carol@example.com"
display_name = "Carol"
roles = { hq = "site_user" }
"#,
    )
    .unwrap();
    let run = |owner: &str| {
        std::process::Command::new(env!("CARGO_BIN_EXE_taskdeck-site"))
            .args([
                "app-registration",
                "create",
                "--owner",
                owner,
                "--name",
                "Carol's laptop",
                "--expires",
                "2099-01-01",
                "--config",
            ])
            .arg(&config)
            .output()
            .unwrap()
    };
    let refused = run("nobody@example.com");
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("not a user"));

    let created = run("carol@example.com");
    assert!(
        created.status.success(),
        "{}",
        String::from_utf8_lossy(&created.stderr)
    );
    let stdout = String::from_utf8(created.stdout).unwrap();
    let value = |key: &str| {
        stdout
            .lines()
            .find_map(|line| line.strip_prefix(&format!("{key} = ")))
            .unwrap()
            .to_owned()
    };
    let (client_id, secret) = (value("client_id"), value("client_secret"));
    let written = std::fs::read_to_string(&config).unwrap();
    assert!(
        written.contains(&client_id) && !written.contains(&secret),
        "only the hash is kept"
    );

    let (_child, url) = spawn_server(&config).await;
    let response = Client::new()
        .post(format!("{url}/api/oauth/token"))
        .basic_auth(&client_id, Some(&secret))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
}

#[tokio::test]
async fn the_command_runner_runs_a_real_program_and_kills_its_group_on_cancel_and_timeout() {
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("audit.sh");
    let pids = dir.path().join("pids");
    std::fs::write(
        &script,
        format!(
            r#"#!/bin/sh
echo "PROGRESS 1/3"
echo "ERROR $2: slow answer"
case "$2" in
  fail*) echo "probe crashed on $2" >&2; exit 3 ;;
  hang*) sleep 300 & echo $! >> {pids}; wait ;;
  *) echo "PROGRESS 3/3"; exit 0 ;;
esac
"#,
            pids = pids.display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(&script, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let mut config = test_config(dir.path(), "test", 4);
    for service in &mut config.sites[0].audit_services {
        service.runner = taskdeck_site::config::RunnerKind::Command;
        service.command = vec![
            script.display().to_string(),
            "{kind}".into(),
            "{target}".into(),
            "{scope}".into(),
        ];
        service.timeout = Some(Duration::from_secs(3));
    }
    let site = Site::start_with(config).await;
    let token = site.admin().await;
    let create = |name: &str| json!({"kind": "scan", "target": {"type": "device", "name": name}, "scope": "HQ"});
    let ok = site.create(&token, "hq", create("ok-1")).await;
    let bad = site.create(&token, "hq", create("fail-1")).await;
    let hung = site.create(&token, "hq", create("hang-1")).await;
    let slow = site.create(&token, "hq", create("hang-2")).await;

    let ok = site
        .wait_for(&token, "hq", &ok.id.to_string(), |t| t.status.is_terminal())
        .await;
    assert_eq!(ok.status, TaskStatus::Finished);
    assert_eq!(ok.errors, 1, "an ERROR line counts");
    assert_eq!(ok.progress, Some(site_api::Progress { done: 3, total: 3 }));
    let bad = site
        .wait_for(&token, "hq", &bad.id.to_string(), |t| {
            t.status.is_terminal()
        })
        .await;
    assert_eq!(bad.status, TaskStatus::Failed);
    assert_eq!(bad.errors, 2);
    let (_, log) = site
        .get(&token, "/api/v1/sites/hq/scan-log?status=failed")
        .await;
    let messages = log["entries"][0]["error_messages"].to_string();
    assert!(
        messages.contains("fail-1: slow answer") && messages.contains("probe crashed on fail-1"),
        "{messages}"
    );

    // Cancel stops the program and everything it started.
    site.wait_for(&token, "hq", &hung.id.to_string(), |t| {
        t.status == TaskStatus::Running
    })
    .await;
    let deadline = Instant::now() + Duration::from_secs(10);
    while std::fs::read_to_string(&pids)
        .map(|p| p.lines().count())
        .unwrap_or(0)
        < 2
    {
        assert!(Instant::now() < deadline, "the hung programs never started");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let (_, body) = cancel(&site, &token, &[&hung.id.to_string()]).await;
    assert_eq!(body["results"][0]["outcome"], "cancelled");
    // The other hangs until the 3 s timeout.
    let slow = site
        .wait_for(&token, "hq", &slow.id.to_string(), |t| {
            t.status.is_terminal()
        })
        .await;
    assert_eq!(slow.status, TaskStatus::Failed);
    let (_, body) = site
        .get(&token, &format!("/api/v1/sites/hq/scan-log?q={}", "hang-2"))
        .await;
    assert!(body["entries"][0]["error_messages"]
        .to_string()
        .contains("timed out"));
    tokio::time::sleep(Duration::from_millis(500)).await;
    for pid in std::fs::read_to_string(&pids).unwrap().lines() {
        assert!(
            !Path::new(&format!("/proc/{pid}")).exists()
                || std::fs::read_to_string(format!("/proc/{pid}/stat"))
                    .unwrap_or_default()
                    .contains(") Z "),
            "sleep {pid} outlived its task"
        );
    }
}

#[tokio::test]
async fn tls_serves_https_with_the_configured_certificate() {
    let dir = tempfile::tempdir().unwrap();
    // A private CA, and a server certificate for 127.0.0.1 signed by it.
    let openssl = |args: &[&str]| {
        let made = std::process::Command::new("openssl")
            .args(args)
            .current_dir(dir.path())
            .output()
            .expect("openssl is installed");
        assert!(
            made.status.success(),
            "openssl {args:?}: {}",
            String::from_utf8_lossy(&made.stderr)
        );
    };
    openssl(&[
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-days",
        "1",
        "-subj",
        "/CN=Taskdeck Test CA",
        "-keyout",
        "ca.key",
        "-out",
        "ca.pem",
    ]);
    openssl(&[
        "req",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-subj",
        "/CN=127.0.0.1",
        "-keyout",
        "key.pem",
        "-out",
        "server.csr",
    ]);
    std::fs::write(dir.path().join("ext.cnf"), "subjectAltName=IP:127.0.0.1\nbasicConstraints=critical,CA:FALSE\nextendedKeyUsage=serverAuth\n").unwrap();
    openssl(&[
        "x509",
        "-req",
        "-in",
        "server.csr",
        "-CA",
        "ca.pem",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-days",
        "1",
        "-extfile",
        "ext.cnf",
        "-out",
        "cert.pem",
    ]);
    let config = dir.path().join("site.toml");
    std::fs::write(
        &config,
        "listen = \"127.0.0.1:0\"\ndata_dir = \"data\"\n\n[tls]\ncert = \"cert.pem\"\nkey = \"key.pem\"\n",
    )
    .unwrap();
    let (_child, url) = spawn_server(&config).await;
    assert!(url.starts_with("https://127.0.0.1:"), "{url}");

    let pem = std::fs::read(dir.path().join("ca.pem")).unwrap();
    let trusting = Client::builder()
        .add_root_certificate(reqwest::Certificate::from_pem(&pem).unwrap())
        .build()
        .unwrap();
    let health: Value = trusting
        .get(format!("{url}/healthz"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(health["status"], "ok");
    // A client that does not trust the certificate is refused.
    assert!(Client::new()
        .get(format!("{url}/healthz"))
        .send()
        .await
        .is_err());
}

#[tokio::test]
async fn random_requests_never_get_a_server_error() {
    use rand::{Rng, SeedableRng};
    let dir = tempfile::tempdir().unwrap();
    let site = Site::start(dir.path()).await;
    let token = site.admin().await;
    site.create(&token, "hq", scan("WS-1", "hang", 1000, 0))
        .await;
    let mut rng = rand::rngs::StdRng::seed_from_u64(20261129);
    let sites = [
        "hq",
        "branch-2",
        "secret-site",
        "nope",
        "HQ",
        "",
        "%00",
        "a/b",
        "..",
        "é",
        "%ff%fe",
    ];
    let ids = [
        "scan-1",
        "audit-1",
        "scan-0",
        "scan-99999999999999999999",
        "x",
        "scan-1%2F2",
        "",
        "sch-1",
        "sch-x",
    ];
    let paths = [
        "/api/v1/sites/{site}/active-tasks",
        "/api/v1/sites/{site}/active-tasks/cancel",
        "/api/v1/sites/{site}/active-tasks/facets",
        "/api/v1/sites/{site}/tasks",
        "/api/v1/sites/{site}/tasks/batch",
        "/api/v1/sites/{site}/tasks/{id}",
        "/api/v1/sites/{site}/scan-log",
        "/api/v1/sites/{site}/audit-log",
        "/api/v1/sites/{site}/events",
        "/api/v1/sites/{site}/signals",
        "/api/v1/sites/{site}/stats",
        "/api/v1/sites/{site}/audit-services",
        "/api/v1/sites/{site}/schedules",
        "/api/v1/sites/{site}/schedules/{id}",
        "/api/v1/me",
        "/api/v1/sites",
        "/api/oauth/token",
        "/api/oauth/revoke",
        "/healthz",
        "/api/v1/{id}",
        "/{site}",
    ];
    let keys = [
        "status",
        "kind",
        "initiator",
        "target_type",
        "q",
        "sort",
        "order",
        "limit",
        "cursor",
        "has_errors",
        "since",
        "until",
        "scope",
        "audit_service",
        "field",
        "x",
    ];
    let values = [
        "",
        "queued",
        "running,queued",
        "scan",
        "audit",
        "Schedule",
        "device",
        "asc",
        "desc",
        "task",
        "0",
        "1",
        "1000",
        "-5",
        "99999999999999999999",
        "true",
        "2026-01-01T00:00:00Z",
        "%FF",
        "%25",
        "\u{1F600}",
        "eyJ4IjoxfQ",
        "target_type",
        "as-1",
        "Segment%20HQ-LAN",
        "WzEsInN0YXJ0X2RhdGUiLCJkZXNjIiwieCIsMSwic2NhbiJd",
    ];
    let bodies = [
        "", "{", "null", "[]", "{}", "{\"tasks\": []}", "{\"tasks\": [\"scan-1\"]}", "{\"tasks\": [1, 2]}", "{\"tasks\": [{\"kind\": \"scan\", \"target\": {\"type\": \"device\", \"name\": \"x\"}, \"scope\": \"y\"}, 5]}",
        "{\"kind\": \"scan\", \"target\": {\"type\": \"device\", \"name\": \"x\"}, \"scope\": \"y\"}",
        "{\"kind\": \"scan\", \"target\": {\"type\": \"device\", \"name\": \"x\"}, \"scope\": \"y\", \"simulate\": {\"duration_ms\": 18446744073709551615, \"outcome\": \"hang\"}}",
        "{\"name\": \"n\", \"kind\": \"audit\", \"cron\": \"0 0 31 2 *\", \"target\": {\"type\": \"segment\", \"name\": \"s\"}, \"scope\": \"x\"}",
        "{\"enabled\": \"yes\"}", "grant_type=client_credentials&client_id=a&client_secret=b", "token=abc", "\u{0}\u{1}\u{2}",
    ];
    let methods = [
        reqwest::Method::GET,
        reqwest::Method::POST,
        reqwest::Method::PATCH,
        reqwest::Method::DELETE,
        reqwest::Method::PUT,
    ];
    let mut answered = 0;
    for _ in 0..1500 {
        let template = paths[rng.random_range(0..paths.len())];
        let mut path = template
            .replace("{site}", sites[rng.random_range(0..sites.len())])
            .replace("{id}", ids[rng.random_range(0..ids.len())]);
        if rng.random_bool(0.5) {
            let pairs: Vec<String> = (0..rng.random_range(1..4))
                .map(|_| {
                    format!(
                        "{}={}",
                        keys[rng.random_range(0..keys.len())],
                        values[rng.random_range(0..values.len())]
                    )
                })
                .collect();
            path = format!("{path}?{}", pairs.join("&"));
        }
        let method = methods[rng.random_range(0..methods.len())].clone();
        let mut request = site.http.request(method.clone(), site.url(&path));
        if rng.random_bool(0.8) {
            request = request.bearer_auth(&token);
        }
        if method != reqwest::Method::GET {
            let content_type = if rng.random_bool(0.7) {
                "application/json"
            } else {
                "application/x-www-form-urlencoded"
            };
            request = request
                .header("content-type", content_type)
                .body(bodies[rng.random_range(0..bodies.len())]);
        }
        let response = tokio::time::timeout(Duration::from_secs(10), request.send())
            .await
            .unwrap_or_else(|_| panic!("{method} {path} took over 10 s"));
        let Ok(response) = response else { continue };
        answered += 1;
        let status = response.status();
        // An event stream answers 200 and stays open: do not read it.
        assert!(status.as_u16() < 500, "{method} {path} answered {status}");
        if status.is_client_error() {
            // Every refusal has the contract's shape: a token or revoke
            // request RFC 6749's (RFC 7009 keeps it for revoke),
            // everything else {"error": {"code", "message"}}.
            let body: Value = response
                .json()
                .await
                .unwrap_or_else(|e| panic!("{method} {path} answered {status} without JSON: {e}"));
            if path.starts_with("/api/oauth/") && method == reqwest::Method::POST {
                assert!(body["error"].is_string(), "{method} {path}: {body}");
            } else {
                let code = body["error"]["code"].as_str().unwrap_or_default();
                let message = body["error"]["message"].as_str().unwrap_or_default();
                assert!(
                    !code.is_empty() && message.ends_with('.'),
                    "{method} {path} answered {status} with {body}"
                );
                assert_eq!(
                    serde_json::from_value::<site_api::ErrorBody>(body.clone())
                        .map(|b| b.error.code.http_status())
                        .ok(),
                    Some(status.as_u16()),
                    "{method} {path}: {body}"
                );
            }
        }
    }
    assert!(
        answered > 1400,
        "only {answered} of 1500 requests were answered"
    );
}

/// The names of an operation's parameters.
fn parameter_names(operation: &Value) -> Vec<&str> {
    operation["parameters"]
        .as_array()
        .map(|parameters| {
            parameters
                .iter()
                .filter_map(|parameter| parameter["name"].as_str())
                .collect()
        })
        .unwrap_or_default()
}

/// Every `$ref` in `value`.
fn refs(value: &Value, found: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for (key, inner) in map {
                match (key.as_str(), inner) {
                    ("$ref", Value::String(target)) => found.push(target.clone()),
                    _ => refs(inner, found),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|inner| refs(inner, found)),
        _ => {}
    }
}

/// The property names of a component schema, sorted.
fn schema_properties(document: &Value, name: &str) -> Vec<String> {
    let schema = &document["components"]["schemas"][name];
    let mut names: Vec<String> = schema["properties"]
        .as_object()
        .unwrap_or_else(|| panic!("{name} has no properties: {schema}"))
        .keys()
        .cloned()
        .collect();
    names.sort();
    names
}

fn keys_of(value: &Value) -> Vec<String> {
    let mut names: Vec<String> = value.as_object().unwrap().keys().cloned().collect();
    names.sort();
    names
}

#[tokio::test]
async fn the_openapi_document_describes_every_route_with_the_served_types() {
    let dir = tempfile::tempdir().unwrap();
    let site = Site::start(dir.path()).await;

    // Served without a token, as JSON.
    let response = site
        .http
        .get(site.url("/api/v1/openapi.json"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        response.headers()["content-type"].to_str().unwrap(),
        "application/json"
    );
    let document: Value = response.json().await.unwrap();
    assert!(
        document["openapi"].as_str().unwrap().starts_with("3."),
        "{}",
        document["openapi"]
    );

    // Every route of the contract, with exactly its methods.
    let mut operations: Vec<String> = document["paths"]
        .as_object()
        .unwrap()
        .iter()
        .flat_map(|(path, item)| {
            item.as_object()
                .unwrap()
                .keys()
                .filter(|key| ["get", "post", "patch", "delete", "put"].contains(&key.as_str()))
                .map(move |method| format!("{} {path}", method.to_uppercase()))
        })
        .collect();
    operations.sort();
    let mut expected = vec![
        "GET /healthz",
        "GET /api/v1/openapi.json",
        "POST /api/oauth/token",
        "POST /api/oauth/revoke",
        "GET /api/v1/me",
        "GET /api/v1/sites",
        "GET /api/v1/sites/{site}/active-tasks",
        "POST /api/v1/sites/{site}/active-tasks/cancel",
        "GET /api/v1/sites/{site}/active-tasks/facets",
        "POST /api/v1/sites/{site}/tasks",
        "POST /api/v1/sites/{site}/tasks/batch",
        "GET /api/v1/sites/{site}/tasks/{id}",
        "GET /api/v1/sites/{site}/scan-log",
        "GET /api/v1/sites/{site}/audit-log",
        "GET /api/v1/sites/{site}/audit-services",
        "GET /api/v1/sites/{site}/signals",
        "GET /api/v1/sites/{site}/stats",
        "GET /api/v1/sites/{site}/schedules",
        "POST /api/v1/sites/{site}/schedules",
        "GET /api/v1/sites/{site}/schedules/{id}",
        "PATCH /api/v1/sites/{site}/schedules/{id}",
        "DELETE /api/v1/sites/{site}/schedules/{id}",
        "GET /api/v1/sites/{site}/events",
        // (1.1) The agent protocol of remote Audit Services.
        "POST /api/agent/v1/sites/{site}/audit-services/{service}/sessions",
        "DELETE /api/agent/v1/sites/{site}/audit-services/{service}/sessions/current",
        "POST /api/agent/v1/sites/{site}/audit-services/{service}/heartbeat",
        "POST /api/agent/v1/sites/{site}/audit-services/{service}/poll",
        "POST /api/agent/v1/sites/{site}/audit-services/{service}/tasks/{task}/progress",
        "POST /api/agent/v1/sites/{site}/audit-services/{service}/tasks/{task}/end",
    ];
    expected.sort();
    assert_eq!(operations, expected);

    // Every reference resolves.
    let mut found = Vec::new();
    refs(&document, &mut found);
    assert!(!found.is_empty());
    for target in &found {
        let name = target
            .strip_prefix("#/components/schemas/")
            .unwrap_or_else(|| panic!("unexpected reference {target}"));
        assert!(
            document["components"]["schemas"][name].is_object(),
            "{target} does not resolve"
        );
    }

    // Authenticated operations document the error body; the token endpoint does not.
    let list = &document["paths"]["/api/v1/sites/{site}/active-tasks"]["get"];
    assert_eq!(
        list["responses"]["401"]["content"]["application/json"]["schema"]["$ref"],
        "#/components/schemas/ErrorBody"
    );
    assert!(list["security"].is_array());
    let parameters = parameter_names(list);
    for name in [
        "site",
        "status",
        "kind",
        "initiator",
        "target_type",
        "q",
        "sort",
        "order",
        "limit",
        "cursor",
        "scope",
        "since",
        "until",
        "audit_service",
    ] {
        assert!(
            parameters.contains(&name),
            "{name} missing from {parameters:?}"
        );
    }
    // (1.1) Facets take the list's filters and a required field, not its paging.
    let facets = &document["paths"]["/api/v1/sites/{site}/active-tasks/facets"]["get"];
    let facet_parameters = parameter_names(facets);
    for name in [
        "site",
        "field",
        "status",
        "kind",
        "scope",
        "since",
        "until",
        "audit_service",
        "q",
    ] {
        assert!(
            facet_parameters.contains(&name),
            "{name} missing from {facet_parameters:?}"
        );
    }
    for name in ["sort", "order", "limit", "cursor"] {
        assert!(!facet_parameters.contains(&name), "facets document {name}");
    }
    let field = facets["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .find(|parameter| parameter["name"] == "field")
        .unwrap();
    assert_eq!(field["required"], true);
    assert_eq!(field["schema"]["enum"].as_array().unwrap().len(), 6);
    assert_eq!(
        facets["responses"]["200"]["content"]["application/json"]["schema"]["$ref"],
        "#/components/schemas/FacetsResponse"
    );
    let batch = &document["paths"]["/api/v1/sites/{site}/tasks/batch"]["post"];
    assert_eq!(
        batch["requestBody"]["content"]["application/json"]["schema"]["$ref"],
        "#/components/schemas/CreateTasksRequest"
    );
    assert_eq!(
        batch["responses"]["201"]["content"]["application/json"]["schema"]["$ref"],
        "#/components/schemas/CreateTasksResponse"
    );
    let log_parameters =
        parameter_names(&document["paths"]["/api/v1/sites/{site}/scan-log"]["get"]);
    for name in [
        "site",
        "status",
        "initiator",
        "q",
        "has_errors",
        "since",
        "until",
        "limit",
        "cursor",
    ] {
        assert!(
            log_parameters.contains(&name),
            "{name} missing from {log_parameters:?}"
        );
    }
    let token = &document["paths"]["/api/oauth/token"]["post"];
    assert!(token.get("security").is_none());
    assert!(token["requestBody"]["content"]
        .get("application/x-www-form-urlencoded")
        .is_some());

    // The schemas are the types served: their fields are what the server sends.
    let admin = site.admin().await;
    let created = site
        .post(
            &admin,
            "/api/v1/sites/hq/tasks",
            &scan("WS-1", "hang", 1000, 0),
        )
        .await
        .1;
    assert_eq!(schema_properties(&document, "Task"), keys_of(&created));
    let (_, page) = site.get(&admin, "/api/v1/sites/hq/active-tasks").await;
    assert_eq!(
        schema_properties(&document, "ActiveTasksPage"),
        keys_of(&page)
    );
    let (_, me) = site.get(&admin, "/api/v1/me").await;
    assert_eq!(schema_properties(&document, "Me"), keys_of(&me));
    let mut statuses: Vec<&str> = document["components"]["schemas"]["TaskStatus"]["enum"]
        .as_array()
        .unwrap()
        .iter()
        .map(|value| value.as_str().unwrap())
        .collect();
    statuses.sort();
    assert_eq!(
        statuses,
        ["cancelled", "failed", "finished", "queued", "running"]
    );
    let signal_kinds = document["components"]["schemas"]["Signal"]["oneOf"]
        .as_array()
        .unwrap()
        .len();
    assert_eq!(signal_kinds, 3);
    site.server.stop().await;
}

#[tokio::test]
async fn slots_take_queued_tasks_oldest_first_and_never_run_more_than_they_have() {
    let dir = tempfile::tempdir().unwrap();
    let site = Site::start_with(test_config(dir.path(), "test", 3)).await;
    let token = site.admin().await;
    // Fill the three slots, then queue seven more behind them.
    for i in 1..=3 {
        site.create(&token, "hq", scan(&format!("HOLD-{i}"), "hang", 1000, 0))
            .await;
    }
    for i in 1..=3 {
        site.wait_for(&token, "hq", &format!("scan-{i}"), |t| {
            t.status == TaskStatus::Running
        })
        .await;
    }
    for i in 4..=10 {
        site.create(&token, "hq", scan(&format!("WS-{i}"), "finished", 200, 0))
            .await;
    }
    // Free the slots at once: the next three must be the three oldest.
    cancel(&site, &token, &["scan-1", "scan-2", "scan-3"]).await;
    let mut started = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(20);
    while started.len() < 7 {
        let (_, page) = site
            .get(&token, "/api/v1/sites/hq/active-tasks?status=running")
            .await;
        let running = page["tasks"].as_array().unwrap();
        assert!(running.len() <= 3, "more running than slots: {page}");
        for task in running {
            let number = task["number"].as_u64().unwrap();
            if !started.contains(&number) {
                started.push(number);
            }
        }
        assert!(Instant::now() < deadline, "only {started:?} started");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // Taken in batches of up to three: each batch is the oldest waiting.
    let mut sorted = started.clone();
    sorted.sort();
    assert_eq!(sorted, (4..=10).collect::<Vec<u64>>());
    for (position, number) in started.iter().enumerate() {
        assert!(
            *number as usize <= 4 + position + 2,
            "scan-{number} started before older tasks: {started:?}"
        );
    }
    site.server.stop().await;
}
