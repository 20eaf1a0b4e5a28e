//! The agent's deployment files in `deploy/` stay true: the systemd unit
//! is hardened, gets the secret as a credential, and passes every setting
//! of the sample environment file to the agent.

use std::path::Path;

fn deploy(name: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../deploy")
        .join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn the_unit_is_hardened_and_reads_the_secret_as_a_credential() {
    let unit = deploy("taskdeck-audit-service.service");
    for line in [
        "DynamicUser=yes",
        "ProtectSystem=strict",
        "ProtectHome=yes",
        "NoNewPrivileges=yes",
        "PrivateTmp=yes",
        "CapabilityBoundingSet=",
        "LoadCredential=agent-secret:/etc/taskdeck/audit-service.secret",
        "EnvironmentFile=/etc/taskdeck/audit-service.conf",
        "KillMode=mixed",
    ] {
        assert!(unit.lines().any(|l| l.trim() == line), "missing {line}");
    }
    let exec = unit
        .lines()
        .find_map(|l| l.strip_prefix("ExecStart="))
        .expect("an ExecStart");
    assert!(exec.starts_with("/usr/bin/taskdeck-audit-service "));
    assert!(exec.contains("--secret-file %d/agent-secret"));
    // The stop must outlast the agent's own: 5 s grace and its reports.
    let stop: u64 = unit
        .lines()
        .find_map(|l| l.strip_prefix("TimeoutStopSec="))
        .and_then(|v| v.parse().ok())
        .expect("a TimeoutStopSec");
    assert!(stop >= 15);
}

#[test]
fn every_setting_of_the_sample_reaches_the_agent() {
    let unit = deploy("taskdeck-audit-service.service");
    let exec = unit
        .lines()
        .find_map(|l| l.strip_prefix("ExecStart="))
        .unwrap();
    let sample = deploy("audit-service.conf");
    let settings: Vec<&str> = sample
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| l.split_once('=').expect("NAME=value").0)
        .collect();
    assert_eq!(
        settings,
        [
            "TASKDECK_SERVER",
            "TASKDECK_SITE",
            "TASKDECK_SERVICE",
            "TASKDECK_AGENT_OPTIONS",
            "TASKDECK_PROGRAM"
        ]
    );
    for name in settings {
        assert!(
            exec.contains(&format!("${{{name}}}")) || exec.contains(&format!("${name}")),
            "{name} is not passed"
        );
    }
    // The program's words are split: it comes last, unbraced, after `--`.
    assert!(exec.ends_with("-- $TASKDECK_PROGRAM"));
}
