//! The real `taskdeck-audit-service` binary against a real `taskdeck-site`
//! server over loopback HTTP and HTTPS: every behaviour of the contract's
//! "Remote Audit Services (1.1)" section.
//!
//! Each test writes a Site configuration with one remote Audit Service
//! (lease 5 s, the shortest allowed, so lost agents are found quickly),
//! starts the server binary, and runs the agent with `task.sh`: a program
//! whose behaviour the task's target name chooses (`sleep-N`, `progress`,
//! `fail`, `stubborn`), which records its process id, arguments and the
//! times it ran beside itself. One test runs two servers on a PostgreSQL
//! database (the cluster `cargo xtask test` starts), their clocks skewed
//! by libfaketime.

mod support;

use std::time::Duration;

use serde_json::{json, Value};
use support::{pid_alive, signal, wait_for, Agent, Site, SiteOptions};

#[tokio::test]
async fn an_agent_connects_runs_tasks_as_the_command_runner_does_and_reports() {
    let site = Site::start(SiteOptions::default()).await;
    let before = site.audit_service().await;
    assert_eq!(before["runner"], "remote");
    assert_eq!(before["state"], "offline", "{before}");
    assert!(before["address"].is_null() && before["version"].is_null());
    assert!(site
        .signals()
        .await
        .iter()
        .any(|s| s["kind"] == "audit_service_offline" && s["audit_service"]["id"] == "as-branch"));

    let mut agent = Agent::start(&site, &[]).await;
    assert_eq!(
        agent.connected_line().await,
        format!("connected to {} as as-branch", site.url)
    );
    let online = wait_for("the service online", Duration::from_secs(5), || async {
        let service = site.audit_service().await;
        (service["state"] == "online").then_some(service)
    })
    .await;
    assert_eq!(online["address"], "127.0.0.1");
    assert_eq!(online["version"], env!("CARGO_PKG_VERSION"));
    assert!(online["last_heartbeat"].is_string());
    assert!(!site
        .signals()
        .await
        .iter()
        .any(|s| s["kind"] == "audit_service_offline"));

    let ok = site.create("progress", "Segment HQ-LAN").await;
    let failed = site.create("fail", "Segment HQ-LAN").await;
    let ok = site.wait_terminal(&ok, Duration::from_secs(10)).await;
    assert_eq!(ok["status"], "finished", "{ok}");
    assert_eq!(ok["progress"], json!({"done": 4, "total": 4}));
    assert_eq!(ok["errors"], 1);
    assert_eq!(
        site.log_entry(ok["id"].as_str().unwrap()).await["error_messages"],
        json!(["disk C: is full"])
    );
    assert_eq!(ok["audit_service"]["id"], "as-branch");
    let id = ok["id"].as_str().unwrap();
    assert_eq!(
        site.file(&format!("{id}.args")),
        "scan\nprogress\nSegment HQ-LAN\ndevice\n"
    );
    let failed = site.wait_terminal(&failed, Duration::from_secs(10)).await;
    assert_eq!(failed["status"], "failed", "{failed}");
    assert_eq!(failed["errors"], 1);
    assert_eq!(
        site.log_entry(failed["id"].as_str().unwrap()).await["error_messages"],
        json!(["cannot reach fail"])
    );
    // The durable record: one Scan-log row each.
    assert_eq!(site.log_rows(id).await, 1);
    agent.stop_and_expect(0).await;
}

#[tokio::test]
async fn refused_agents_exit_2_saying_why() {
    let site = Site::start(SiteOptions::default()).await;
    let cases: [(&[&str], &str); 4] = [
        (&["--secret", "wrong"], "agent secret"),
        (&["--site", "nowhere"], "does not know this Site"),
        (&["--service", "as-nothing"], "no Audit Service"),
        (&["--site", "lab", "--service", "as-local"], "not remote"),
    ];
    for (args, expected) in cases {
        let agent = Agent::start(&site, args).await;
        let (status, stderr) = agent.wait_exit(Duration::from_secs(10)).await;
        assert_eq!(status, Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains(expected), "{args:?}: {stderr}");
    }
    // A second agent on a service another agent holds is refused too.
    let mut first = Agent::start(&site, &[]).await;
    first.connected_line().await;
    let second = Agent::start(&site, &[]).await;
    let (status, stderr) = second.wait_exit(Duration::from_secs(10)).await;
    assert_eq!(status, Some(2), "{stderr}");
    assert!(
        stderr.contains("already served by another agent"),
        "{stderr}"
    );
    first.stop_and_expect(0).await;
}

#[tokio::test]
async fn the_service_never_runs_more_than_its_slots_and_slots_can_be_lowered() {
    let site = Site::start(SiteOptions {
        slots: 3,
        ..SiteOptions::default()
    })
    .await;
    let mut agent = Agent::start(&site, &[]).await;
    agent.connected_line().await;
    let ids = site.create_many("sleep-0.3", 12).await;
    let mut busiest = 0;
    for id in &ids {
        let task = site.wait_terminal(id, Duration::from_secs(30)).await;
        assert_eq!(task["status"], "finished", "{task}");
        busiest = busiest.max(site.audit_service().await["busy"].as_u64().unwrap());
    }
    assert!(busiest <= 3, "busy {busiest}");
    assert_eq!(site.most_at_once(&ids), 3, "every slot was used, none more");
    agent.stop_and_expect(0).await;

    // --slots lowers the service's slots.
    let mut agent = Agent::start(&site, &["--slots", "1"]).await;
    agent.connected_line().await;
    let ids = site.create_many("sleep-0.2", 4).await;
    for id in &ids {
        site.wait_terminal(id, Duration::from_secs(30)).await;
    }
    assert_eq!(site.most_at_once(&ids), 1);
    agent.stop_and_expect(0).await;
}

#[tokio::test]
async fn a_task_is_taken_within_a_second_of_a_slot_being_free() {
    let site = Site::start(SiteOptions::default()).await;
    let mut agent = Agent::start(&site, &[]).await;
    agent.connected_line().await;
    // Idle agent: its poll is waiting, and the new task reaches it at once.
    tokio::time::sleep(Duration::from_millis(500)).await;
    for _ in 0..3 {
        let started = std::time::Instant::now();
        let id = site.create("sleep-0.1", "s").await;
        site.wait_status(&id, &["running", "finished"], Duration::from_secs(1))
            .await;
        assert!(started.elapsed() < Duration::from_secs(1));
        site.wait_terminal(&id, Duration::from_secs(5)).await;
    }
    agent.stop_and_expect(0).await;
}

#[tokio::test]
async fn cancel_stops_the_whole_process_group_even_when_it_ignores_sigterm() {
    let site = Site::start(SiteOptions::default()).await;
    let mut agent = Agent::start(&site, &[]).await;
    agent.connected_line().await;
    let id = site.create("stubborn", "s").await;
    let (leader, child) = site.program_pids(&id).await;
    let cancelled = site.cancel(&id).await;
    assert_eq!(cancelled["outcome"], "cancelled");
    let returned = std::time::Instant::now();
    wait_for(
        "the program's group gone",
        Duration::from_secs(10),
        || async { (!pid_alive(leader) && !pid_alive(child)).then_some(()) },
    )
    .await;
    // SIGTERM was ignored, so SIGKILL ended it after the 5 s grace.
    assert!(returned.elapsed() >= Duration::from_secs(4));
    let task = site.task(&id).await;
    assert_eq!(task["status"], "cancelled");
    // The slot is free again.
    let next = site.create("sleep-0.1", "s").await;
    assert_eq!(
        site.wait_terminal(&next, Duration::from_secs(10)).await["status"],
        "finished"
    );
    agent.stop_and_expect(0).await;
}

#[tokio::test]
async fn an_agent_killed_mid_task_loses_its_task_once_its_lease_runs_out() {
    let site = Site::start(SiteOptions::default()).await;
    let mut agent = Agent::start(&site, &[]).await;
    agent.connected_line().await;
    let id = site.create("sleep-60", "s").await;
    let (leader, _) = site.program_pids(&id).await;
    signal(agent.pid(), libc::SIGKILL);
    let task = site.wait_terminal(&id, Duration::from_secs(20)).await;
    assert_eq!(task["status"], "failed");
    assert!(task["errors"].as_u64().unwrap() >= 1);
    let messages = site.log_entry(&id).await["error_messages"].to_string();
    assert!(messages.contains("Audit Service was lost"), "{messages}");
    let service = site.audit_service().await;
    assert_eq!(service["state"], "offline");
    assert_eq!(service["busy"], 0);
    assert!(site
        .signals()
        .await
        .iter()
        .any(|s| s["kind"] == "audit_service_offline" && s["audit_service"]["id"] == "as-branch"));
    assert_eq!(site.log_rows(&id).await, 1);
    // The orphaned program is the host's to clean up; the test does.
    signal(-leader, libc::SIGKILL);
    // A new agent may take the service at once.
    let mut again = Agent::start(&site, &[]).await;
    again.connected_line().await;
    let next = site.create("sleep-0.1", "s").await;
    assert_eq!(
        site.wait_terminal(&next, Duration::from_secs(10)).await["status"],
        "finished"
    );
    again.stop_and_expect(0).await;
}

#[tokio::test]
async fn servers_whose_clocks_are_ten_minutes_off_keep_a_live_lease_and_end_a_lost_one_on_time() {
    // Two servers on one PostgreSQL database, one ten minutes ahead and one
    // ten minutes behind. Leases are timed by the database's clock: by its
    // own, the server ahead would find every lease long run out, and the
    // one behind would keep a lost agent's ten minutes too long.
    let dir = tempfile::tempdir().unwrap();
    let url = taskdeck_testing::postgres::database_for(dir.path());
    let options = |clock_offset| SiteOptions {
        database_url: Some(url.clone()),
        clock_offset: Some(clock_offset),
        ..SiteOptions::default()
    };
    let mut ahead = Site::start(options("+600")).await;
    let behind = Site::start(options("-600")).await;
    // The servers' own clocks are off, as their `Date` headers tell.
    assert!((ahead.clock_offset_seen().await - 600).abs() <= 5);
    assert!((behind.clock_offset_seen().await + 600).abs() <= 5);
    let mut agent = Agent::start(&behind, &[]).await;
    agent.connected_line().await;
    // Longer than the 5 s lease, renewed through the server behind while
    // the one ahead looks for run-out leases.
    let id = ahead.create("sleep-7", "s").await;
    let task = behind.wait_terminal(&id, Duration::from_secs(30)).await;
    assert_eq!(task["status"], "finished", "{task}");
    // Its times too are the database's: created through the server ahead,
    // claimed and ended through the one behind, in order and about now.
    let at = |field: &str| {
        chrono::DateTime::parse_from_rfc3339(task[field].as_str().unwrap())
            .unwrap()
            .timestamp()
    };
    let now = chrono::Utc::now().timestamp();
    assert!((at("start_date") - now).abs() <= 15, "{task}");
    assert!(at("start_date") <= at("running_since"), "{task}");
    assert!(at("running_since") <= at("end_date"), "{task}");
    assert!(at("end_date") <= now + 1, "{task}");
    assert_eq!(ahead.audit_service().await["state"], "online");
    assert_eq!(behind.log_rows(&id).await, 1);
    // With the server ahead gone, a lost agent's task ends through the one
    // behind once the lease has run out by the database's clock.
    ahead.kill_server(libc::SIGTERM).await;
    let id = behind.create("sleep-60", "s").await;
    let (leader, _) = behind.program_pids(&id).await;
    signal(agent.pid(), libc::SIGKILL);
    let task = behind.wait_terminal(&id, Duration::from_secs(20)).await;
    assert_eq!(task["status"], "failed");
    let messages = behind.log_entry(&id).await["error_messages"].to_string();
    assert!(messages.contains("Audit Service was lost"), "{messages}");
    assert_eq!(behind.audit_service().await["state"], "offline");
    // The orphaned program is the host's to clean up; the test does.
    signal(-leader, libc::SIGKILL);
}

#[tokio::test]
async fn behind_nginx_an_agent_moves_to_the_other_server_when_its_own_is_killed() {
    // Two servers on one PostgreSQL database behind nginx with the shipped
    // rules: an agent keeps to one server (hashed by its address) while
    // that one is up. Each server is killed in turn under a running task,
    // so whichever the agent was on, it once loses its server mid-task.
    let dir = tempfile::tempdir().unwrap();
    let url = taskdeck_testing::postgres::database_for(dir.path());
    let options = || SiteOptions {
        database_url: Some(url.clone()),
        ..SiteOptions::default()
    };
    let mut a = Site::start(options()).await;
    let mut b = Site::start(options()).await;
    let address = |site: &Site| site.url.trim_start_matches("http://").to_owned();
    let nginx = taskdeck_testing::nginx::Nginx::start(&[address(&a), address(&b)]);
    let mut agent = Agent::start(&a, &["--server", &nginx.url()]).await;
    agent.connected_line().await;
    for round in 0..2 {
        let (killed, other) = if round == 0 {
            (&mut a, &b)
        } else {
            (&mut b, &a)
        };
        let id = other.create("sleep-4", "s").await;
        other
            .wait_status(&id, &["running"], Duration::from_secs(10))
            .await;
        killed.kill_server(libc::SIGKILL).await;
        let task = other.wait_terminal(&id, Duration::from_secs(30)).await;
        assert_eq!(task["status"], "finished", "round {round}: {task}");
        assert_eq!(other.log_rows(&id).await, 1);
        // The next task is taken through whichever server is up.
        let next = other.create("sleep-0.1", "s").await;
        assert_eq!(
            other.wait_terminal(&next, Duration::from_secs(15)).await["status"],
            "finished",
            "round {round}"
        );
        killed.restart().await;
    }
    assert_eq!(a.audit_service().await["state"], "online");
    agent.stop_and_expect(0).await;
}

#[tokio::test]
async fn a_frozen_agent_that_wakes_after_its_lease_stops_its_program_and_changes_nothing() {
    let site = Site::start(SiteOptions::default()).await;
    let mut agent = Agent::start(&site, &[]).await;
    agent.connected_line().await;
    // The program would finish 9 s after it started, after the lease ran out.
    let id = site.create("sleep-9", "s").await;
    let (leader, _) = site.program_pids(&id).await;
    signal(agent.pid(), libc::SIGSTOP);
    let task = site.wait_terminal(&id, Duration::from_secs(20)).await;
    assert_eq!(task["status"], "failed");
    assert!(site.log_entry(&id).await["error_messages"]
        .to_string()
        .contains("Audit Service was lost"));
    signal(agent.pid(), libc::SIGCONT);
    // It learns the lease is gone and stops the program before it can finish.
    wait_for("the program stopped", Duration::from_secs(8), || async {
        (!pid_alive(leader)).then_some(())
    })
    .await;
    assert!(
        !site.file(&format!("{id}.log")).contains("end"),
        "the program ran to its end"
    );
    // It serves again under a new lease.
    wait_for(
        "the service online again",
        Duration::from_secs(10),
        || async { (site.audit_service().await["state"] == "online").then_some(()) },
    )
    .await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let after = site.task(&id).await;
    assert_eq!(after, task, "a late report changed the task");
    assert_eq!(site.log_rows(&id).await, 1);
    agent.stop_and_expect(0).await;
}

#[tokio::test]
async fn a_server_restart_even_kill_9_does_not_interrupt_a_remote_task() {
    let mut site = Site::start(SiteOptions::default()).await;
    let mut agent = Agent::start(&site, &[]).await;
    agent.connected_line().await;
    let id = site.create("sleep-6", "s").await;
    site.program_pids(&id).await;
    site.kill_server(libc::SIGKILL).await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    site.restart().await;
    let task = site.wait_terminal(&id, Duration::from_secs(20)).await;
    assert_eq!(task["status"], "finished", "{task}");
    assert_eq!(task["errors"], 0);
    // And with SIGTERM: the server stops cleanly, the remote task runs on.
    let id = site.create("sleep-4", "s").await;
    site.program_pids(&id).await;
    site.kill_server(libc::SIGTERM).await;
    site.restart().await;
    let task = site.wait_terminal(&id, Duration::from_secs(20)).await;
    assert_eq!(task["status"], "finished", "{task}");
    assert_eq!(site.log_rows(&id).await, 1);
    agent.stop_and_expect(0).await;
}

#[tokio::test]
async fn sigterm_stops_the_programs_reports_their_tasks_failed_and_exits_0() {
    let site = Site::start(SiteOptions::default()).await;
    let mut agent = Agent::start(&site, &[]).await;
    agent.connected_line().await;
    let a = site.create("sleep-60", "s").await;
    let b = site.create("stubborn", "s").await;
    let (a_pid, _) = site.program_pids(&a).await;
    let (b_pid, b_child) = site.program_pids(&b).await;
    let sent = std::time::Instant::now();
    signal(agent.pid(), libc::SIGTERM);
    let (status, stderr) = agent.wait_exit(Duration::from_secs(15)).await;
    assert_eq!(status, Some(0), "{stderr}");
    assert!(sent.elapsed() < Duration::from_secs(15));
    for pid in [a_pid, b_pid, b_child] {
        assert!(!pid_alive(pid), "process {pid} still runs");
    }
    for id in [&a, &b] {
        let task = site.task(id).await;
        assert_eq!(task["status"], "failed", "{task}");
        assert_eq!(
            site.log_entry(id).await["error_messages"],
            json!(["interrupted: the Audit Service stopped"])
        );
    }
    // It closed its lease: offline at once, not a lease later.
    assert_eq!(site.audit_service().await["state"], "offline");
}

#[tokio::test]
async fn an_https_server_is_trusted_through_ca_and_verified_always() {
    let site = Site::start(SiteOptions {
        tls: true,
        ..SiteOptions::default()
    })
    .await;
    assert!(site.url.starts_with("https://"));
    // Without the CA the certificate is refused, and the agent keeps trying.
    let untrusting = Agent::start_with(&site, &[], false).await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    let (status, stderr) = untrusting.kill_and_output().await;
    assert_eq!(status, None, "it gave up: {stderr}");
    assert!(stderr.to_lowercase().contains("certificate"), "{stderr}");
    let mut agent = Agent::start(&site, &[]).await;
    agent.connected_line().await;
    let id = site.create("sleep-0.1", "s").await;
    let task: Value = site.wait_terminal(&id, Duration::from_secs(10)).await;
    assert_eq!(task["status"], "finished");
    agent.stop_and_expect(0).await;
}

#[tokio::test]
async fn an_unreachable_server_is_retried_until_it_comes() {
    let mut site = Site::start(SiteOptions::default()).await;
    site.kill_server(libc::SIGTERM).await;
    let mut agent = Agent::start(&site, &[]).await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert!(agent.try_connected_line().is_none());
    site.restart().await;
    // Retries are at most 5 s apart.
    tokio::time::timeout(Duration::from_secs(8), agent.connected_line())
        .await
        .expect("the agent connected once the server was back");
    agent.stop_and_expect(0).await;
}
