//! The contract's JSON examples parse into the wire types and re-emit unchanged,
//! and values the contract does not name are refused.

use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::{json, Value};
use site_api::*;

/// Parses `fixture` as `T`, re-emits it and checks nothing was lost or added.
fn check_round_trip<T: DeserializeOwned + Serialize>(fixture: &str) -> T {
    let path = format!("{}/tests/contract/{fixture}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap();
    let original: Value = serde_json::from_str(&text).unwrap();
    let typed: T =
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{fixture} does not parse: {e}"));
    let emitted = serde_json::to_value(&typed).unwrap();
    assert_eq!(emitted, original, "{fixture} changed on the way through");
    typed
}

#[test]
fn task_example_round_trips() {
    let task: Task = check_round_trip("task.json");
    assert_eq!(task.id, TaskId::new(TaskKind::Scan, 1042));
    assert_eq!(task.status, TaskStatus::Running);
    assert_eq!(task.initiator, Initiator::User("alice@example.com".into()));
    assert_eq!(
        task.progress,
        Some(Progress {
            done: 12,
            total: 40
        })
    );
    assert_eq!(task.start_date.to_rfc3339(), "2026-11-28T09:14:03+00:00");
}

#[test]
fn every_contract_object_round_trips() {
    let page: ActiveTasksPage = check_round_trip("active_tasks_page.json");
    assert_eq!(page.tasks[0].initiator, Initiator::Schedule);
    assert_eq!(page.tasks[0].target.target_type, TargetType::CloudResource);
    let entry: LogEntry = check_round_trip("log_entry.json");
    assert!(entry.task.is_effectively_failed());
    assert_eq!(entry.error_messages.len() as u64, entry.task.errors);
    let _: LogPage = check_round_trip("log_page.json");
    let request: CancelRequest = check_round_trip("cancel_request.json");
    assert_eq!(request.tasks[1], TaskId::new(TaskKind::Audit, 7));
    let response: CancelResponse = check_round_trip("cancel_response.json");
    assert_eq!(response.results[2].outcome, CancelOutcome::NotFound);
    let error: ErrorBody = check_round_trip("error_body.json");
    assert_eq!(error.error.code.http_status(), 429);
    let _: OAuthError = check_round_trip("oauth_error.json");
    let _: TokenResponse = check_round_trip("token_response.json");
    let me: Me = check_round_trip("me.json");
    assert_eq!(me.sites[1].role, SiteRole::SiteUser);
    let _: SitesResponse = check_round_trip("sites.json");
    let create: CreateTaskRequest = check_round_trip("create_task.json");
    assert_eq!(create.simulate.unwrap().outcome, SimulatedOutcome::Failed);
    let services: AuditServicesResponse = check_round_trip("audit_services.json");
    assert_eq!(services.audit_services[2].runner, RunnerKind::Remote);
    let facets: FacetsResponse = check_round_trip("facets.json");
    assert_eq!(facets.field, FacetField::Initiator);
    let batch: CreateTasksRequest = check_round_trip("create_tasks.json");
    assert_eq!(batch.tasks[1].kind, TaskKind::Audit);
    let signals: SignalsResponse = check_round_trip("signals.json");
    assert!(matches!(signals.signals[1], Signal::TaskRunningLong { .. }));
    let _: Stats = check_round_trip("stats.json");
    let _: SchedulesResponse = check_round_trip("schedules.json");
    let _: Health = check_round_trip("health.json");
}

fn task_with(field: &str, value: Value) -> Value {
    let text = std::fs::read_to_string(format!(
        "{}/tests/contract/task.json",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap();
    let mut task: Value = serde_json::from_str(&text).unwrap();
    task[field] = value;
    task
}

#[test]
fn unknown_enum_values_are_rejected() {
    for (field, value) in [
        ("status", json!("paused")),
        ("status", json!("Running")),
        ("kind", json!("inventory")),
        ("target", json!({"type": "printer", "name": "P-1"})),
        ("id", json!("job-3")),
        ("initiator", json!("")),
        ("number", json!(-1)),
    ] {
        let bad = task_with(field, value.clone());
        assert!(
            serde_json::from_value::<Task>(bad).is_err(),
            "{field} = {value} was accepted"
        );
    }
    assert!(serde_json::from_value::<CancelResult>(
        json!({"task": "scan-1", "outcome": "maybe", "status": null})
    )
    .is_err());
    assert!(
        serde_json::from_value::<Signal>(json!({"kind": "disk_full", "message": "x"})).is_err()
    );
    assert!(serde_json::from_value::<ErrorBody>(
        json!({"error": {"code": "teapot", "message": "x"}})
    )
    .is_err());
    assert!(serde_json::from_value::<SiteMembership>(
        json!({"id": "hq", "name": "HQ", "role": "owner"})
    )
    .is_err());
}

#[test]
fn request_bodies_refuse_unknown_fields() {
    assert!(serde_json::from_value::<CreateTaskRequest>(json!({
        "kind": "scan", "target": {"type": "device", "name": "WS-1"}, "scope": "x", "priority": 1
    }))
    .is_err());
    assert!(serde_json::from_value::<CancelRequest>(json!({"tasks": [], "all": true})).is_err());
}

#[test]
fn a_revision_1_0_audit_service_reads_as_simulated_without_an_agent() {
    let service: AuditService = serde_json::from_value(json!({
        "id": "as-1", "name": "AS-1", "slots": 4, "busy": 0, "state": "online",
        "last_heartbeat": null
    }))
    .unwrap();
    assert_eq!(service.runner, RunnerKind::Simulated);
    assert_eq!((service.address, service.version), (None, None));
}
