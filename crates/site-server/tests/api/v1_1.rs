//! Revision 1.1 of the contract over real HTTP: the scope, start-date and
//! Audit Service filters with every sort and cursor paging, facets, and
//! batch creation. Expected sets are computed from the whole list by the
//! contract's own rules, so every answer is checked exactly.

use std::cmp::Ordering;

use site_api::{FacetsResponse, Order, SortKey, TaskKind};

use super::*;

/// A queue of 31 tasks over three start seconds, of both initiators, kinds,
/// target types and several scopes (two spellings of one), the oldest
/// running on AS-1; returns the admin's token and the start of
/// the second and third seconds.
async fn varied_queue(site: &Site) -> (String, String, String) {
    let admin = site.admin().await;
    let user = site.token(USER_ID, USER_SECRET).await;
    let scopes = [
        "Segment HQ-LAN",
        "segment hq-lan",
        "Segment DMZ",
        "Cloud estate",
    ];
    let kinds = ["scan", "audit", "scan"];
    let types = ["device", "segment", "cloud_resource", "device"];
    let mut seconds = Vec::new();
    let mut n = 0;
    for (batch, size) in [(0, 11), (1, 10), (2, 10)] {
        if batch > 0 {
            // Start dates are whole seconds: the next batch starts in the next one.
            let now = chrono::Utc::now();
            let next = (now + chrono::Duration::seconds(1)).timestamp();
            let wait = chrono::DateTime::from_timestamp(next, 0).unwrap() - now;
            tokio::time::sleep(wait.to_std().unwrap() + Duration::from_millis(20)).await;
            seconds.push(
                chrono::DateTime::from_timestamp(next, 0)
                    .unwrap()
                    .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            );
        }
        let tasks: Vec<Value> = (0..size)
            .map(|i| {
                n += 1;
                json!({
                    "kind": kinds[n % kinds.len()],
                    "target": {"type": types[n % types.len()], "name": format!("{}-{n:02}", ["WS", "ws", "Srv"][i % 3])},
                    "scope": scopes[n % scopes.len()],
                    "simulate": {"duration_ms": 1000, "outcome": "hang"}
                })
            })
            .collect();
        let token = if batch == 1 { &user } else { &admin };
        let (status, body) = post_batch(site, token, tasks).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
    }
    // The oldest task is taken by AS-1's one slot.
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let (_, body) = site
            .get(&admin, "/api/v1/sites/hq/active-tasks?status=running")
            .await;
        if body["total"].as_u64() >= Some(1) {
            break;
        }
        assert!(Instant::now() < deadline, "nothing started: {body}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    (admin, seconds[0].clone(), seconds[1].clone())
}

/// `POST …/tasks/batch` on Site `hq` with `tasks`.
async fn post_batch(site: &Site, token: &str, tasks: Vec<Value>) -> (StatusCode, Value) {
    site.post(
        token,
        "/api/v1/sites/hq/tasks/batch",
        &json!({ "tasks": tasks }),
    )
    .await
}

/// Every active task of the Site, read in one page.
async fn everything(site: &Site, token: &str) -> Vec<Task> {
    let (status, body) = site
        .get(token, "/api/v1/sites/hq/active-tasks?limit=1000")
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let page: ActiveTasksPage = serde_json::from_value(body).unwrap();
    assert!(page.next_cursor.is_none());
    page.tasks
}

/// The contract's order for `sort`: the key (text case-insensitively),
/// then number, then kind, all reversed for `desc`.
fn contract_order(sort: SortKey, order: Order, a: &Task, b: &Task) -> Ordering {
    let text = |task: &Task| -> String {
        match sort {
            SortKey::Task => task.kind.as_str().to_owned(),
            SortKey::Target => task.target.name.to_ascii_lowercase(),
            SortKey::Scope => task.scope.to_ascii_lowercase(),
            SortKey::Initiator => task.initiator.as_str().to_ascii_lowercase(),
            SortKey::Status => task.status.as_str().to_owned(),
            SortKey::StartDate => format!("{:020}", task.start_date.timestamp()),
        }
    };
    let ordering = text(a)
        .cmp(&text(b))
        .then(a.number.cmp(&b.number))
        .then(a.kind.as_str().cmp(b.kind.as_str()));
    match order {
        Order::Asc => ordering,
        Order::Desc => ordering.reverse(),
    }
}

#[tokio::test]
async fn scope_start_date_and_audit_service_filters_match_exactly_with_every_sort_and_cursor() {
    let dir = tempfile::tempdir().unwrap();
    let site = Site::start_with(test_config(dir.path(), "test", 1)).await;
    let (admin, second, third) = varied_queue(&site).await;
    let all = everything(&site, &admin).await;
    assert_eq!(all.len(), 31);
    let at = |text: &str| text.parse::<site_api::Timestamp>().unwrap();
    let (second_at, third_at) = (at(&second), at(&third));
    let just_before_third = (third_at - chrono::Duration::milliseconds(1))
        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true);

    type Matches = Box<dyn Fn(&Task) -> bool>;
    let cases: Vec<(String, Matches)> = vec![
        (
            "scope=SEGMENT%20HQ-LAN".into(),
            Box::new(|t: &Task| t.scope.eq_ignore_ascii_case("segment hq-lan")),
        ),
        (
            "scope=Segment%20DMZ&kind=scan".into(),
            Box::new(|t: &Task| t.scope == "Segment DMZ" && t.kind == TaskKind::Scan),
        ),
        ("scope=Segment".into(), Box::new(|_: &Task| false)),
        (
            format!("since={second}"),
            Box::new(move |t: &Task| t.start_date >= second_at),
        ),
        (
            format!("until={second}"),
            Box::new(move |t: &Task| t.start_date <= second_at),
        ),
        (
            format!("since={second}&until={just_before_third}"),
            Box::new(move |t: &Task| t.start_date >= second_at && t.start_date < third_at),
        ),
        (
            format!("since={third}&scope=cloud%20estate&target_type=device,cloud_resource"),
            Box::new(move |t: &Task| {
                t.start_date >= third_at
                    && t.scope == "Cloud estate"
                    && t.target.target_type != site_api::TargetType::Segment
            }),
        ),
        (
            "audit_service=as-1".into(),
            Box::new(|t: &Task| t.audit_service.as_ref().is_some_and(|s| s.id == "as-1")),
        ),
        (
            "audit_service=as-1&status=queued".into(),
            Box::new(|_: &Task| false),
        ),
        ("audit_service=as-9".into(), Box::new(|_: &Task| false)),
        (
            "initiator=BOB@example.com&scope=segment%20hq-lan".into(),
            Box::new(|t: &Task| {
                t.initiator.as_str() == "bob@example.com"
                    && t.scope.eq_ignore_ascii_case("segment hq-lan")
            }),
        ),
    ];
    for (filter, matches) in &cases {
        for sort in SortKey::ALL {
            for order in [Order::Asc, Order::Desc] {
                let query = format!("{filter}&sort={}&order={}", sort.as_str(), order.as_str());
                let mut expected: Vec<&Task> = all.iter().filter(|t| matches(t)).collect();
                expected.sort_by(|a, b| contract_order(sort, order, a, b));
                let expected: Vec<String> = expected.iter().map(|t| t.id.to_string()).collect();
                // One page: the total.
                let (total, _) = listed(&site, &admin, &query).await;
                assert_eq!(total, expected.len() as u64, "{query}");
                // Pages of two: exactly the expected tasks in the expected order.
                let paged: Vec<String> = all_pages(&site, &admin, &query)
                    .await
                    .iter()
                    .map(|t| t.id.to_string())
                    .collect();
                assert_eq!(paged, expected, "{query}");
            }
        }
    }
    // Some cases must hold tasks, or the checks above prove little.
    assert!(listed(&site, &admin, &format!("since={second}")).await.0 >= 20);
    assert_eq!(listed(&site, &admin, "audit_service=as-1").await.0, 1);

    let long_scope = format!("scope={}", "x".repeat(300));
    for bad in [
        "since=yesterday",
        "until=2026-13-01T00:00:00Z",
        "audit_service=",
        &long_scope,
    ] {
        let (status, body) = site
            .get(&admin, &format!("/api/v1/sites/hq/active-tasks?{bad}"))
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}: {body}");
        assert_eq!(error_code(&body), "invalid_request");
    }
    site.server.stop().await;
}

#[tokio::test]
async fn facets_count_each_field_without_its_own_filter() {
    let dir = tempfile::tempdir().unwrap();
    let site = Site::start_with(test_config(dir.path(), "test", 1)).await;
    let (admin, second, _) = varied_queue(&site).await;
    let all = everything(&site, &admin).await;
    let second_at = second.parse::<site_api::Timestamp>().unwrap();

    let value_of = |field: &str, task: &Task| -> Option<String> {
        match field {
            "scope" => Some(task.scope.clone()),
            "initiator" => Some(task.initiator.as_str().to_owned()),
            "target_type" => Some(task.target.target_type.as_str().to_owned()),
            "kind" => Some(task.kind.as_str().to_owned()),
            "status" => Some(task.status.as_str().to_owned()),
            "audit_service" => task.audit_service.as_ref().map(|s| s.id.clone()),
            _ => unreachable!(),
        }
    };
    // (filters, what they keep when the faceted field's own filter is dropped)
    type Keeps = Box<dyn Fn(&str, &Task) -> bool>;
    let cases: Vec<(String, Keeps)> = vec![
        ("".into(), Box::new(|_: &str, _: &Task| true)),
        (
            "kind=scan".into(),
            Box::new(|field: &str, t: &Task| field == "kind" || t.kind == TaskKind::Scan),
        ),
        (
            format!("scope=segment%20hq-lan&since={second}"),
            Box::new(move |field: &str, t: &Task| {
                (field == "scope" || t.scope.eq_ignore_ascii_case("segment hq-lan"))
                    && t.start_date >= second_at
            }),
        ),
        (
            "status=running&initiator=alice@example.com".into(),
            Box::new(|field: &str, t: &Task| {
                (field == "status" || t.status == TaskStatus::Running)
                    && (field == "initiator" || t.initiator.as_str() == "alice@example.com")
            }),
        ),
        (
            "audit_service=as-1".into(),
            Box::new(|field: &str, t: &Task| field == "audit_service" || t.audit_service.is_some()),
        ),
        (
            "status=queued&target_type=device,segment".into(),
            Box::new(|field: &str, t: &Task| {
                (field == "status" || t.status == TaskStatus::Queued)
                    && (field == "target_type"
                        || t.target.target_type != site_api::TargetType::CloudResource)
            }),
        ),
    ];
    for (filters, keeps) in &cases {
        for field in [
            "scope",
            "initiator",
            "target_type",
            "kind",
            "status",
            "audit_service",
        ] {
            let kept: Vec<&Task> = all.iter().filter(|t| keeps(field, t)).collect();
            let mut counts = std::collections::BTreeMap::<String, u64>::new();
            for task in &kept {
                if let Some(value) = value_of(field, task) {
                    *counts.entry(value).or_default() += 1;
                }
            }
            let mut expected: Vec<(String, u64)> = counts.into_iter().collect();
            expected.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
            let path = format!("/api/v1/sites/hq/active-tasks/facets?field={field}&{filters}");
            let (status, body) = site.get(&admin, &path).await;
            assert_eq!(status, StatusCode::OK, "{path}: {body}");
            let facets: FacetsResponse = serde_json::from_value(body).unwrap();
            assert_eq!(facets.field.as_str(), field);
            let answered: Vec<(String, u64)> = facets
                .values
                .into_iter()
                .map(|v| (v.value, v.count))
                .collect();
            assert_eq!(answered, expected, "{path}");
            assert_eq!(facets.total, kept.len() as u64, "{path}");
        }
    }
    // Two spellings of one scope are two values, as stored.
    let (_, body) = site
        .get(&admin, "/api/v1/sites/hq/active-tasks/facets?field=scope")
        .await;
    let scopes: Vec<&str> = body["values"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["value"].as_str().unwrap())
        .collect();
    assert!(
        scopes.contains(&"Segment HQ-LAN") && scopes.contains(&"segment hq-lan"),
        "{scopes:?}"
    );

    for bad in [
        "",
        "field=colour",
        "field=kind&sort=task",
        "field=kind&limit=5",
        "field=kind&cursor=x",
        "field=kind&status=finished",
    ] {
        let (status, body) = site
            .get(
                &admin,
                &format!("/api/v1/sites/hq/active-tasks/facets?{bad}"),
            )
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad:?}: {body}");
        assert_eq!(error_code(&body), "invalid_request");
    }
    let user = site.token(USER_ID, USER_SECRET).await;
    assert_eq!(
        site.get(&user, "/api/v1/sites/hq/active-tasks/facets?field=kind")
            .await
            .0,
        StatusCode::OK
    );
    assert_eq!(
        site.get(
            &admin,
            "/api/v1/sites/secret-site/active-tasks/facets?field=kind"
        )
        .await
        .0,
        StatusCode::NOT_FOUND
    );
    site.server.stop().await;
}

#[tokio::test]
async fn facets_list_at_most_a_hundred_values_by_count_then_value() {
    let dir = tempfile::tempdir().unwrap();
    let site = Site::start_with(test_config(dir.path(), "test", 1)).await;
    let admin = site.admin().await;
    // 105 scopes: "Scope 000" has 6 tasks, "Scope 001" 1 more than the rest.
    let mut tasks: Vec<Value> = (0..105)
        .map(|i| {
            json!({"kind": "scan", "target": {"type": "device", "name": "WS-1"},
                        "scope": format!("Scope {i:03}"),
                        "simulate": {"duration_ms": 1000, "outcome": "hang"}})
        })
        .collect();
    for scope in ["Scope 000"; 5].into_iter().chain(["Scope 001"]) {
        tasks.push(
            json!({"kind": "audit", "target": {"type": "device", "name": "WS-1"},
                          "scope": scope, "simulate": {"duration_ms": 1000, "outcome": "hang"}}),
        );
    }
    let (status, body) = post_batch(&site, &admin, tasks).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let (_, body) = site
        .get(&admin, "/api/v1/sites/hq/active-tasks/facets?field=scope")
        .await;
    let facets: FacetsResponse = serde_json::from_value(body).unwrap();
    assert_eq!(facets.total, 111);
    assert_eq!(facets.values.len(), 100);
    assert_eq!(
        (facets.values[0].value.as_str(), facets.values[0].count),
        ("Scope 000", 6)
    );
    assert_eq!(
        (facets.values[1].value.as_str(), facets.values[1].count),
        ("Scope 001", 2)
    );
    assert_eq!(facets.values[2].value, "Scope 002");
    assert_eq!(facets.values[99].value, "Scope 099");
    assert!(facets.values.iter().all(|v| v.count > 0));
    site.server.stop().await;
}

#[tokio::test]
async fn batches_are_created_all_or_nothing_numbered_in_request_order() {
    let dir = tempfile::tempdir().unwrap();
    let site = Site::start(dir.path()).await;
    let admin = site.admin().await;
    let user = site.token(USER_ID, USER_SECRET).await;
    let hang = |kind: &str, name: &str| {
        json!({"kind": kind, "target": {"type": "device", "name": name}, "scope": "Segment HQ-LAN",
               "simulate": {"duration_ms": 1000, "outcome": "hang"}})
    };
    let batch = json!({"tasks": [hang("scan", "A"), hang("audit", "B"), hang("scan", "C")]});
    let (status, body) = site
        .post(&user, "/api/v1/sites/hq/tasks/batch", &batch)
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let created: site_api::CreateTasksResponse = serde_json::from_value(body).unwrap();
    let ids: Vec<String> = created.tasks.iter().map(|t| t.id.to_string()).collect();
    assert_eq!(ids, ["scan-1", "audit-1", "scan-2"]);
    let names: Vec<&str> = created
        .tasks
        .iter()
        .map(|t| t.target.name.as_str())
        .collect();
    assert_eq!(names, ["A", "B", "C"]);
    assert!(created
        .tasks
        .iter()
        .all(|t| t.initiator.as_str() == "bob@example.com" && t.schedule.is_none()));

    // One bad element: a 400 naming it, and nothing created.
    let mut bad_kind = hang("scan", "D");
    bad_kind["kind"] = json!("inventory");
    let mut blank_scope = hang("scan", "E");
    blank_scope["scope"] = json!(" ");
    let mut extra = hang("scan", "F");
    extra["priority"] = json!(1);
    for (tasks, index) in [
        (vec![hang("scan", "X"), hang("scan", "Y"), bad_kind], 2),
        (vec![hang("audit", "X"), blank_scope], 1),
        (vec![extra], 0),
        (vec![hang("scan", "X"), json!("scan-1")], 1),
    ] {
        let (status, body) = post_batch(&site, &admin, tasks).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
        assert_eq!(error_code(&body), "invalid_request");
        let message = body["error"]["message"].as_str().unwrap();
        assert!(message.contains(&format!("tasks[{index}]")), "{message}");
    }
    for count in [0, 501] {
        let tasks: Vec<Value> = (0..count).map(|i| hang("scan", &format!("N{i}"))).collect();
        let (status, body) = post_batch(&site, &admin, tasks).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{count}: {body}");
    }
    let (status, body) = site
        .post(
            &admin,
            "/api/v1/sites/hq/tasks/batch",
            &json!({"tasks": [hang("scan", "G")], "all": true}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    let huge = json!({"tasks": [{"kind": "scan", "target": {"type": "device", "name": "x"},
                                  "scope": "x".repeat(1_100_000)}]});
    let (status, body) = site
        .post(&admin, "/api/v1/sites/hq/tasks/batch", &huge)
        .await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(error_code(&body), "payload_too_large");
    // Nothing of the refused batches exists: numbers go on without a gap.
    let (_, body) = site.get(&admin, "/api/v1/sites/hq/active-tasks").await;
    assert_eq!(body["total"], 3);
    let next = site.create(&admin, "hq", hang("scan", "H")).await;
    assert_eq!(next.id.to_string(), "scan-3");

    // 500 at once, consecutive, in order.
    let tasks: Vec<Value> = (0..500)
        .map(|i| {
            hang(
                if i % 2 == 0 { "audit" } else { "scan" },
                &format!("B{i:03}"),
            )
        })
        .collect();
    let (status, body) = post_batch(&site, &admin, tasks).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let created: site_api::CreateTasksResponse = serde_json::from_value(body).unwrap();
    assert_eq!(created.tasks.len(), 500);
    for (i, task) in created.tasks.iter().enumerate() {
        assert_eq!(task.target.name, format!("B{i:03}"));
        let expected = match task.kind {
            TaskKind::Audit => 2 + i as u64 / 2,
            TaskKind::Scan => 4 + i as u64 / 2,
        };
        assert_eq!(task.number, expected, "{}", task.id);
    }
    // A production server refuses `simulate` in a batch as in a single create.
    site.server.stop().await;
    let dir = tempfile::tempdir().unwrap();
    let site = Site::start_with(test_config(dir.path(), "production", 2)).await;
    let admin = site.admin().await;
    let (status, body) = site
        .post(
            &admin,
            "/api/v1/sites/hq/tasks/batch",
            &json!({"tasks": [
            {"kind": "scan", "target": {"type": "device", "name": "x"}, "scope": "s"},
            hang("scan", "y")]}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("tasks[1]"),
        "{body}"
    );
}

#[tokio::test]
async fn a_batch_counts_once_against_the_rate_limit() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = test_config(dir.path(), "test", 2);
    config.rate_limit_per_minute = 3;
    let site = Site::start_with(config).await;
    // The token is one request; two batches of 500 are two more.
    let token = site.admin().await;
    for _ in 0..2 {
        let tasks: Vec<Value> = (0..500)
            .map(|i| scan(&format!("WS-{i}"), "hang", 1000, 0))
            .collect();
        let (status, body) = post_batch(&site, &token, tasks).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
    }
    let (status, body) = site
        .post(
            &token,
            "/api/v1/sites/hq/tasks/batch",
            &json!({"tasks": [scan("WS-X", "hang", 1000, 0)]}),
        )
        .await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{body}");
    assert_eq!(error_code(&body), "rate_limited");
}

#[tokio::test]
async fn concurrent_creates_are_grouped_yet_numbered_once_each_in_event_order() {
    let dir = tempfile::tempdir().unwrap();
    // One slot, held by a hanging task: every new task stays queued, so
    // each makes exactly one event.
    let site = Site::start_with(test_config(dir.path(), "test", 1)).await;
    let admin = site.admin().await;
    let hold = site
        .create(&admin, "hq", scan("WS-HOLD", "hang", 1000, 0))
        .await;
    site.wait_for(&admin, "hq", &hold.id.to_string(), |t| {
        t.status == TaskStatus::Running
    })
    .await;
    let mut events = site
        .http
        .get(site.url("/api/v1/sites/hq/events"))
        .bearer_auth(&admin)
        .header("last-event-id", "0")
        .send()
        .await
        .unwrap();
    // Past the replay of what happened before.
    let before: u64 = {
        let (_, body) = site.get(&admin, "/api/v1/sites/hq/active-tasks").await;
        body["revision"].as_u64().unwrap()
    };
    let (clients, each) = (8, 40);
    let mut joins = Vec::new();
    for client in 0..clients {
        let (http, url, token) = (
            site.http.clone(),
            site.url("/api/v1/sites/hq/tasks"),
            admin.clone(),
        );
        joins.push(tokio::spawn(async move {
            let mut tasks = Vec::new();
            for i in 0..each {
                let response = http
                    .post(&url)
                    .bearer_auth(&token)
                    .json(&scan(&format!("C{client}-{i}"), "hang", 1000, 0))
                    .send()
                    .await
                    .unwrap();
                assert_eq!(response.status(), StatusCode::CREATED);
                tasks.push(response.json::<Task>().await.unwrap());
            }
            tasks
        }));
    }
    let mut created = Vec::new();
    for join in joins {
        created.extend(join.await.unwrap());
    }
    // Numbers 2..=321: each once, none skipped; each client's in its own order.
    let mut numbers: Vec<u64> = created.iter().map(|t| t.number).collect();
    numbers.sort();
    assert_eq!(
        numbers,
        (2..=(clients * each + 1) as u64).collect::<Vec<_>>()
    );
    for chunk in created.chunks(each) {
        assert!(chunk.windows(2).all(|pair| pair[0].number < pair[1].number));
    }
    // The stream: one `task` event per creation, revisions strictly
    // increasing, and numbers in revision order (commit order is number order).
    let mut seen = Vec::new();
    let mut last_revision = 0;
    while seen.len() < created.len() {
        for (revision, name, data) in read_events(&mut events, 1).await {
            assert!(revision > last_revision, "{revision} after {last_revision}");
            last_revision = revision;
            if revision > before && name == "task" && data["status"] == "queued" {
                seen.push(data["number"].as_u64().unwrap());
            }
        }
    }
    let mut in_order = seen.clone();
    in_order.sort();
    assert_eq!(seen, in_order, "numbers follow revisions");
    assert_eq!(seen.len(), created.len());
    let (_, body) = site.get(&admin, "/api/v1/sites/hq/active-tasks").await;
    assert_eq!(body["total"], clients * each + 1);
    assert_eq!(body["counts"]["queued"], clients * each);
}

#[tokio::test]
async fn paging_with_random_filters_and_sorts_while_tasks_move_never_skips_or_repeats() {
    use rand::{Rng, SeedableRng};
    let dir = tempfile::tempdir().unwrap();
    let site = Site::start_with(test_config(dir.path(), "test", 2)).await;
    let (admin, second, _) = varied_queue(&site).await;
    let mut rng = rand::rngs::StdRng::seed_from_u64(20261202);
    // Movement: tasks arrive, short ones run and end, queued ones are cancelled.
    let stop = tokio_util::sync::CancellationToken::new();
    let mover = {
        let (http, base, token, stop) = (
            site.http.clone(),
            site.server.url(),
            admin.clone(),
            stop.clone(),
        );
        tokio::spawn(async move {
            let mut i = 0;
            while !stop.is_cancelled() {
                i += 1;
                let scope = ["Segment HQ-LAN", "Segment DMZ"][i % 2];
                let kind = ["scan", "audit"][i % 2];
                let body = json!({"kind": kind,
                    "target": {"type": "device", "name": format!("M-{i}")}, "scope": scope,
                    "simulate": {"duration_ms": 150, "outcome": "finished"}});
                let task: Task = http
                    .post(format!("{base}/api/v1/sites/hq/tasks"))
                    .bearer_auth(&token)
                    .json(&body)
                    .send()
                    .await
                    .unwrap()
                    .json()
                    .await
                    .unwrap();
                if i % 3 == 0 {
                    http.post(format!("{base}/api/v1/sites/hq/active-tasks/cancel"))
                        .bearer_auth(&token)
                        .json(&json!({"tasks": [task.id]}))
                        .send()
                        .await
                        .unwrap();
                }
                tokio::time::sleep(Duration::from_millis(15)).await;
            }
        })
    };
    let filters = [
        "status=queued".to_owned(),
        "status=running".to_owned(),
        "kind=scan".to_owned(),
        "target_type=device,segment".to_owned(),
        "scope=segment%20hq-lan".to_owned(),
        "scope=Segment%20DMZ".to_owned(),
        format!("since={second}"),
        format!("until={second}"),
        "initiator=alice@example.com".to_owned(),
        "audit_service=as-1".to_owned(),
        "q=ws".to_owned(),
    ];
    for round in 0..40 {
        let mut query: Vec<String> = filters
            .iter()
            .filter(|_| rng.random_bool(0.2))
            .cloned()
            .collect();
        let sort = SortKey::ALL[rng.random_range(0..SortKey::ALL.len())];
        let order = ["asc", "desc"][rng.random_range(0..2)];
        query.push(format!("sort={}&order={order}", sort.as_str()));
        let query = query.join("&");
        let before = everything(&site, &admin).await;
        // Pages of 1..7 (all_pages reads pages of two; vary it here).
        let limit = rng.random_range(1..8);
        let mut paged: Vec<Task> = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let mut path = format!("/api/v1/sites/hq/active-tasks?{query}&limit={limit}");
            if let Some(cursor) = &cursor {
                path.push_str(&format!("&cursor={cursor}"));
            }
            let (status, body) = site.get(&admin, &path).await;
            assert_eq!(status, StatusCode::OK, "{path}: {body}");
            let page: ActiveTasksPage = serde_json::from_value(body).unwrap();
            paged.extend(page.tasks);
            cursor = page.next_cursor;
            if cursor.is_none() {
                break;
            }
        }
        let after = everything(&site, &admin).await;
        // No task twice.
        let mut ids: Vec<String> = paged.iter().map(|t| t.id.to_string()).collect();
        ids.sort();
        let n = ids.len();
        ids.dedup();
        assert_eq!(ids.len(), n, "round {round}, {query}: a task came twice");
        // Every task that stayed as it was (same status and service) and
        // matched the filter throughout was listed: the ones the unpaged
        // answer holds now and held before.
        let (_, now_body) = site
            .get(
                &admin,
                &format!("/api/v1/sites/hq/active-tasks?{query}&limit=1000"),
            )
            .await;
        let now: ActiveTasksPage = serde_json::from_value(now_body).unwrap();
        for task in &now.tasks {
            let unchanged = |list: &[Task]| {
                list.iter().any(|t| {
                    t.id == task.id
                        && t.status == task.status
                        && t.audit_service == task.audit_service
                })
            };
            if unchanged(&before) && unchanged(&after) {
                assert!(
                    ids.contains(&task.id.to_string()),
                    "round {round}, {query} (limit {limit}): {} was skipped",
                    task.id
                );
            }
        }
        // And the pages came in the query's order.
        for pair in paged.windows(2) {
            let o = if order == "asc" {
                Order::Asc
            } else {
                Order::Desc
            };
            assert_ne!(
                contract_order(sort, o, &pair[0], &pair[1]),
                Ordering::Greater,
                "round {round}, {query}: {} before {}",
                pair[0].id,
                pair[1].id
            );
        }
    }
    stop.cancel();
    mover.await.unwrap();

    // Once still, the kept counts agree with the tasks themselves, for
    // every filter of status, kind and target type.
    let mut all = everything(&site, &admin).await;
    loop {
        tokio::time::sleep(Duration::from_millis(300)).await;
        let again = everything(&site, &admin).await;
        if again == all {
            break;
        }
        all = again;
    }
    for status in ["", "queued", "running"] {
        for kind in ["", "scan", "audit"] {
            for types in ["", "device", "segment,cloud_resource"] {
                let expected = all
                    .iter()
                    .filter(|t| status.is_empty() || t.status.as_str() == status)
                    .filter(|t| kind.is_empty() || t.kind.as_str() == kind)
                    .filter(|t| types.is_empty() || types.contains(t.target.target_type.as_str()))
                    .count() as u64;
                let query: Vec<String> =
                    [("status", status), ("kind", kind), ("target_type", types)]
                        .into_iter()
                        .filter(|(_, value)| !value.is_empty())
                        .map(|(name, value)| format!("{name}={value}"))
                        .collect();
                let query = query.join("&");
                let (total, _) = listed(&site, &admin, &query).await;
                assert_eq!(total, expected, "{query:?}");
            }
        }
    }
}
