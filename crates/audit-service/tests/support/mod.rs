//! A real Site server process and real agent processes for the tests.

#![allow(dead_code)]

use std::future::Future;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{json, Value};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, BufReader};
use tokio::process::{Child, Command};

const ADMIN_ID: &str = "01234567890123456789";
const ADMIN_SECRET: &str = "remote-tests-admin-secret";
/// The agent secret of `as-branch`.
pub const AGENT_SECRET: &str = "remote-tests-agent-secret";

/// The test program: the task's target name says what it does.
const TASK_SCRIPT: &str = r#"#!/bin/bash
id="$1"; kind="$2"; target="$3"; scope="$4"; target_type="$5"
dir="$(dirname "$0")"
printf '%s\n' "$kind" "$target" "$scope" "$target_type" > "$dir/$id.args"
echo "start $(date +%s%N)" >> "$dir/$id.log"
case "$target" in
  stubborn)
    trap '' TERM
    sleep 300 &
    echo "$$ $!" > "$dir/$id.pid.tmp" && mv "$dir/$id.pid.tmp" "$dir/$id.pid"
    wait
    ;;
  *)
    echo "$$ $$" > "$dir/$id.pid.tmp" && mv "$dir/$id.pid.tmp" "$dir/$id.pid"
    case "$target" in
      sleep-*) sleep "${target#sleep-}" ;;
      progress) echo "PROGRESS 1/4"; echo "ERROR disk C: is full"; echo "PROGRESS 4/4" ;;
      fail) echo "cannot reach $target" >&2; exit 3 ;;
    esac
    ;;
esac
echo "end $(date +%s%N)" >> "$dir/$id.log"
"#;

/// How the test Site is set up.
pub struct SiteOptions {
    /// Slots of `as-branch`.
    pub slots: u32,
    /// Serve HTTPS with a certificate of a test CA.
    pub tls: bool,
    /// Store the Site in this PostgreSQL database instead of SQLite under
    /// the server's folder: servers given the same URL serve one Site.
    pub database_url: Option<String>,
    /// Run the server with its wall clock moved by this much, as
    /// libfaketime writes it (`+600`: ten minutes ahead); its monotonic
    /// clock is left alone.
    pub clock_offset: Option<&'static str>,
}

impl Default for SiteOptions {
    fn default() -> SiteOptions {
        SiteOptions {
            slots: 2,
            tls: false,
            database_url: None,
            clock_offset: None,
        }
    }
}

/// A running `taskdeck-site`: Site `hq` with the remote Audit Service
/// `as-branch`, and Site `lab` with an in-process one, `as-local`.
pub struct Site {
    pub dir: tempfile::TempDir,
    pub url: String,
    server: Option<Child>,
    http: reqwest::Client,
    token: String,
    clock_offset: Option<&'static str>,
}

/// The server binary, built beside this package's own (a workspace
/// `cargo test` builds it for the server's own tests).
fn site_binary() -> PathBuf {
    let agent = Path::new(env!("CARGO_BIN_EXE_taskdeck-audit-service"));
    let site = agent.with_file_name(format!("taskdeck-site{}", std::env::consts::EXE_SUFFIX));
    assert!(
        site.exists(),
        "{} is missing: run the tests with `cargo test --workspace` (or `cargo build -p taskdeck-site` first)",
        site.display()
    );
    site
}

/// libfaketime, from Debian's `faketime` package (`cargo xtask test`
/// installs it).
fn libfaketime() -> PathBuf {
    let found = std::fs::read_dir("/usr/lib")
        .into_iter()
        .flatten()
        .flatten()
        .map(|entry| entry.path().join("faketime").join("libfaketime.so.1"))
        .find(|path| path.exists());
    found
        .expect("libfaketime is missing: install Debian's faketime package (cargo xtask test does)")
}

impl Site {
    pub async fn start(options: SiteOptions) -> Site {
        let dir = tempfile::tempdir().unwrap();
        let script = dir.path().join("task.sh");
        std::fs::write(&script, TASK_SCRIPT).unwrap();
        std::fs::set_permissions(&script, std::os::unix::fs::PermissionsExt::from_mode(0o755))
            .unwrap();
        let tls = if options.tls {
            make_test_ca(dir.path());
            "[tls]\ncert = \"cert.pem\"\nkey = \"key.pem\"\n"
        } else {
            ""
        };
        let store = match &options.database_url {
            Some(url) => format!("database_url = {url:?}"),
            None => "data_dir = \"data\"".to_owned(),
        };
        let config = format!(
            r#"listen = "127.0.0.1:0"
{store}
mode = "test"
rate_limit_per_minute = 100000
{tls}
[[sites]]
id = "hq"
name = "Headquarters"

[[sites.audit_services]]
id = "as-branch"
name = "AS-Branch"
slots = {slots}
runner = "remote"
agent_secret_hash = "{agent_hash}"
lease = "5s"

[[sites]]
id = "lab"
name = "Lab"

[[sites.audit_services]]
id = "as-local"
name = "AS-Local"
slots = 1
runner = "command"
command = ["/bin/false"]

[[users]]
email = "alice@example.com"
display_name = "Alice"
roles = {{ hq = "site_administrator" }}

[[app_registrations]]
client_id = "{ADMIN_ID}"
client_secret = "{ADMIN_SECRET}"
owner = "alice@example.com"
name = "Tests"
"#,
            slots = options.slots,
            agent_hash = taskdeck_site::hash_secret(AGENT_SECRET).unwrap(),
        );
        std::fs::write(dir.path().join("site.toml"), config).unwrap();
        std::fs::write(dir.path().join("agent-secret"), format!("{AGENT_SECRET}\n")).unwrap();
        std::fs::write(dir.path().join("wrong-secret"), "not-the-secret\n").unwrap();
        let mut http = reqwest::Client::builder();
        if options.tls {
            let pem = std::fs::read(dir.path().join("ca.pem")).unwrap();
            http = http.tls_certs_merge([reqwest::Certificate::from_pem(&pem).unwrap()]);
        }
        let mut site = Site {
            dir,
            url: String::new(),
            server: None,
            http: http.build().unwrap(),
            token: String::new(),
            clock_offset: options.clock_offset,
        };
        site.restart().await;
        // Later starts keep the port, so agents find the server again.
        let port = site.url.rsplit(':').next().unwrap().to_owned();
        let path = site.dir.path().join("site.toml");
        let text = std::fs::read_to_string(&path).unwrap();
        std::fs::write(
            &path,
            text.replace("127.0.0.1:0", &format!("127.0.0.1:{port}")),
        )
        .unwrap();
        site
    }

    /// Starts the server (again) on the configuration as it is now.
    pub async fn restart(&mut self) {
        let mut command = Command::new(site_binary());
        if let Some(offset) = self.clock_offset {
            // Preloaded into the server itself (not through the `faketime`
            // wrapper, which would stand between the test and the server's
            // signals).
            command
                .env("LD_PRELOAD", libfaketime())
                .env("FAKETIME", offset)
                .env("FAKETIME_DONT_FAKE_MONOTONIC", "1");
        }
        let mut child = command
            .arg("serve")
            .arg("--config")
            .arg(self.dir.path().join("site.toml"))
            .current_dir(self.dir.path())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let line = tokio::time::timeout(
            Duration::from_secs(20),
            BufReader::new(stdout).lines().next_line(),
        )
        .await
        .expect("the server started in time")
        .unwrap()
        .expect("the server printed its address");
        self.url = line.strip_prefix("listening on ").expect(&line).to_owned();
        self.server = Some(child);
        let token: Value = self
            .http
            .post(format!("{}/api/oauth/token", self.url))
            .form(&[
                ("grant_type", "client_credentials"),
                ("client_id", ADMIN_ID),
                ("client_secret", ADMIN_SECRET),
            ])
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        self.token = token["access_token"].as_str().unwrap().to_owned();
    }

    /// How far the server's clock is ahead of this process's (s), from
    /// the `Date` header of its answer.
    pub async fn clock_offset_seen(&self) -> i64 {
        let response = self
            .http
            .get(format!("{}/healthz", self.url))
            .send()
            .await
            .unwrap();
        let date = response.headers()["date"].to_str().unwrap().to_owned();
        let at = chrono::DateTime::parse_from_rfc2822(&date).unwrap();
        at.timestamp() - chrono::Utc::now().timestamp()
    }

    /// Sends `signal` to the server and waits for it to end.
    pub async fn kill_server(&mut self, sig: i32) {
        let mut child = self.server.take().expect("the server runs");
        signal(child.id().unwrap() as i32, sig);
        tokio::time::timeout(Duration::from_secs(15), child.wait())
            .await
            .expect("the server stopped in time")
            .unwrap();
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// A file the test program wrote, or "" if it has not.
    pub fn file(&self, name: &str) -> String {
        std::fs::read_to_string(self.path(name)).unwrap_or_default()
    }

    async fn get(&self, path: &str) -> Value {
        let response = self
            .http
            .get(format!("{}/api/v1/sites/hq{path}", self.url))
            .bearer_auth(&self.token)
            .send()
            .await
            .unwrap();
        assert!(
            response.status().is_success(),
            "GET {path}: {}",
            response.status()
        );
        response.json().await.unwrap()
    }

    async fn post(&self, path: &str, body: Value) -> Value {
        let response = self
            .http
            .post(format!("{}/api/v1/sites/hq{path}", self.url))
            .bearer_auth(&self.token)
            .json(&body)
            .send()
            .await
            .unwrap();
        let status = response.status();
        let body: Value = response.json().await.unwrap();
        assert!(status.is_success(), "POST {path}: {status} {body}");
        body
    }

    /// `as-branch` as `GET …/audit-services` reports it.
    pub async fn audit_service(&self) -> Value {
        let all = self.get("/audit-services").await;
        all["audit_services"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["id"] == "as-branch")
            .cloned()
            .unwrap()
    }

    pub async fn signals(&self) -> Vec<Value> {
        self.get("/signals").await["signals"]
            .as_array()
            .unwrap()
            .clone()
    }

    /// Queues a scan of device `target`: its id.
    pub async fn create(&self, target: &str, scope: &str) -> String {
        let task = self
            .post(
                "/tasks",
                json!({"kind": "scan", "target": {"type": "device", "name": target}, "scope": scope}),
            )
            .await;
        task["id"].as_str().unwrap().to_owned()
    }

    /// Queues `n` scans of `target` in one batch.
    pub async fn create_many(&self, target: &str, n: usize) -> Vec<String> {
        let tasks: Vec<Value> = (0..n)
            .map(|_| json!({"kind": "scan", "target": {"type": "device", "name": target}, "scope": "s"}))
            .collect();
        let created = self.post("/tasks/batch", json!({ "tasks": tasks })).await;
        created["tasks"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["id"].as_str().unwrap().to_owned())
            .collect()
    }

    pub async fn task(&self, id: &str) -> Value {
        self.get(&format!("/tasks/{id}")).await
    }

    pub async fn cancel(&self, id: &str) -> Value {
        let answer = self
            .post("/active-tasks/cancel", json!({ "tasks": [id] }))
            .await;
        answer["results"][0].clone()
    }

    /// Waits until the task's status is one of `statuses`.
    pub async fn wait_status(&self, id: &str, statuses: &[&str], within: Duration) -> Value {
        wait_for(&format!("{id} {statuses:?}"), within, || async {
            let task = self.task(id).await;
            statuses
                .iter()
                .any(|s| task["status"] == *s)
                .then_some(task)
        })
        .await
    }

    pub async fn wait_terminal(&self, id: &str, within: Duration) -> Value {
        self.wait_status(id, &["finished", "failed", "cancelled"], within)
            .await
    }

    /// The task's row in the Scan log (with its error messages), once it ended.
    pub async fn log_entry(&self, id: &str) -> Value {
        let log = self.get("/scan-log?limit=500").await;
        log["entries"]
            .as_array()
            .unwrap()
            .iter()
            .find(|row| row["id"] == id)
            .cloned()
            .unwrap_or_else(|| panic!("{id} is not in the Scan log"))
    }

    /// The task's rows in the Scan log.
    pub async fn log_rows(&self, id: &str) -> usize {
        let log = self.get("/scan-log?limit=500").await;
        log["entries"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|row| row["id"] == id)
            .count()
    }

    /// The program's process group leader and its child (the same for most
    /// targets), once the program has started.
    pub async fn program_pids(&self, id: &str) -> (i32, i32) {
        let name = format!("{id}.pid");
        wait_for(
            &format!("{id}'s program"),
            Duration::from_secs(10),
            || async {
                let text = self.file(&name);
                let mut pids = text.split_whitespace().map(|p| p.parse::<i32>().unwrap());
                Some((pids.next()?, pids.next()?))
            },
        )
        .await
    }

    /// The most of `ids` whose programs ran at the same moment.
    pub fn most_at_once(&self, ids: &[String]) -> usize {
        let mut moments: Vec<(u128, i32)> = Vec::new();
        for id in ids {
            for line in self.file(&format!("{id}.log")).lines() {
                let (what, at) = line.split_once(' ').unwrap();
                let at: u128 = at.parse().unwrap();
                moments.push((at, if what == "start" { 1 } else { -1 }));
            }
        }
        // At the same instant an end comes before a start.
        moments.sort();
        let (mut now, mut most) = (0, 0);
        for (_, step) in moments {
            now += step;
            most = most.max(now);
        }
        most as usize
    }
}

/// A running agent, its standard output read line by line and its
/// standard error kept.
pub struct Agent {
    child: Child,
    lines: tokio::sync::mpsc::UnboundedReceiver<String>,
    stderr: Arc<Mutex<String>>,
}

impl Agent {
    /// The agent on `as-branch`, trusting the test CA; `args` replace the
    /// defaults (`--secret wrong` uses a wrong secret file).
    pub async fn start(site: &Site, args: &[&str]) -> Agent {
        Agent::start_with(site, args, true).await
    }

    pub async fn start_with(site: &Site, args: &[&str], trust_ca: bool) -> Agent {
        let mut options = vec![
            ("--server", site.url.clone()),
            ("--site", "hq".to_owned()),
            ("--service", "as-branch".to_owned()),
            (
                "--secret-file",
                site.path("agent-secret").display().to_string(),
            ),
        ];
        for pair in args.chunks(2) {
            let (name, value) = (pair[0], pair[1].to_owned());
            let (name, value) = match name {
                "--secret" => (
                    "--secret-file",
                    site.path("wrong-secret").display().to_string(),
                ),
                _ => (name, value),
            };
            match options.iter_mut().find(|(n, _)| *n == name) {
                Some(option) => option.1 = value,
                None => options.push((name, value)),
            }
        }
        if trust_ca && site.url.starts_with("https://") {
            options.push(("--ca", site.path("ca.pem").display().to_string()));
        }
        let mut command = Command::new(env!("CARGO_BIN_EXE_taskdeck-audit-service"));
        for (name, value) in &options {
            command.arg(name).arg(value);
        }
        let script = site.path("task.sh");
        command
            .arg("--")
            .arg(script)
            .args(["{id}", "{kind}", "{target}", "{scope}", "{target_type}"])
            .env("RUST_LOG", "info")
            .env_remove("TASKDECK_AGENT_SECRET")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        let mut child = command.spawn().unwrap();
        let (sender, lines) = tokio::sync::mpsc::unbounded_channel();
        let stdout = child.stdout.take().unwrap();
        tokio::spawn(async move {
            let mut stdout = BufReader::new(stdout).lines();
            while let Ok(Some(line)) = stdout.next_line().await {
                let _ = sender.send(line);
            }
        });
        let stderr = Arc::new(Mutex::new(String::new()));
        let mut pipe = child.stderr.take().unwrap();
        let kept = stderr.clone();
        tokio::spawn(async move {
            let mut buffer = [0u8; 4096];
            while let Ok(n) = pipe.read(&mut buffer).await {
                if n == 0 {
                    break;
                }
                kept.lock()
                    .unwrap()
                    .push_str(&String::from_utf8_lossy(&buffer[..n]));
            }
        });
        Agent {
            child,
            lines,
            stderr,
        }
    }

    pub fn pid(&self) -> i32 {
        self.child.id().expect("the agent runs") as i32
    }

    pub fn stderr(&self) -> String {
        self.stderr.lock().unwrap().clone()
    }

    /// The `connected to …` line, waited for.
    pub async fn connected_line(&mut self) -> String {
        match tokio::time::timeout(Duration::from_secs(15), self.lines.recv()).await {
            Ok(Some(line)) => line,
            _ => panic!("the agent did not connect; its log:\n{}", self.stderr()),
        }
    }

    pub fn try_connected_line(&mut self) -> Option<String> {
        self.lines.try_recv().ok()
    }

    /// Waits for the agent to exit: its status and standard error.
    pub async fn wait_exit(mut self, within: Duration) -> (Option<i32>, String) {
        let status = match tokio::time::timeout(within, self.child.wait()).await {
            Ok(status) => status.unwrap().code(),
            Err(_) => panic!(
                "the agent did not exit in time; its log:\n{}",
                self.stderr()
            ),
        };
        // Let the reader take the last of standard error.
        tokio::time::sleep(Duration::from_millis(100)).await;
        (status, self.stderr())
    }

    /// SIGTERM, and the exit status it must end with.
    pub async fn stop_and_expect(self, code: i32) {
        signal(self.pid(), libc::SIGTERM);
        let (status, stderr) = self.wait_exit(Duration::from_secs(15)).await;
        assert_eq!(status, Some(code), "{stderr}");
    }

    /// Kills it: its exit status if it had exited by itself first.
    pub async fn kill_and_output(mut self) -> (Option<i32>, String) {
        let exited = self.child.try_wait().unwrap().and_then(|s| s.code());
        let _ = self.child.kill().await;
        tokio::time::sleep(Duration::from_millis(100)).await;
        (exited, self.stderr())
    }
}

/// Sends `sig` to process `pid` (a negative pid: its group).
pub fn signal(pid: i32, sig: i32) {
    // SAFETY: kill has no memory effects.
    unsafe {
        libc::kill(pid, sig);
    }
}

/// Whether process `pid` still exists (a zombie counts as gone).
pub fn pid_alive(pid: i32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => !stat
            .rsplit_once(')')
            .is_some_and(|(_, rest)| rest.trim_start().starts_with('Z')),
        Err(_) => false,
    }
}

/// Polls `check` every 50 ms until it gives a value; panics after `within`.
pub async fn wait_for<T, F, Fut>(what: &str, within: Duration, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = tokio::time::Instant::now() + within;
    loop {
        if let Some(value) = check().await {
            return value;
        }
        if tokio::time::Instant::now() >= deadline {
            panic!("timed out after {within:?} waiting for {what}");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A test CA (`ca.pem`) and a certificate for 127.0.0.1 it signed
/// (`cert.pem`, `key.pem`), made with openssl.
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
    openssl(&[
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-days",
        "1",
        "-subj",
        "/CN=Taskdeck Agent Test CA",
        "-keyout",
        "ca.key",
        "-out",
        "ca.pem",
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
