//! The Scan log and the Audit log: the durable record of ended tasks, with
//! their Errors count. A task that reads `Finished` but has errors is shown
//! as failed, as an admin must read it.

use chrono::Utc;
use leptos::prelude::*;
use leptos::task::spawn_local;
use serde::Serialize;
use site_api::{LogEntry, LogPage, TaskKind};
use taskdeck_ipc::commands;

use crate::bridge;
use crate::format::{
    initiator_text, start_date_text, start_date_title, status_class, status_label,
};

#[derive(Serialize)]
struct LogArgs {
    kind: TaskKind,
    query: LogQuery,
}

#[derive(Serialize)]
struct LogQuery {
    limit: u32,
}

/// One log, read when shown and again when tasks change. The row of
/// `focus` (a clicked notification's task) is highlighted and scrolled to.
#[component]
pub fn LogTable(
    kind: TaskKind,
    changes: RwSignal<u64>,
    focus: RwSignal<Option<site_api::TaskId>>,
) -> impl IntoView {
    let page = RwSignal::new(None::<LogPage>);
    let error = RwSignal::new(None::<String>);
    Effect::new(move |_| {
        changes.track();
        spawn_local(async move {
            let args = LogArgs {
                kind,
                query: LogQuery { limit: 200 },
            };
            match bridge::invoke_with::<_, LogPage>(commands::LOG_ENTRIES, &args).await {
                Ok(read) => {
                    page.set(Some(read));
                    error.set(None);
                }
                Err(e) => error.set(Some(e.to_string())),
            }
        });
    });
    let entries = move || page.with(|p| p.as_ref().map(|p| p.entries.clone()).unwrap_or_default());
    let title = match kind {
        TaskKind::Scan => "Scan log",
        TaskKind::Audit => "Audit log",
    };
    view! {
        <Show when=move || error.with(Option::is_some)>
            <div class="notice notice-error" role="alert">{move || error.get()}</div>
        </Show>
        <table class="tasks" data-testid="log-table" aria-label=title>
            <thead>
                <tr>
                    <th scope="col">"Device / Resource"</th>
                    <th scope="col">"Task"</th>
                    <th scope="col">"End date " <span class="sort">"▼"</span></th>
                    <th scope="col">"Status"</th>
                    <th scope="col">"Errors"</th>
                    <th scope="col">"Initiator"</th>
                    <th scope="col">"Cancelled by"</th>
                </tr>
            </thead>
            <tbody>
                <For
                    each=entries
                    key=|entry: &LogEntry| (entry.task.id, entry.task.errors)
                    children=move |entry: LogEntry| view! { <LogRow entry=entry focus=focus /> }
                />
            </tbody>
        </table>
        <Show when=move || page.with(|p| p.as_ref().is_some_and(|p| p.entries.is_empty()))>
            <p class="placeholder">{format!("The {} is empty so far.", title.to_lowercase())}</p>
        </Show>
    }
}

/// One ended task.
#[component]
fn LogRow(entry: LogEntry, focus: RwSignal<Option<site_api::TaskId>>) -> impl IntoView {
    let offset = super::local_offset();
    let task = entry.task;
    let id = task.id;
    let focused = move || focus.get() == Some(id);
    let row = NodeRef::<leptos::html::Tr>::new();
    Effect::new(move |_| {
        if focused() {
            if let Some(row) = row.get() {
                row.scroll_into_view();
            }
        }
    });
    let end = task.end_date.unwrap_or(task.start_date);
    let now =
        chrono::DateTime::<Utc>::from_timestamp_millis(js_sys::Date::now() as i64).unwrap_or(end);
    let today = now.with_timezone(&offset).date_naive();
    let messages = entry.error_messages.join("\n");
    view! {
        <tr
            node_ref=row
            data-testid="log-row"
            data-task-id=task.id.to_string()
            data-status=status_label(&task)
            data-focused=move || focused().to_string()
            class:focused=focused
        >
            <td data-testid="cell-target">{task.target.name.clone()}</td>
            <td data-testid="cell-task" class="mono">{task.label.clone()}</td>
            <td data-testid="cell-end-date" title=start_date_title(end, offset)>
                {start_date_text(end, offset, today)}
            </td>
            <td data-testid="cell-status">
                <span class=status_class(if task.is_effectively_failed() { site_api::TaskStatus::Failed } else { task.status })>
                    {status_label(&task)}
                </span>
            </td>
            <td data-testid="cell-errors" title=messages>{task.errors}</td>
            <td data-testid="cell-initiator">{initiator_text(&task)}</td>
            <td data-testid="cell-cancelled-by">{entry.cancelled_by.unwrap_or_default()}</td>
        </tr>
    }
}
