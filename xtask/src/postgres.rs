//! A throwaway PostgreSQL cluster for the tests: `initdb` into a temporary
//! folder as an unprivileged user, listening on loopback only on a free
//! port, stopped and deleted when dropped. No system service is used and
//! nothing is left behind.

use std::net::{Ipv4Addr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The database role the tests connect as (trusted on loopback).
const ROLE: &str = "taskdeck";

/// A running cluster.
pub struct Cluster {
    dir: PathBuf,
    port: u16,
    server: Child,
    bin: PathBuf,
    user: Option<String>,
}

impl Cluster {
    /// `postgres://taskdeck@127.0.0.1:PORT`, without a database: tests
    /// append `/DB`.
    pub fn url(&self) -> String {
        format!("postgres://{ROLE}@127.0.0.1:{}", self.port)
    }

    /// Starts a new cluster. `fsync` off: a test cluster needs no
    /// durability, and the tests run much faster without it.
    pub fn start() -> Result<Cluster, String> {
        let bin = binaries()?;
        let dir = std::env::temp_dir().join(format!("taskdeck-pg-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        let user = unprivileged_user();
        if let Some(user) = &user {
            crate::run(Command::new("chown").arg(user).arg(&dir))?;
        }
        let data = dir.join("data");
        crate::run(
            as_user(&user, &bin.join("initdb"))
                .arg("-D")
                .arg(&data)
                .args(["-U", ROLE, "--auth=trust", "-E", "UTF8", "--locale=C.UTF-8"])
                .stdout(Stdio::null()),
        )?;
        let port = free_port()?;
        let log = std::fs::File::create(dir.join("server.log")).map_err(|e| e.to_string())?;
        if let Some(user) = &user {
            crate::run(Command::new("chown").arg(user).arg(dir.join("server.log")))?;
        }
        let server = as_user(&user, &bin.join("postgres"))
            .arg("-D")
            .arg(&data)
            .args(["-p", &port.to_string()])
            .args(["-c", "listen_addresses=127.0.0.1"])
            .arg("-c")
            .arg(format!("unix_socket_directories={}", dir.display()))
            .args(["-c", "max_connections=400"])
            .args(["-c", "fsync=off", "-c", "synchronous_commit=off"])
            .args(["-c", "full_page_writes=off"])
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .map_err(|e| format!("cannot start postgres: {e}"))?;
        let cluster = Cluster {
            dir,
            port,
            server,
            bin,
            user,
        };
        cluster.wait_ready()?;
        eprintln!("xtask: PostgreSQL test cluster at {}", cluster.url());
        Ok(cluster)
    }

    fn wait_ready(&self) -> Result<(), String> {
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            if TcpStream::connect((Ipv4Addr::LOCALHOST, self.port)).is_ok() {
                // Accepting connections is not yet accepting logins.
                std::thread::sleep(Duration::from_millis(300));
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let log = std::fs::read_to_string(self.dir.join("server.log")).unwrap_or_default();
        Err(format!("PostgreSQL did not start within 30 s:\n{log}"))
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        // The child may be `runuser`, not the server: pg_ctl stops the
        // server itself (a fast shutdown) and waits for it.
        let _ = as_user(&self.user, &self.bin.join("pg_ctl"))
            .arg("stop")
            .arg("-D")
            .arg(self.dir.join("data"))
            .args(["-m", "fast", "-w", "-t", "20"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.server.try_wait() {
                break;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let _ = self.server.kill();
        let _ = self.server.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// The newest installed PostgreSQL's `bin` folder (Debian keeps each
/// version under /usr/lib/postgresql/N/bin).
fn binaries() -> Result<PathBuf, String> {
    let root = Path::new("/usr/lib/postgresql");
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir(root)
        .map_err(|e| format!("PostgreSQL is not installed ({}: {e})", root.display()))?
        .filter_map(|entry| {
            let entry = entry.ok()?;
            let version = entry.file_name().to_str()?.parse().ok()?;
            let bin = entry.path().join("bin");
            bin.join("initdb").exists().then_some((version, bin))
        })
        .collect();
    versions.sort();
    match versions.pop() {
        Some((version, bin)) if version >= 15 => Ok(bin),
        Some((version, _)) => Err(format!("PostgreSQL {version} is too old: 15 or later")),
        None => Err("no PostgreSQL server under /usr/lib/postgresql".to_owned()),
    }
}

/// As root, the cluster runs as `postgres` (Debian's package makes it) or
/// `nobody`: PostgreSQL refuses to run as root.
fn unprivileged_user() -> Option<String> {
    if !crate::setup::is_root() {
        return None;
    }
    let exists = |user: &str| {
        Command::new("id")
            .arg("-u")
            .arg(user)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    };
    ["postgres", "nobody"]
        .into_iter()
        .find(|user| exists(user))
        .map(str::to_owned)
}

fn as_user(user: &Option<String>, program: &Path) -> Command {
    match user {
        Some(user) => {
            let mut command = Command::new("runuser");
            command.args(["-u", user, "--"]).arg(program);
            // Somewhere the user may be: not root's working folder.
            command.current_dir(std::env::temp_dir());
            command
        }
        None => Command::new(program),
    }
}

fn free_port() -> Result<u16, String> {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).map_err(|e| e.to_string())?;
    listener
        .local_addr()
        .map(|addr| addr.port())
        .map_err(|e| e.to_string())
}
