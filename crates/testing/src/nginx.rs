//! nginx (Debian's package, which `cargo xtask test` installs) as the load
//! balancer in front of test servers. It serves the proxy rules we ship,
//! `deploy/nginx/taskdeck-site-proxy.conf`, included as they are, with the
//! two upstreams that file expects pointing at the given servers.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The shipped proxy rules.
pub fn proxy_rules() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../deploy/nginx/taskdeck-site-proxy.conf")
}

/// The shipped site file (TLS, both upstreams, the rules' `include`).
pub fn site_file() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../deploy/nginx/taskdeck-site.conf")
}

/// The nginx binary: on `PATH`, else Debian's `/usr/sbin/nginx`.
pub fn binary() -> PathBuf {
    let on_path = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|dir| dir.join("nginx"))
            .find(|candidate| candidate.is_file())
    });
    on_path.unwrap_or_else(|| PathBuf::from("/usr/sbin/nginx"))
}

/// A running nginx, stopped (and its folder removed) on drop.
pub struct Nginx {
    child: Child,
    port: u16,
    folder: tempfile::TempDir,
}

impl Nginx {
    /// nginx on a free loopback port in front of `servers` (`host:port`
    /// each, round robin), with the shipped proxy rules. Waits until it
    /// accepts connections; panics with nginx's own words if it cannot
    /// start.
    pub fn start(servers: &[String]) -> Nginx {
        let folder = tempfile::tempdir().expect("a folder for nginx");
        let port = crate::free_port();
        let upstream = |extra: &str| {
            let lines: String = servers
                .iter()
                .map(|server| format!("        server {server} max_fails=1 fail_timeout=2s;\n"))
                .collect();
            format!("{extra}{lines}        keepalive 8;\n")
        };
        let dir = folder.path().display();
        // Workers run as the master's user: as root, root (the test's own
        // folders are root's alone).
        let user = if is_root() { "user root;\n" } else { "" };
        let config = format!(
            "{user}worker_processes 1;\n\
             daemon off;\n\
             pid {dir}/nginx.pid;\n\
             error_log {dir}/error.log warn;\n\
             events {{ worker_connections 512; }}\n\
             http {{\n\
             \x20   access_log off;\n\
             \x20   client_body_temp_path {dir}/body;\n\
             \x20   proxy_temp_path {dir}/proxy;\n\
             \x20   fastcgi_temp_path {dir}/fastcgi;\n\
             \x20   uwsgi_temp_path {dir}/uwsgi;\n\
             \x20   scgi_temp_path {dir}/scgi;\n\
             \x20   upstream taskdeck_site {{\n{site}    }}\n\
             \x20   upstream taskdeck_site_agents {{\n{agents}    }}\n\
             \x20   server {{\n\
             \x20       listen 127.0.0.1:{port};\n\
             \x20       include {rules};\n\
             \x20   }}\n\
             }}\n",
            site = upstream(""),
            agents = upstream("        hash $remote_addr consistent;\n"),
            rules = proxy_rules().display(),
        );
        let config_path = folder.path().join("nginx.conf");
        std::fs::write(&config_path, config).expect("cannot write nginx.conf");
        let child = Command::new(binary())
            .arg("-p")
            .arg(folder.path())
            .arg("-e")
            .arg(folder.path().join("error.log"))
            .arg("-c")
            .arg(&config_path)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| {
                panic!(
                    "cannot start {}: {e} (cargo xtask test installs Debian's nginx)",
                    binary().display()
                )
            });
        let mut nginx = Nginx {
            child,
            port,
            folder,
        };
        nginx.wait_until_ready();
        nginx
    }

    /// `http://127.0.0.1:PORT`, where it listens.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    fn wait_until_ready(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if std::net::TcpStream::connect(("127.0.0.1", self.port)).is_ok() {
                return;
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                let log = std::fs::read_to_string(self.folder.path().join("error.log"))
                    .unwrap_or_default();
                panic!("nginx exited at start ({status}):\n{log}");
            }
            assert!(Instant::now() < deadline, "nginx never listened");
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Nginx {
    fn drop(&mut self) {
        // SIGTERM: the master stops its workers, then itself (a SIGKILL
        // would leave the workers behind).
        if let Ok(pid) = i32::try_from(self.child.id()) {
            // SAFETY: kill(2) on our own child's pid; no memory involved.
            unsafe {
                libc::kill(pid, libc::SIGTERM);
            }
        }
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Checks a configuration with `nginx -t`: `Err` with nginx's words.
pub fn check(main_config: &Path, prefix: &Path) -> Result<(), String> {
    let output = Command::new(binary())
        .arg("-t")
        .arg("-p")
        .arg(prefix)
        .arg("-e")
        .arg(prefix.join("error.log"))
        .arg("-c")
        .arg(main_config)
        .output()
        .map_err(|e| format!("cannot run {}: {e}", binary().display()))?;
    if output.status.success() {
        Ok(())
    } else {
        Err(String::from_utf8_lossy(&output.stderr).into_owned())
    }
}

fn is_root() -> bool {
    // SAFETY: geteuid(2) has no preconditions.
    unsafe { libc::geteuid() == 0 }
}
