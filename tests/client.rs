//! The desktop backend's Site client and live follower against a real
//! taskdeck-site over HTTP (and a deliberately misbehaving local server).
//! No window: these run under plain `cargo test`.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use serde_json::json;
use site_api::{ActiveTasksQuery, LogQuery, PageLimit};
use site_api::{
    CancelOutcome, ScheduleCreate, ScheduleUpdate, SimulatedOutcome, Target, TargetType, TaskKind,
    TaskStatus,
};
use taskdeck_app::live::failures::{FailureNotice, NotifySettings};
use taskdeck_app::live::follow::{Follower, LiveSink};
use taskdeck_app::live::list::LiveList;
use taskdeck_app::site_client::{PageRead, SecretSource, SiteClient};
use taskdeck_app::Error;
use taskdeck_ipc::LinkState;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

mod support;
use support::{client, config, scan, ADMIN_ID, ADMIN_SECRET, EXPIRED_ID, USER_ID, USER_SECRET};

async fn wait_until<F: std::future::Future<Output = bool>>(what: &str, check: impl Fn() -> F) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while !check().await {
        assert!(tokio::time::Instant::now() < deadline, "never: {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn the_client_covers_every_call_the_app_makes() {
    let dir = tempfile::tempdir().unwrap();
    let server = taskdeck_site::start(config(dir.path(), "127.0.0.1:0", 1))
        .await
        .unwrap();
    let admin = client(&server.url(), ADMIN_ID, ADMIN_SECRET);
    let user = client(&server.url(), USER_ID, USER_SECRET);

    let me = admin.me().await.unwrap();
    assert_eq!(me.email, "alice@example.com");
    assert_eq!(me.sites[0].id, "hq");

    let running = admin
        .create_task("hq", &scan("WS-1", SimulatedOutcome::Hang, 1000, 0))
        .await
        .unwrap();
    let queued = user
        .create_task("hq", &scan("WS-2", SimulatedOutcome::Finished, 10, 0))
        .await
        .unwrap();
    assert_eq!(queued.initiator.as_str(), "bob@example.com");
    wait_until("scan-1 runs", || async {
        admin.task("hq", running.id).await.unwrap().status == TaskStatus::Running
    })
    .await;

    // Pages with filters, and ETags.
    let query = ActiveTasksQuery {
        filter: site_api::TaskFilter {
            statuses: vec![TaskStatus::Queued],
            ..site_api::TaskFilter::default()
        },
        limit: PageLimit::new(10).unwrap(),
        ..ActiveTasksQuery::default()
    };
    let PageRead::Page { page, etag } = admin.active_tasks("hq", &query, None).await.unwrap()
    else {
        panic!("no page");
    };
    assert_eq!(page.tasks.len(), 1);
    assert_eq!(page.tasks[0].id, queued.id);
    let again = admin
        .active_tasks("hq", &query, etag.as_deref())
        .await
        .unwrap();
    assert_eq!(again, PageRead::Unchanged);

    // A Site User may not cancel; an admin may.
    let refused = user.cancel_tasks("hq", vec![running.id]).await;
    assert!(matches!(refused, Err(Error::Forbidden(_))), "{refused:?}");
    let results = admin
        .cancel_tasks("hq", vec![running.id, queued.id])
        .await
        .unwrap()
        .results;
    assert_eq!(results[0].outcome, CancelOutcome::Cancelled);
    assert_eq!(results[0].task, running.id);
    assert_eq!(results.len(), 2);

    let log = admin
        .log("hq", TaskKind::Scan, &LogQuery::default())
        .await
        .unwrap();
    let cancelled = log
        .entries
        .iter()
        .find(|entry| entry.task.id == running.id)
        .unwrap();
    assert_eq!(cancelled.cancelled_by.as_deref(), Some("alice@example.com"));

    let services = admin.audit_services("hq").await.unwrap().audit_services;
    assert_eq!(services[0].id, "as-1");
    assert!(admin.signals("hq").await.unwrap().signals.is_empty());
    assert_eq!(admin.stats("hq").await.unwrap().now.slots_total, 1);

    // Schedules: admins manage them, users read them.
    let draft = ScheduleCreate {
        name: "Nightly".to_owned(),
        kind: TaskKind::Audit,
        cron: "0 2 * * *".to_owned(),
        target: Target {
            target_type: TargetType::Segment,
            name: "HQ-LAN".to_owned(),
        },
        scope: "Segment HQ-LAN".to_owned(),
        enabled: true,
    };
    let created = admin.create_schedule("hq", &draft).await.unwrap();
    assert!(matches!(
        user.create_schedule("hq", &draft).await,
        Err(Error::Forbidden(_))
    ));
    let disabled = admin
        .update_schedule(
            "hq",
            &created.id,
            &ScheduleUpdate {
                enabled: Some(false),
                ..ScheduleUpdate::default()
            },
        )
        .await
        .unwrap();
    assert!(!disabled.enabled);
    assert_eq!(user.schedules("hq").await.unwrap().schedules.len(), 1);
    admin.delete_schedule("hq", &created.id).await.unwrap();
    assert!(admin.schedules("hq").await.unwrap().schedules.is_empty());

    // Errors a person can read.
    assert!(matches!(
        admin.first_page("nowhere", 10).await,
        Err(Error::NotFound(_))
    ));
    let wrong = client(&server.url(), ADMIN_ID, "not-the-secret");
    let refused = wrong.me().await.unwrap_err();
    assert!(
        matches!(refused, Error::CredentialsRejected(_)),
        "{refused:?}"
    );
    let expired = client(&server.url(), EXPIRED_ID, USER_SECRET)
        .me()
        .await
        .unwrap_err();
    assert!(
        matches!(expired, Error::RegistrationExpired(_)),
        "{expired:?}"
    );
    server.stop().await;
    let down = admin.me().await.unwrap_err();
    assert!(matches!(down, Error::Unreachable { .. }), "{down:?}");
    assert!(down.to_string().contains("cannot be reached"), "{down}");
}

/// Records what a follower reports.
#[derive(Clone)]
struct Recorder {
    failures: mpsc::UnboundedSender<FailureNotice>,
    links: Arc<Mutex<Vec<LinkState>>>,
    list: Arc<Mutex<Option<LiveList>>>,
}

impl LiveSink for Recorder {
    fn list_changed(&self, _site_id: &str, list: &LiveList) {
        *self.list.lock().unwrap() = Some(list.clone());
    }
    fn tasks_changed(&self, _site_id: &str, _tasks: Vec<site_api::Task>) {}
    fn audit_service(&self, _site_id: &str, _service: site_api::AuditService) {}
    fn signal(&self, _site_id: &str, _signal: site_api::Signal) {}
    fn failure(&self, notice: FailureNotice) {
        let _ = self.failures.send(notice);
    }
    fn link(&self, _site_id: &str, state: LinkState) {
        self.links.lock().unwrap().push(state);
    }
    fn error(&self, _site_id: &str, _error: Option<&Error>) {}
}

async fn next_failure(failures: &mut mpsc::UnboundedReceiver<FailureNotice>) -> FailureNotice {
    tokio::time::timeout(Duration::from_secs(20), failures.recv())
        .await
        .expect("a failure notice within 20 s")
        .unwrap()
}

#[tokio::test]
async fn the_follower_notifies_each_failure_once_across_a_server_restart() {
    let dir = tempfile::tempdir().unwrap();
    let server = taskdeck_site::start(config(dir.path(), "127.0.0.1:0", 2))
        .await
        .unwrap();
    let address: SocketAddr = server.local_addr();
    let url = server.url();
    let admin = Arc::new(client(&url, ADMIN_ID, ADMIN_SECRET));
    let (failures_tx, mut failures) = mpsc::unbounded_channel();
    let recorder = Recorder {
        failures: failures_tx,
        links: Arc::default(),
        list: Arc::default(),
    };
    let stop = CancellationToken::new();
    let follower = Follower {
        client: admin.clone(),
        site_id: "hq".to_owned(),
        me: "alice@example.com".to_owned(),
        settings: Arc::new(RwLock::new(NotifySettings::default())),
        attention: Arc::default(),
        sink: recorder.clone(),
    };
    let following = tokio::spawn(follower.run(stop.clone()));
    wait_until("the stream is live", || async {
        recorder.links.lock().unwrap().contains(&LinkState::Live)
    })
    .await;

    // A failure while live: one notice, with the first error message.
    let failed = admin
        .create_task("hq", &scan("WS-FAIL", SimulatedOutcome::Failed, 100, 2))
        .await
        .unwrap();
    let notice = next_failure(&mut failures).await;
    assert_eq!(notice.task, failed.id);
    assert_eq!(notice.title, "Scan #1 failed");
    assert!(
        notice.body.starts_with("WS-FAIL · Segment HQ-LAN: "),
        "{}",
        notice.body
    );
    // A clean task and a live row.
    let clean = admin
        .create_task("hq", &scan("WS-OK", SimulatedOutcome::Finished, 100, 0))
        .await
        .unwrap();
    wait_until("the clean task finishes", || async {
        admin.task("hq", clean.id).await.unwrap().status == TaskStatus::Finished
    })
    .await;
    let hanging = admin
        .create_task("hq", &scan("WS-HANG", SimulatedOutcome::Hang, 1000, 0))
        .await
        .unwrap();
    wait_until("the hanging task shows running", || async {
        recorder.list.lock().unwrap().as_ref().is_some_and(|list| {
            list.page()
                .tasks
                .iter()
                .any(|t| t.id == hanging.id && t.status == TaskStatus::Running)
        })
    })
    .await;

    // The server stops: the running task ends failed ("interrupted") while
    // the stream is down. It comes back on the same address.
    server.stop().await;
    wait_until("the follower sees the break", || async {
        recorder
            .links
            .lock()
            .unwrap()
            .iter()
            .any(|state| matches!(state, LinkState::Reconnecting { .. }))
    })
    .await;
    let server = taskdeck_site::start(config(dir.path(), &address.to_string(), 2))
        .await
        .unwrap();
    let missed = next_failure(&mut failures).await;
    assert_eq!(missed.task, hanging.id, "the failure during the break");
    assert!(missed.body.contains("nterrupted"), "{}", missed.body);

    // Live again (a new token: the cached one may be unknown after restart),
    // and the next failure is announced; scan-1 is never announced again.
    let another = admin
        .create_task("hq", &scan("WS-FAIL-2", SimulatedOutcome::Failed, 100, 1))
        .await
        .unwrap();
    let notice = next_failure(&mut failures).await;
    assert_eq!(notice.task, another.id);
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(failures.try_recv().is_err(), "no duplicate notices");
    let list = recorder.list.lock().unwrap().clone().unwrap();
    assert!(list.page().tasks.iter().all(|t| t.id != hanging.id));

    stop.cancel();
    following.await.unwrap();
    server.stop().await;
}

/// Serves `app` on a free loopback port; its URL.
async fn serve_on_loopback(app: axum::Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    url
}

/// A stand-in server's token endpoint: any client gets token `t`.
fn stand_in_token(app: axum::Router) -> axum::Router {
    app.route(
        "/api/oauth/token",
        axum::routing::post(|| async {
            axum::Json(json!({"access_token": "t", "token_type": "Bearer", "expires_in": 3600}))
        }),
    )
}

/// A 429 asking to wait one second, on the first of `hits` only.
fn slow_down_once(hits: &Mutex<u32>) -> Option<axum::response::Response> {
    use axum::response::IntoResponse;
    let mut hits = hits.lock().unwrap();
    *hits += 1;
    (*hits == 1).then(|| {
        (
            axum::http::StatusCode::TOO_MANY_REQUESTS,
            [("retry-after", "1")],
            "{}",
        )
            .into_response()
    })
}

/// A local server that answers 429 (with `Retry-After: 1`) once, then what
/// the contract says, except for a list that is not JSON.
async fn misbehaving_server() -> String {
    use axum::response::IntoResponse;
    use axum::routing::get;
    let hits = Arc::new(Mutex::new(0u32));
    let app = stand_in_token(axum::Router::new())
        .route(
            "/api/v1/me",
            get(move || {
                let hits = hits.clone();
                async move {
                    if let Some(slow_down) = slow_down_once(&hits) {
                        return slow_down;
                    }
                    axum::Json(json!({
                        "email": "a@x", "display_name": "A", "client_id": "c", "sites": []
                    }))
                    .into_response()
                }
            }),
        )
        .route(
            "/api/v1/sites/hq/active-tasks",
            get(|| async { ([("content-type", "application/json")], "{\"tasks\": [oops") }),
        )
        .route(
            "/api/v1/sites/hq/events",
            get(|| async { ([("content-type", "text/html")], "<html>proxy login</html>") }),
        );
    serve_on_loopback(app).await
}

#[tokio::test]
async fn a_misbehaving_server_gets_clear_errors_and_429s_are_waited_out() {
    let url = misbehaving_server().await;
    let client = client(&url, "c", "s");
    let started = std::time::Instant::now();
    let me = client.me().await.unwrap();
    assert_eq!(me.email, "a@x");
    assert!(
        started.elapsed() >= Duration::from_millis(900),
        "Retry-After was honoured"
    );
    let malformed = client.first_page("hq", 10).await.unwrap_err();
    assert!(
        matches!(malformed, Error::UnexpectedResponse(_)),
        "{malformed:?}"
    );
    assert!(malformed.to_string().contains("unexpected answer"));
    let not_a_stream = client.events("hq", None).await.err().unwrap();
    assert!(matches!(not_a_stream, Error::UnexpectedResponse(_)));
}

/// A local server whose list answers take 200 ms, counting how many list
/// requests it holds at once (the most, and in all).
async fn slow_server() -> (String, Arc<Mutex<(u32, u32, u32)>>) {
    use axum::routing::get;
    // (now, most at once, in all)
    let load = Arc::new(Mutex::new((0u32, 0u32, 0u32)));
    let counted = load.clone();
    let app = stand_in_token(axum::Router::new())
        .route(
            "/api/v1/sites/hq/active-tasks",
            get(move || {
                let load = counted.clone();
                async move {
                    {
                        let mut load = load.lock().unwrap();
                        load.0 += 1;
                        load.1 = load.1.max(load.0);
                        load.2 += 1;
                    }
                    tokio::time::sleep(Duration::from_millis(200)).await;
                    load.lock().unwrap().0 -= 1;
                    axum::Json(json!({
                        "tasks": [], "next_cursor": null, "total": 0,
                        "counts": {"queued": 0, "running": 0}, "revision": 1
                    }))
                }
            }),
        )
        // A Site without a live stream (behind a proxy that buffers it).
        .route(
            "/api/v1/sites/hq/events",
            get(|| async { (axum::http::StatusCode::NOT_FOUND, "{}") }),
        )
        .route(
            "/api/v1/sites/hq/scan-log",
            get(|| async { axum::Json(json!({"entries": [], "next_cursor": null})) }),
        )
        .route(
            "/api/v1/sites/hq/audit-log",
            get(|| async { axum::Json(json!({"entries": [], "next_cursor": null})) }),
        );
    (serve_on_loopback(app).await, load)
}

#[tokio::test]
async fn never_more_than_one_request_of_a_kind_is_in_flight() {
    let (url, load) = slow_server().await;
    let client = Arc::new(client(&url, "c", "s"));
    let reads: Vec<_> = (0..5)
        .map(|n| {
            let client = client.clone();
            tokio::spawn(async move {
                let query = ActiveTasksQuery {
                    limit: PageLimit::new(10 + n).unwrap(),
                    ..ActiveTasksQuery::default()
                };
                client.page("hq", &query).await
            })
        })
        .collect();
    for read in reads {
        assert_eq!(
            read.await.unwrap().unwrap().revision,
            1,
            "each read answered"
        );
    }
    let (now, most, all) = *load.lock().unwrap();
    assert_eq!((now, all), (0, 5), "all five were sent, one after another");
    assert_eq!(most, 1, "never two list reads at once");
}

#[tokio::test]
async fn without_a_stream_the_list_is_polled_slowly_in_the_background_and_at_once_on_return() {
    use taskdeck_app::live::follow::Attention;
    let (url, load) = slow_server().await;
    let reads = move || load.lock().unwrap().2;
    let (failures_tx, _failures) = mpsc::unbounded_channel();
    let recorder = Recorder {
        failures: failures_tx,
        links: Arc::default(),
        list: Arc::default(),
    };
    let attention = Arc::new(Attention::default());
    attention.set_focused(false);
    let stop = CancellationToken::new();
    let follower = Follower {
        client: Arc::new(client(&url, "c", "s")),
        site_id: "hq".to_owned(),
        me: "alice@example.com".to_owned(),
        settings: Arc::new(RwLock::new(NotifySettings::default())),
        attention: attention.clone(),
        sink: recorder.clone(),
    };
    let following = tokio::spawn(follower.run(stop.clone()));
    wait_until("polling instead of a stream", || async {
        recorder.links.lock().unwrap().contains(&LinkState::Polling)
    })
    .await;
    // The first page, then the first poll; in the background the next poll
    // is a minute away.
    wait_until("the first poll", || async { reads() >= 2 }).await;
    let polled = reads();
    // Longer than the focused pace: a poll now would be the focused pace.
    tokio::time::sleep(taskdeck_app::live::follow::POLL_FOCUSED + Duration::from_secs(1)).await;
    assert_eq!(
        reads(),
        polled,
        "no poll at the focused pace in the background"
    );
    // Back in front: a poll at once, then every 5 s.
    attention.set_focused(true);
    wait_until("a poll on return", || async { reads() > polled }).await;
    stop.cancel();
    following.await.unwrap();
}

/// A private CA and a certificate for 127.0.0.1 signed by it, made with
/// openssl in `dir`: `ca.pem`, `cert.pem`, `key.pem`.
fn make_test_ca(dir: &Path) {
    let openssl = |args: &[&str]| {
        let made = std::process::Command::new("openssl")
            .args(args)
            .current_dir(dir)
            .output()
            .expect("openssl is installed");
        assert!(
            made.status.success(),
            "openssl {args:?}: {}",
            String::from_utf8_lossy(&made.stderr)
        );
    };
    let subject_ca = "/CN=Taskdeck Client Test CA";
    openssl(&[
        "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", subject_ca,
        "-keyout", "ca.key", "-out", "ca.pem",
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
    std::fs::write(
        dir.join("ext.cnf"),
        "subjectAltName=IP:127.0.0.1\nbasicConstraints=critical,CA:FALSE\nextendedKeyUsage=serverAuth\n",
    )
    .unwrap();
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
}

#[tokio::test]
async fn https_sites_are_verified_against_the_os_store_and_the_connections_own_ca() {
    let dir = tempfile::tempdir().unwrap();
    make_test_ca(dir.path());
    let mut config = config(&dir.path().join("data"), "127.0.0.1:0", 1);
    config.tls = Some(
        toml::from_str(&format!(
            "cert = \"{}\"\nkey = \"{}\"\n",
            dir.path().join("cert.pem").display(),
            dir.path().join("key.pem").display()
        ))
        .unwrap(),
    );
    let server = taskdeck_site::start(config).await.unwrap();
    assert!(server.url().starts_with("https://"), "{}", server.url());
    let ca = std::fs::read_to_string(dir.path().join("ca.pem")).unwrap();

    let trusting = SiteClient::new(
        server.url().parse().unwrap(),
        ADMIN_ID.to_owned(),
        SecretSource::Memory(ADMIN_SECRET.to_owned()),
        Some(&ca),
    )
    .unwrap();
    assert_eq!(trusting.me().await.unwrap().email, "alice@example.com");
    let mut stream = trusting.events("hq", None).await.unwrap();
    trusting
        .create_task("hq", &scan("WS-TLS", SimulatedOutcome::Finished, 10, 0))
        .await
        .unwrap();
    let first = tokio::time::timeout(Duration::from_secs(10), stream.next())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert!(matches!(first.event, site_api::LiveEvent::Task(_)));

    // Without the CA the certificate is refused, with a sentence that says so.
    let refused = client(&server.url(), ADMIN_ID, ADMIN_SECRET)
        .me()
        .await
        .unwrap_err();
    assert!(matches!(refused, Error::Tls(_)), "{refused:?}");
    assert!(refused.to_string().contains("certificate"), "{refused}");
    let bad_pem = SiteClient::new(
        server.url().parse().unwrap(),
        ADMIN_ID.to_owned(),
        SecretSource::Memory(ADMIN_SECRET.to_owned()),
        Some("not a certificate"),
    );
    assert!(matches!(bad_pem, Err(Error::Tls(_))));
    server.stop().await;
}

/// Creates a scan on `hq` for each (target, scope), 50 at a time.
async fn create_scans(client: &SiteClient, names: Vec<(String, &'static str)>) {
    for chunk in names.chunks(50) {
        let requests: Vec<_> = chunk
            .iter()
            .map(|(name, scope)| {
                let mut request = scan(name, SimulatedOutcome::Hang, 60_000, 0);
                request.scope = (*scope).to_owned();
                request
            })
            .collect();
        let creating = requests
            .iter()
            .map(|request| client.create_task("hq", request));
        for created in futures_util::future::join_all(creating).await {
            created.unwrap();
        }
    }
}

#[tokio::test]
async fn scope_and_start_date_filters_run_on_the_site_and_count_exactly_what_matches() {
    use taskdeck_app::listing::{facets, read_matching};
    use taskdeck_ipc::{ListQuery, StartedFilter};

    let dir = tempfile::tempdir().unwrap();
    let server = taskdeck_site::start(config(dir.path(), "127.0.0.1:0", 1))
        .await
        .unwrap();
    let admin = client(&server.url(), ADMIN_ID, ADMIN_SECRET);
    // More than a Site page of HQ-LAN tasks, a few elsewhere, and three
    // whose target (not scope) says HQ-LAN: the scope filter leaves those.
    let mut older: Vec<(String, &str)> = (0..1100)
        .map(|i| (format!("WS-A{i:04}"), "Segment HQ-LAN"))
        .collect();
    older.extend((0..5).map(|i| (format!("WS-B{i}"), "Segment Branch")));
    older.extend((0..3).map(|i| (format!("HQ-LAN-printer-{i}"), "Segment Branch")));
    create_scans(&admin, older).await;
    // The Site keeps whole seconds: the newer tasks start in a later one.
    let boundary = {
        let now = chrono::Utc::now();
        chrono::DateTime::from_timestamp(now.timestamp() + 1, 0).unwrap()
    };
    tokio::time::sleep((boundary - chrono::Utc::now()).to_std().unwrap_or_default()).await;
    let newer: Vec<(String, &str)> = (0..7)
        .map(|i| (format!("WS-N{i}"), "Segment HQ-LAN"))
        .collect();
    create_scans(&admin, newer).await;

    let read = |query: ListQuery, rows: usize| {
        let admin = &admin;
        async move {
            let mut tasks = Vec::new();
            let last = read_matching(admin, "hq", &query, rows, |page| tasks.append(page))
                .await
                .unwrap();
            (tasks, last)
        }
    };
    let scoped = |started: Option<StartedFilter>| {
        let mut query = ListQuery {
            started,
            ..ListQuery::default()
        };
        // The whole scope, in another case.
        query.site.filter.scope = Some("segment hq-lan".to_owned());
        query
    };

    // The scope alone: the first rows, and the Site's exact count.
    let (tasks, last) = read(scoped(None), 50).await;
    assert_eq!(tasks.len(), 50);
    assert_eq!(last.total, 1107, "1,100 older and 7 newer HQ-LAN tasks");
    assert!(last.next_cursor.is_some());
    assert!(tasks.iter().all(|t| t.scope == "Segment HQ-LAN"));
    assert_eq!(tasks[0].target.name, "WS-N6", "newest first");
    assert_eq!(
        last.counts.queued + last.counts.running,
        1115,
        "counts are the whole Site's"
    );
    // A one-row reading carries the same totals.
    assert_eq!(read(scoped(None), 1).await.1.total, 1107);
    assert_eq!(read(ListQuery::default(), 1).await.1.total, 1115);

    // From the boundary on: the newer tasks only.
    let since = StartedFilter::Between {
        from: Some(boundary),
        to: None,
    };
    let (tasks, last) = read(scoped(Some(since)), 1000).await;
    let names: Vec<&str> = tasks.iter().map(|t| t.target.name.as_str()).collect();
    assert_eq!(
        names,
        ["WS-N6", "WS-N5", "WS-N4", "WS-N3", "WS-N2", "WS-N1", "WS-N0"]
    );
    assert_eq!(last.total, 7);

    // Before the boundary (its end left out): the older ones, across pages.
    let before = StartedFilter::Between {
        from: None,
        to: Some(boundary),
    };
    let (tasks, last) = read(scoped(Some(before)), 5000).await;
    assert_eq!((tasks.len(), last.total), (1100, 1100));
    assert!(tasks.iter().all(|t| t.start_date < boundary));
    let order: Vec<_> = tasks.iter().map(|t| (t.start_date, t.number)).collect();
    assert!(order.windows(2).all(|w| w[0] > w[1]), "newest first");

    // Another order, with a search: the Site does both.
    let mut by_target = scoped(Some(StartedFilter::Within { hours: 1 }));
    by_target.site.sort = site_api::SortKey::Target;
    by_target.site.order = site_api::Order::Asc;
    by_target.site.filter.q = Some("ws-".to_owned());
    let (tasks, last) = read(by_target, 3).await;
    assert_eq!(last.total, 1107);
    let names: Vec<&str> = tasks.iter().map(|t| t.target.name.as_str()).collect();
    assert_eq!(names, ["WS-A0000", "WS-A0001", "WS-A0002"]);

    // Nothing older than an hour.
    let old = scoped(Some(StartedFilter::OlderThan { hours: 1 }));
    let (tasks, last) = read(old, 1000).await;
    assert_eq!((tasks.len(), last.total), (0, 0));

    // The filter menus' counts: each field without its own filter.
    let fields = [site_api::FacetField::Scope, site_api::FacetField::Kind];
    let answers = facets(&admin, "hq", &scoped(Some(since)), &fields)
        .await
        .unwrap();
    let values = |i: usize| -> Vec<(String, u64)> {
        answers[i]
            .values
            .iter()
            .map(|v| (v.value.clone(), v.count))
            .collect()
    };
    // Since the boundary, every scope: only HQ-LAN's 7 started then.
    assert_eq!(values(0), [("Segment HQ-LAN".to_owned(), 7)]);
    assert_eq!(values(1), [("scan".to_owned(), 7)]);
    let all = facets(&admin, "hq", &scoped(None), &fields[..1])
        .await
        .unwrap();
    let scopes: Vec<(String, u64)> = all[0]
        .values
        .iter()
        .map(|v| (v.value.clone(), v.count))
        .collect();
    assert_eq!(
        scopes,
        [
            ("Segment HQ-LAN".to_owned(), 1107),
            ("Segment Branch".to_owned(), 8)
        ],
        "the scope's own filter leaves its other values in view"
    );
    assert_eq!(all[0].total, 1115);
    server.stop().await;
}

#[tokio::test]
async fn a_1_0_site_refuses_the_filters_of_1_1_as_an_older_site_and_serves_the_rest() {
    use taskdeck_app::listing::{facets, read_matching};
    use taskdeck_ipc::{ListQuery, StartedFilter};

    let dir = tempfile::tempdir().unwrap();
    let mut site = taskdeck_site::testing::TestSite::new(
        taskdeck_site::config::Store::Sqlite(dir.path().to_owned()),
        1,
    );
    site.api_revision = "1.0";
    let server = taskdeck_site::start(site.config()).await.unwrap();
    let admin = client(&server.url(), ADMIN_ID, ADMIN_SECRET);
    create_scans(&admin, vec![("WS-1".to_owned(), "Segment HQ-LAN")]).await;

    let mut scoped = ListQuery::default();
    scoped.site.filter.scope = Some("Segment HQ-LAN".to_owned());
    let dated = ListQuery {
        started: Some(StartedFilter::Within { hours: 1 }),
        ..ListQuery::default()
    };
    for query in [&scoped, &dated] {
        let refused = read_matching(&admin, "hq", query, 10, |_| {}).await;
        match refused {
            Err(Error::OlderSite(message)) => {
                assert!(message.contains("nknown query parameter"), "{message}")
            }
            other => panic!("{query:?}: {other:?}"),
        }
    }
    let counted = facets(
        &admin,
        "hq",
        &ListQuery::default(),
        &[site_api::FacetField::Scope],
    )
    .await;
    assert!(matches!(counted, Err(Error::OlderSite(_))), "{counted:?}");
    // What 1.0 knows still works.
    let mut tasks = Vec::new();
    let last = read_matching(&admin, "hq", &scoped.without_revision_1_1(), 10, |page| {
        tasks.append(page)
    })
    .await
    .unwrap();
    assert_eq!((tasks.len(), last.total), (1, 1));
    server.stop().await;
}

/// `n` scans that hang (they stay in the queue), named `{prefix}-{i}`.
fn hanging_scans(prefix: &str, n: usize) -> Vec<site_api::CreateTaskRequest> {
    (0..n)
        .map(|i| scan(&format!("{prefix}-{i}"), SimulatedOutcome::Hang, 600_000, 0))
        .collect()
}

#[tokio::test]
async fn tasks_are_run_in_batches_of_500_in_order_and_reported_as_they_go() {
    use taskdeck_app::run_tasks::run_tasks;
    let dir = tempfile::tempdir().unwrap();
    let server = taskdeck_site::start(config(dir.path(), "127.0.0.1:0", 1))
        .await
        .unwrap();
    let admin = client(&server.url(), ADMIN_ID, ADMIN_SECRET);
    let tasks = hanging_scans("WS-RUN", 1_234);
    let mut progress = Vec::new();
    let summary = run_tasks(&admin, "hq", &tasks, |p| progress.push(p)).await;
    assert!(summary.is_complete(), "{summary:?}");
    assert_eq!(summary.sentence(), "Started all 1,234 tasks.");
    assert_eq!(
        progress.iter().map(|p| p.created).collect::<Vec<_>>(),
        vec![500, 1_000, 1_234]
    );
    assert!(progress
        .iter()
        .all(|p| p.total == 1_234 && p.waiting_secs.is_none()));
    // In the order asked: consecutive numbers, each task its own target.
    let numbers: Vec<u64> = summary.created.iter().map(|id| id.number).collect();
    assert!(
        numbers.windows(2).all(|pair| pair[1] == pair[0] + 1),
        "{numbers:?}"
    );
    for (i, id) in summary.created.iter().enumerate().step_by(411) {
        let task = admin.task("hq", *id).await.unwrap();
        assert_eq!(task.target.name, format!("WS-RUN-{i}"));
        assert_eq!(task.initiator.to_string(), "alice@example.com");
    }
    let all = admin.first_page("hq", 1).await.unwrap();
    assert_eq!(all.total, 1_234);

    // A batch the Site refuses stops the run; the summary says what was done.
    let mut refused = hanging_scans("WS-BAD", 700);
    refused[600].target.name = String::new();
    let summary = run_tasks(&admin, "hq", &refused, |_| {}).await;
    assert_eq!(summary.created.len(), 500);
    assert_eq!(summary.not_created(), 200);
    let failure = summary.failure.clone().unwrap();
    assert!(failure.contains("tasks[100]"), "{failure}");
    assert!(
        summary
            .sentence()
            .starts_with("Started 500 of 700 tasks; 200 were not started. It stopped: "),
        "{}",
        summary.sentence()
    );
    assert_eq!(admin.first_page("hq", 1).await.unwrap().total, 1_734);
    server.stop().await;
}

#[tokio::test]
async fn a_1_0_site_gets_its_tasks_one_by_one() {
    use taskdeck_app::run_tasks::run_tasks;
    let dir = tempfile::tempdir().unwrap();
    let mut site = taskdeck_site::testing::TestSite::new(
        taskdeck_site::config::Store::Sqlite(dir.path().to_owned()),
        1,
    );
    site.api_revision = "1.0";
    let server = taskdeck_site::start(site.config()).await.unwrap();
    let admin = client(&server.url(), ADMIN_ID, ADMIN_SECRET);
    let mut progress = Vec::new();
    let summary = run_tasks(&admin, "hq", &hanging_scans("WS-OLD", 3), |p| {
        progress.push(p.created)
    })
    .await;
    assert!(summary.is_complete(), "{summary:?}");
    assert_eq!(progress, vec![1, 2, 3]);
    assert_eq!(admin.first_page("hq", 1).await.unwrap().total, 3);
    server.stop().await;
}

/// A Site that asks the first batch to slow down (429, `Retry-After: 1`),
/// then creates it: a stand-in for a busy Site's rate limit, whose real
/// windows are a minute long.
async fn slowing_server() -> String {
    use axum::http::StatusCode;
    use axum::response::IntoResponse;
    use axum::routing::post;
    let hits = Arc::new(Mutex::new(0u32));
    let app = stand_in_token(axum::Router::new()).route(
        "/api/v1/sites/hq/tasks/batch",
        post(
            move |axum::Json(body): axum::Json<site_api::CreateTasksRequest>| {
                let hits = hits.clone();
                async move {
                    if let Some(slow_down) = slow_down_once(&hits) {
                        return slow_down;
                    }
                    let tasks: Vec<serde_json::Value> = body
                        .tasks
                        .iter()
                        .enumerate()
                        .map(|(i, task)| {
                            json!({
                                "id": format!("scan-{}", i + 1), "kind": "scan", "number": i + 1,
                                "label": format!("Scan #{}", i + 1),
                                "target": {"type": "device", "name": task.target.name},
                                "start_date": "2026-12-03T10:00:00Z", "scope": task.scope,
                                "initiator": "a@x", "schedule": null, "status": "queued",
                                "audit_service": null, "running_since": null, "progress": null,
                                "end_date": null, "errors": 0
                            })
                        })
                        .collect();
                    (StatusCode::CREATED, axum::Json(json!({ "tasks": tasks }))).into_response()
                }
            },
        ),
    );
    serve_on_loopback(app).await
}

#[tokio::test]
async fn a_429_during_a_run_is_waited_out_and_the_wait_shown() {
    use taskdeck_app::run_tasks::run_tasks;
    let url = slowing_server().await;
    let client = client(&url, "c", "s");
    let mut progress = Vec::new();
    let started = std::time::Instant::now();
    let summary = run_tasks(&client, "hq", &hanging_scans("WS-SLOW", 3), |p| {
        progress.push(p)
    })
    .await;
    assert!(summary.is_complete(), "{summary:?}");
    assert!(
        started.elapsed() >= Duration::from_millis(900),
        "the wait was waited"
    );
    assert_eq!(summary.waits, 1);
    assert_eq!(progress.len(), 2, "{progress:?}");
    assert_eq!(progress[0].waiting_secs, Some(1));
    assert_eq!(progress[0].created, 0);
    assert_eq!(progress[1].created, 3);
    assert!(summary.sentence().contains("asked to slow down once"));
}
