//! CSV export of the Scan log and the Audit log: every row matching the
//! log's filters, read page by page from the Site, written to a file in the
//! user's Downloads folder (durably, like the settings).

use std::path::{Path, PathBuf};

use site_api::{LogEntry, LogQuery, TaskKind};

use crate::error::{Error, Result};
use crate::site_client::SiteClient;
use tauri::{AppHandle, Manager};

/// The most rows one export holds.
pub const MAX_ROWS: usize = 200_000;

/// The CSV's header, then one line per entry. A task a Site labels
/// `finished` but that has errors reads `failed` in the `outcome` column,
/// as the window shows it; `status` keeps the Site's own word.
pub fn to_csv(entries: &[LogEntry]) -> Result<Vec<u8>> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    let fail = |e: csv::Error| Error::InvalidInput(format!("cannot write the CSV: {e}"));
    writer
        .write_record([
            "task",
            "kind",
            "target_type",
            "target",
            "scope",
            "initiator",
            "schedule",
            "start_date",
            "end_date",
            "status",
            "outcome",
            "errors",
            "error_messages",
            "audit_service",
            "cancelled_by",
        ])
        .map_err(fail)?;
    for entry in entries {
        let task = &entry.task;
        let outcome = if task.is_effectively_failed() {
            "failed"
        } else {
            task.status.as_str()
        };
        let time = |t: Option<site_api::Timestamp>| {
            t.map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
                .unwrap_or_default()
        };
        writer
            .write_record([
                task.label.as_str(),
                task.kind.as_str(),
                task.target.target_type.as_str(),
                task.target.name.as_str(),
                task.scope.as_str(),
                task.initiator.as_str(),
                task.schedule
                    .as_ref()
                    .map(|s| s.name.as_str())
                    .unwrap_or(""),
                &time(Some(task.start_date)),
                &time(task.end_date),
                task.status.as_str(),
                outcome,
                &task.errors.to_string(),
                &entry.error_messages.join("\n"),
                task.audit_service
                    .as_ref()
                    .map(|s| s.name.as_str())
                    .unwrap_or(""),
                entry.cancelled_by.as_deref().unwrap_or(""),
            ])
            .map_err(fail)?;
    }
    writer
        .into_inner()
        .map_err(|e| Error::InvalidInput(format!("cannot write the CSV: {e}")))
}

/// Reads every entry of a log matching `query` (at most [`MAX_ROWS`]).
pub async fn read_all(
    client: &SiteClient,
    site_id: &str,
    kind: TaskKind,
    mut query: LogQuery,
) -> Result<Vec<LogEntry>> {
    query.limit = site_api::PageLimit::MAX;
    query.cursor = None;
    let mut entries = Vec::new();
    loop {
        let page = client.log(site_id, kind, &query).await?;
        entries.extend(page.entries);
        match page.next_cursor {
            Some(cursor) if entries.len() < MAX_ROWS => query.cursor = Some(cursor),
            _ => break,
        }
    }
    entries.truncate(MAX_ROWS);
    Ok(entries)
}

/// `folder/base.extension`, or `base-2.extension`, … : a path that does not
/// exist yet.
pub fn unique_path(folder: &Path, base: &str, extension: &str) -> PathBuf {
    (1..)
        .map(|n| {
            if n == 1 {
                folder.join(format!("{base}.{extension}"))
            } else {
                folder.join(format!("{base}-{n}.{extension}"))
            }
        })
        .find(|path| !path.exists())
        .unwrap_or_else(|| folder.join(format!("{base}.{extension}")))
}

/// A new file for a log's CSV: `scan-log-<site>-<time>.csv`.
pub fn file_for(folder: &Path, kind: TaskKind, site_id: &str) -> PathBuf {
    let stamp = chrono::Utc::now().format("%Y%m%d-%H%M%S");
    unique_path(
        folder,
        &format!("{}-log-{site_id}-{stamp}", kind.as_str()),
        "csv",
    )
}

/// A new file for an exported view, named after it:
/// `<name>.taskdeck-view.json` (letters, digits and `-` only).
pub fn view_file_for(folder: &Path, name: &str) -> PathBuf {
    let slug: String = name
        .chars()
        .map(|c| if c.is_alphanumeric() { c } else { '-' })
        .collect::<String>()
        .split('-')
        .filter(|part| !part.is_empty())
        .collect::<Vec<_>>()
        .join("-");
    let slug = if slug.is_empty() {
        "view".to_owned()
    } else {
        slug
    };
    unique_path(folder, &format!("{slug}.taskdeck-view"), "json")
}

/// Writes `bytes` durably into the Downloads folder (the home folder where
/// there is none), as the file `name_in` picks there; returns its path.
pub(crate) async fn save_to_downloads(
    app: &AppHandle,
    bytes: Vec<u8>,
    name_in: impl FnOnce(&std::path::Path) -> std::path::PathBuf,
) -> Result<String> {
    let folder = app
        .path()
        .download_dir()
        .or_else(|_| app.path().home_dir())
        .map_err(|e| Error::InvalidInput(format!("There is no Downloads folder: {e}.")))?;
    let path = name_in(&folder);
    let written = path.clone();
    tokio::task::spawn_blocking(move || crate::settings::durable_write(&written, &bytes))
        .await?
        .map_err(|e| std::io::Error::new(e.kind(), format!("{}: {e}", path.display())))?;
    Ok(path.display().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(status: &str, errors: u64, messages: &[&str], initiator: &str) -> LogEntry {
        serde_json::from_value(serde_json::json!({
            "id": "scan-7", "kind": "scan", "number": 7, "label": "Scan #7",
            "target": {"type": "device", "name": "WS, \"lab\" 42"},
            "start_date": "2026-11-28T09:00:00Z", "scope": "HQ",
            "initiator": initiator, "schedule": null,
            "status": status, "audit_service": {"id": "as-1", "name": "AS-1"},
            "running_since": "2026-11-28T09:01:00Z",
            "progress": null, "end_date": "2026-11-28T09:05:00Z", "errors": errors,
            "error_messages": messages,
            "cancelled_by": null
        }))
        .unwrap()
    }

    #[test]
    fn rows_are_quoted_and_a_finished_task_with_errors_reads_failed() {
        let csv = to_csv(&[
            entry("finished", 2, &["timeout", "no route"], "alice@example.com"),
            entry("finished", 0, &[], "Schedule"),
        ])
        .unwrap();
        let text = String::from_utf8(csv).unwrap();
        let mut reader = csv::Reader::from_reader(text.as_bytes());
        let rows: Vec<csv::StringRecord> = reader.records().map(|r| r.unwrap()).collect();
        assert_eq!(rows.len(), 2);
        assert_eq!(&rows[0][3], "WS, \"lab\" 42", "commas and quotes survive");
        assert_eq!((&rows[0][9], &rows[0][10]), ("finished", "failed"));
        assert_eq!(&rows[0][12], "timeout\nno route");
        assert_eq!((&rows[1][5], &rows[1][10]), ("Schedule", "finished"));
        assert_eq!(reader.headers().unwrap().len(), 15);
    }

    #[test]
    fn export_files_never_overwrite() {
        let dir = tempfile::tempdir().unwrap();
        let first = file_for(dir.path(), TaskKind::Audit, "hq");
        assert!(first
            .file_name()
            .unwrap()
            .to_string_lossy()
            .starts_with("audit-log-hq-"));
        std::fs::write(&first, b"x").unwrap();
        let second = file_for(dir.path(), TaskKind::Audit, "hq");
        assert_ne!(first, second);
        let view = view_file_for(dir.path(), "Running / now!");
        assert_eq!(
            view.file_name().unwrap().to_string_lossy(),
            "Running-now.taskdeck-view.json"
        );
        std::fs::write(&view, b"{}").unwrap();
        assert!(view_file_for(dir.path(), "Running now")
            .to_string_lossy()
            .ends_with("Running-now.taskdeck-view-2.json"));
    }
}
