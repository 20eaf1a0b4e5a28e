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

#[test]
fn the_postgres_sample_is_valid_and_keeps_nothing_on_the_host() {
    let config: taskdeck_site::Config =
        toml::from_str(&deploy("postgres/site.toml")).expect("the sample parses");
    config.validate().expect("the sample is valid");
    assert!(config.data_dir.is_none(), "the state is in PostgreSQL");
    assert!(matches!(
        config.store(),

        Ok(taskdeck_site::config::Store::Postgres(url)) if url.starts_with("postgres://")
    ));
    assert_eq!(config.mode, taskdeck_site::config::Mode::Production);
}

#[test]
fn the_template_unit_listens_on_its_instance_port_and_reads_the_file_as_a_credential() {
    let unit = deploy("postgres/taskdeck-site@.service");
    for line in [
        "LoadCredential=site.toml:/etc/taskdeck-site/site.toml",
        "ExecStart=/usr/local/bin/taskdeck-site serve --config %d/site.toml --listen 127.0.0.1:%i",
        "DynamicUser=yes",
        "ProtectSystem=strict",
        "NoNewPrivileges=yes",
    ] {
        assert!(unit.lines().any(|l| l.trim() == line), "missing {line}");
    }
    assert!(
        !unit.lines().any(|l| l.starts_with("StateDirectory=")),
        "nothing is kept on the host"
    );
    // The ports nginx's upstream lists are the ones the sample enables.
    let site = deploy("nginx/taskdeck-site.conf");
    for port in ["8441", "8442"] {
        assert!(site.contains(&format!("server 127.0.0.1:{port}")), "{port}");
        assert!(deploy("postgres/site.toml").contains(&format!("taskdeck-site@{port}")));
    }
}

/// `nginx -t` on the shipped site file, as `sites-enabled` would hold it:
/// inside Debian's `http` block, with its `include` of the proxy rules and
/// its certificate paths pointing at a certificate made here.
#[test]
fn nginx_accepts_the_shipped_site_file() {
    let dir = tempfile::tempdir().unwrap();
    let (cert, key) = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
    let made = std::process::Command::new("openssl")
        .args([
            "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
        ])
        .args(["-subj", "/CN=site.example.com", "-keyout"])
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .output()
        .expect("openssl is installed");
    assert!(made.status.success(), "{made:?}");
    let site = deploy("nginx/taskdeck-site.conf")
        .replace(
            "/etc/nginx/snippets/taskdeck-site-proxy.conf",
            &taskdeck_testing::nginx::proxy_rules().display().to_string(),
        )
        .replace(
            "/etc/ssl/taskdeck/fullchain.pem",
            &cert.display().to_string(),
        )
        .replace("/etc/ssl/taskdeck/privkey.pem", &key.display().to_string());
    assert!(
        !site
            .lines()
            .any(|l| !l.trim_start().starts_with('#') && l.contains("/etc/")),
        "every path was replaced"
    );
    let site_path = dir.path().join("taskdeck-site");
    std::fs::write(&site_path, site).unwrap();
    let main = format!(
        "pid {dir}/nginx.pid;\nevents {{}}\nhttp {{\n    include {site};\n}}\n",
        dir = dir.path().display(),
        site = site_path.display()
    );
    let main_path = dir.path().join("nginx.conf");
    std::fs::write(&main_path, main).unwrap();
    taskdeck_testing::nginx::check(&main_path, dir.path()).unwrap_or_else(|e| panic!("{e}"));

    // And a file nginx must refuse is refused: the check can fail.
    std::fs::write(&site_path, "upstream taskdeck_site { }\n").unwrap();
    assert!(taskdeck_testing::nginx::check(&main_path, dir.path()).is_err());
}
