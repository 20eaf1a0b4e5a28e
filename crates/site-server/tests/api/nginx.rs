//! nginx in front of two servers on one database, with the proxy rules of
//! `deploy/nginx/` as shipped: what a client sees through the balancer.

use std::time::{Duration, Instant};

use reqwest::StatusCode;
use taskdeck_testing::nginx::Nginx;

use crate::suite::{admin_token_at, read_events, scan, test_config, Site};

fn address(site: &Site) -> String {
    site.server.local_addr().to_string()
}

/// Reads `stream` until a `task` event of task `id`: its revision.
async fn task_event(stream: &mut reqwest::Response, id: &str) -> u64 {
    loop {
        for (revision, name, data) in read_events(stream, 1).await {
            if name == "task" && data["id"] == id {
                return revision;
            }
        }
    }
}

#[tokio::test]
async fn through_nginx_an_event_stream_carries_changes_from_both_servers_and_survives_one_stopping()
{
    let dir = tempfile::tempdir().unwrap();
    let a = Site::start_with(test_config(dir.path(), "test", 1)).await;
    let b = Site::start_with(test_config(dir.path(), "test", 1)).await;
    let nginx = Nginx::start(&[address(&a), address(&b)]);
    let http = reqwest::Client::new();
    let token = admin_token_at(&http, &nginx.url()).await;
    let events_url = format!("{}/api/v1/sites/hq/events", nginx.url());
    let mut stream = http
        .get(&events_url)
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(stream.status(), StatusCode::OK);
    assert_eq!(
        stream.headers()["content-type"].to_str().unwrap(),
        "text/event-stream"
    );

    // A change through each server, each delivered through nginx at once:
    // nothing waits in a proxy buffer.
    let mut seen = Vec::new();
    for (site, name) in [(&a, "WS-A"), (&b, "WS-B")] {
        let started = Instant::now();
        let created = site.create(&token, "hq", scan(name, "hang", 1000, 0)).await;
        let revision = task_event(&mut stream, &created.id.to_string()).await;
        assert!(
            started.elapsed() < Duration::from_secs(1),
            "{name} took {:?} through nginx",
            started.elapsed()
        );
        seen.push(revision);
    }
    assert!(seen[1] > seen[0], "revision order: {seen:?}");

    // Plain requests through nginx reach a server whichever answers.
    for _ in 0..4 {
        let response = http
            .get(format!("{}/api/v1/sites/hq/active-tasks", nginx.url()))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK);
    }

    // One server stops: nginx sends everything to the other, and a client
    // resuming from the last event it saw misses nothing.
    a.server.stop().await;
    let last = *seen.last().unwrap();
    let created = b.create(&token, "hq", scan("WS-C", "hang", 1000, 0)).await;
    let mut resumed = http
        .get(&events_url)
        .bearer_auth(&token)
        .header("Last-Event-ID", last.to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(resumed.status(), StatusCode::OK);
    let revision = task_event(&mut resumed, &created.id.to_string()).await;
    assert!(revision > last);
    for _ in 0..4 {
        let response = http
            .get(format!("{}/api/v1/me", nginx.url()))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK, "through the one left");
    }
    b.server.stop().await;
}
