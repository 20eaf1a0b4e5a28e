//! taskdeck-runner: runs one task's program for an Audit Service, the same
//! way in the Site server's `command` runner and in the remote agent
//! (`taskdeck-audit-service`).
//!
//! The program's arguments take `{kind}`, `{target}`, `{target_type}`,
//! `{scope}` and `{id}`. Exit 0 is `finished`; any other exit, a crash or
//! the timeout is `failed` with one more error (the tail of standard error,
//! or "timed out"). A standard-output line `PROGRESS <done>/<total>`
//! updates the progress; a line beginning `ERROR ` adds an error with its
//! text. Each program runs in a process group of its own (a Job Object on
//! Windows), so a stop reaches whatever it started: SIGTERM to the whole
//! group, SIGKILL after [`GRACE_PERIOD`]; on timeout, SIGKILL at once.

#![deny(missing_docs)]

use std::future::Future;
use std::process::{ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use process_wrap::tokio::{ChildWrapper, CommandWrap, KillOnDrop};
use site_api::{Progress, Task, TaskStatus};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, BufReader};
use tokio_util::sync::CancellationToken;

/// How long a stopped program has to end after SIGTERM.
pub const GRACE_PERIOD: Duration = Duration::from_secs(5);
/// How much of standard error is kept for the failure message, in characters.
const STDERR_TAIL: usize = 1000;
/// The most `ERROR ` lines kept as messages; past it, one more message
/// says how many more there were. A report stays far below the Site's 1 MiB
/// body limit whatever a program prints.
pub const MAX_ERROR_MESSAGES: usize = 200;
/// The longest message kept from one `ERROR ` line, in characters.
pub const MAX_MESSAGE_CHARS: usize = 500;
/// The timeout when the service names none.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(24 * 60 * 60);

/// The program an Audit Service runs for each task.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Program {
    /// The program and its arguments, with placeholders.
    pub command: Vec<String>,
    /// Killed after this long ([`DEFAULT_TIMEOUT`] when `None`).
    pub timeout: Option<Duration>,
}

/// How a program's run ended the task.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Completion {
    /// `finished` or `failed`.
    pub status: TaskStatus,
    /// One message per error.
    pub error_messages: Vec<String>,
}

impl Completion {
    /// A failed end: `messages` and then `why`, so it counts at least one error.
    pub fn failed(mut messages: Vec<String>, why: String) -> Completion {
        messages.push(why);
        Completion {
            status: TaskStatus::Failed,
            error_messages: messages,
        }
    }
}

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

/// The last [`STDERR_TAIL`] characters of `text`, trimmed.
fn tail(text: &[u8]) -> String {
    let text = String::from_utf8_lossy(text);
    let text = text.trim();
    let start = text
        .char_indices()
        .rev()
        .nth(STDERR_TAIL)
        .map(|(i, _)| i + text[i..].chars().next().map_or(0, char::len_utf8))
        .unwrap_or(0);
    text[start..].to_owned()
}

/// Runs `program` for `task` until it ends, calling `on_progress` for each
/// `PROGRESS` line. `None` when `stop` was cancelled: the program's group
/// is then gone, and whoever stopped it records the task's end.
pub async fn run<F, Fut>(
    program: &Program,
    task: &Task,
    stop: &CancellationToken,
    on_progress: F,
) -> Option<Completion>
where
    F: Fn(Progress) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = ()> + Send,
{
    let args = fill_placeholders(&program.command, task);
    let Some((name, rest)) = args.split_first() else {
        return Some(Completion::failed(
            Vec::new(),
            "the Audit Service has no command".to_owned(),
        ));
    };
    let mut command = CommandWrap::with_new(name, |command| {
        command
            .args(rest)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
    });
    #[cfg(unix)]
    command.wrap(process_wrap::tokio::ProcessGroup::leader());
    #[cfg(windows)]
    command.wrap(process_wrap::tokio::JobObject);
    command.wrap(KillOnDrop);
    let mut child = match command.spawn() {
        Ok(child) => child,
        Err(error) => {
            return Some(Completion::failed(
                Vec::new(),
                format!("cannot start {name}: {error}"),
            ))
        }
    };
    let errors = Arc::new(Mutex::new(ErrorLines::default()));
    let stdout = child.stdout().take().map(|stdout| {
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
                        .add(message);
                }
            }
        })
    });
    let stderr = child.stderr().take().map(|mut stderr| {
        tokio::spawn(async move {
            let mut text = Vec::new();
            let _ = stderr.read_to_end(&mut text).await;
            tail(&text)
        })
    });
    let timeout = program.timeout.unwrap_or(DEFAULT_TIMEOUT);
    let status = tokio::select! {
        status = child.wait() => status,
        _ = tokio::time::sleep(timeout) => {
            kill(&mut *child).await;
            return Some(Completion::failed(take(&errors), "timed out".to_owned()));
        }
        _ = stop.cancelled() => {
            terminate(&mut *child).await;
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
    Some(completion(status, take(&errors), stderr_tail))
}

/// The end of a program that exited by itself.
fn completion(
    status: std::io::Result<ExitStatus>,
    messages: Vec<String>,
    stderr_tail: String,
) -> Completion {
    match status {
        Ok(status) if status.success() => Completion {
            status: TaskStatus::Finished,
            error_messages: messages,
        },
        Ok(status) => {
            let why = if stderr_tail.is_empty() {
                format!("the program exited with {status}")
            } else {
                stderr_tail
            };
            Completion::failed(messages, why)
        }
        Err(error) => Completion::failed(messages, format!("cannot wait for the program: {error}")),
    }
}

/// The `ERROR ` lines of a run, bounded: the first [`MAX_ERROR_MESSAGES`]
/// (each cut to [`MAX_MESSAGE_CHARS`]), and how many came after them.
#[derive(Debug, Default)]
struct ErrorLines {
    kept: Vec<String>,
    more: u64,
}

impl ErrorLines {
    fn add(&mut self, message: &str) {
        if self.kept.len() < MAX_ERROR_MESSAGES {
            let message = message.trim();
            let cut: String = message.chars().take(MAX_MESSAGE_CHARS).collect();
            self.kept.push(match cut.len() < message.len() {
                true => format!("{cut}…"),
                false => cut,
            });
        } else {
            self.more += 1;
        }
    }

    fn into_messages(self) -> Vec<String> {
        let mut messages = self.kept;
        if self.more > 0 {
            messages.push(format!("…and {} more errors", self.more));
        }
        messages
    }
}

fn take(errors: &Mutex<ErrorLines>) -> Vec<String> {
    std::mem::take(&mut *errors.lock().unwrap_or_else(|e| e.into_inner())).into_messages()
}

/// Stops the whole group: SIGTERM, then SIGKILL if it has not ended
/// within [`GRACE_PERIOD`]. Windows has no SIGTERM: the Job Object is
/// terminated at once.
async fn terminate(child: &mut dyn ChildWrapper) {
    #[cfg(unix)]
    {
        if child.signal(libc::SIGTERM).is_ok()
            && tokio::time::timeout(GRACE_PERIOD, child.wait())
                .await
                .is_ok()
        {
            return;
        }
    }
    kill(child).await;
}

/// Kills the whole group at once and reaps it.
async fn kill(child: &mut dyn ChildWrapper) {
    if let Err(error) = child.start_kill() {
        tracing::debug!(%error, "the program's group was already gone");
    }
    let _ = child.wait().await;
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

    #[test]
    fn error_lines_are_bounded_and_the_rest_counted() {
        let mut lines = ErrorLines::default();
        lines.add("  disk C: is full ");
        lines.add(&"x".repeat(MAX_MESSAGE_CHARS + 10));
        for _ in 0..MAX_ERROR_MESSAGES + 3 {
            lines.add("again");
        }
        let messages = lines.into_messages();
        assert_eq!(messages.len(), MAX_ERROR_MESSAGES + 1);
        assert_eq!(messages[0], "disk C: is full");
        assert_eq!(messages[1].chars().count(), MAX_MESSAGE_CHARS + 1);
        assert!(messages[1].ends_with('…'));
        assert_eq!(messages[MAX_ERROR_MESSAGES], "…and 5 more errors");
        assert!(ErrorLines::default().into_messages().is_empty());
    }

    #[test]
    fn the_tail_keeps_the_last_characters_whole() {
        assert_eq!(tail(b"  short \n"), "short");
        let long = "é".repeat(STDERR_TAIL + 50);
        let kept = tail(long.as_bytes());
        assert_eq!(kept.chars().count(), STDERR_TAIL);
        assert!(kept.chars().all(|c| c == 'é'));
    }
}
