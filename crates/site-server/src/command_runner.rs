//! The `command` runner: one program run per task, with `{kind}`,
//! `{target}`, `{target_type}`, `{scope}` and `{id}` filled in.
//!
//! Exit 0 is `finished`; any other exit, a crash or the timeout is `failed`
//! with one more error (the tail of standard error, or "timed out"). A
//! standard-output line `PROGRESS <done>/<total>` updates the progress; a
//! line beginning `ERROR ` adds an error with its text. On cancel the whole
//! process group gets SIGTERM, then SIGKILL after a grace period; on
//! timeout, SIGKILL at once.

use std::future::Future;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use site_api::{Progress, Task, TaskStatus};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, BufReader};
use tokio_util::sync::CancellationToken;

use crate::config::AuditServiceConfig;
use crate::lifecycle::Completion;

/// How long a cancelled program has to stop after SIGTERM.
pub const GRACE_PERIOD: Duration = Duration::from_secs(5);
/// How much of standard error is kept for the failure message.
const STDERR_TAIL: usize = 1000;
/// The timeout when the service names none.
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(24 * 60 * 60);

/// The program's arguments with the task's values filled in.
pub fn fill_placeholders(command: &[String], task: &Task) -> Vec<String> {
    command
        .iter()
        .map(|arg| {
            arg.replace("{kind}", task.kind.as_str())
                .replace("{target_type}", task.target.target_type.as_str())
                .replace("{target}", &task.target.name)
                .replace("{scope}", &task.scope)
                .replace("{id}", &task.id.to_string())
        })
        .collect()
}

/// A `PROGRESS <done>/<total>` line's progress.
pub fn parse_progress(line: &str) -> Option<Progress> {
    let (done, total) = line.strip_prefix("PROGRESS ")?.trim().split_once('/')?;
    let (done, total) = (done.trim().parse().ok()?, total.trim().parse().ok()?);
    (done <= total).then_some(Progress { done, total })
}

/// Runs the task's program. `None` when stopped (cancel or shutdown): the
/// stopper records the end.
pub async fn run<F, Fut>(
    service: &AuditServiceConfig,
    task: &Task,
    stop: &CancellationToken,
    on_progress: F,
) -> Option<Completion>
where
    F: Fn(Progress) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = ()> + Send,
{
    let args = fill_placeholders(&service.command, task);
    let Some((program, rest)) = args.split_first() else {
        return Some(failed(
            Vec::new(),
            "the Audit Service has no command".to_owned(),
        ));
    };
    let mut command = tokio::process::Command::new(program);
    command
        .args(rest)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    #[cfg(unix)]
    command.process_group(0);
    let mut child = match command.spawn() {
        Ok(child) => child,
        Err(error) => {
            return Some(failed(
                Vec::new(),
                format!("cannot start {program}: {error}"),
            ))
        }
    };
    let group = child.id();
    let errors = Arc::new(Mutex::new(Vec::new()));
    let stdout = child.stdout.take().map(|stdout| {
        let errors = errors.clone();
        tokio::spawn(async move {
            let mut lines = BufReader::new(stdout).lines();
            while let Ok(Some(line)) = lines.next_line().await {
                if let Some(progress) = parse_progress(&line) {
                    on_progress(progress).await;
                } else if let Some(message) = line.strip_prefix("ERROR ") {
                    errors
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .push(message.trim().to_owned());
                }
            }
        })
    });
    let stderr = child.stderr.take().map(|mut stderr| {
        tokio::spawn(async move {
            let mut text = Vec::new();
            let _ = stderr.read_to_end(&mut text).await;
            let text = String::from_utf8_lossy(&text).trim().to_owned();
            let start = text
                .char_indices()
                .rev()
                .nth(STDERR_TAIL)
                .map(|(i, _)| i)
                .unwrap_or(0);
            text[start..].to_owned()
        })
    });
    let timeout = service.timeout.unwrap_or(DEFAULT_TIMEOUT);
    let status = tokio::select! {
        status = child.wait() => status,
        _ = tokio::time::sleep(timeout) => {
            kill_group(group, Signal::Kill);
            let _ = child.wait().await;
            let messages = take(&errors);
            return Some(failed(messages, "timed out".to_owned()));
        }
        _ = stop.cancelled() => {
            kill_group(group, Signal::Term);
            if tokio::time::timeout(GRACE_PERIOD, child.wait()).await.is_err() {
                kill_group(group, Signal::Kill);
                let _ = child.wait().await;
            }
            return None;
        }
    };
    if let Some(stdout) = stdout {
        let _ = stdout.await;
    }
    let stderr_tail = match stderr {
        Some(stderr) => stderr.await.unwrap_or_default(),
        None => String::new(),
    };
    let messages = take(&errors);
    match status {
        Ok(status) if status.success() => Some(Completion {
            status: TaskStatus::Finished,
            error_messages: messages,
        }),
        Ok(status) => {
            let why = if stderr_tail.is_empty() {
                format!("the program exited with {status}")
            } else {
                stderr_tail
            };
            Some(failed(messages, why))
        }
        Err(error) => Some(failed(
            messages,
            format!("cannot wait for the program: {error}"),
        )),
    }
}

fn take(errors: &Mutex<Vec<String>>) -> Vec<String> {
    std::mem::take(&mut *errors.lock().unwrap_or_else(|e| e.into_inner()))
}

fn failed(mut messages: Vec<String>, why: String) -> Completion {
    messages.push(why);
    Completion {
        status: TaskStatus::Failed,
        error_messages: messages,
    }
}

enum Signal {
    Term,
    Kill,
}

/// Signals the program's whole process group (its children too).
fn kill_group(group: Option<u32>, signal: Signal) {
    #[cfg(unix)]
    if let Some(group) = group.and_then(|g| i32::try_from(g).ok()) {
        let signal = match signal {
            Signal::Term => libc::SIGTERM,
            Signal::Kill => libc::SIGKILL,
        };
        // SAFETY: killpg has no memory effects; a stale group id fails with ESRCH.
        unsafe {
            libc::killpg(group, signal);
        }
    }
    #[cfg(not(unix))]
    let _ = (group, signal);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn progress_lines_parse_strictly() {
        assert_eq!(
            parse_progress("PROGRESS 3/40"),
            Some(Progress { done: 3, total: 40 })
        );
        assert_eq!(
            parse_progress("PROGRESS 40/40 "),
            Some(Progress {
                done: 40,
                total: 40
            })
        );
        for bad in [
            "PROGRESS 41/40",
            "PROGRESS x/4",
            "progress 1/2",
            "PROGRESS 1",
            "ERROR x",
        ] {
            assert_eq!(parse_progress(bad), None, "{bad:?}");
        }
    }
}
