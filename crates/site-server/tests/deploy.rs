//! The deployment files in `deploy/` stay true: the sample configuration is
//! one the server accepts, and the systemd unit runs it hardened.

use std::path::Path;

fn deploy(name: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../deploy")
        .join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn the_sample_configuration_is_valid() {
    let config: taskdeck_site::Config =
        toml::from_str(&deploy("site.toml")).expect("the sample parses");
    config.validate().expect("the sample is valid");
    assert_eq!(
        config.data_dir.as_deref(),
        Some(Path::new("/var/lib/taskdeck-site"))
    );
    assert_eq!(config.sites.len(), 1);
    assert_eq!(config.users.len(), 2);
    assert!(
        config.app_registrations.is_empty(),
        "made with the CLI, not shipped"
    );
}

#[test]
fn the_unit_is_hardened_and_uses_the_sample_paths() {
    let unit = deploy("taskdeck-site.service");
    for line in [
        "ExecStart=/usr/local/bin/taskdeck-site serve --config /etc/taskdeck-site/site.toml",
        "DynamicUser=yes",
        "ProtectSystem=strict",
        "StateDirectory=taskdeck-site",
        "NoNewPrivileges=yes",
        "ProtectHome=yes",
    ] {
        assert!(unit.lines().any(|l| l.trim() == line), "missing {line}");
    }
}
