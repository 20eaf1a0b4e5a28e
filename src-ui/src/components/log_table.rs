//! The Scan log and the Audit log: the durable record of ended tasks, with
//! their Errors count. A task that reads `Finished` but has errors is shown
//! as failed, as an admin must read it.

use chrono::Utc;
use leptos::prelude::*;
use std::collections::BTreeSet;

use site_api::{CreateTaskRequest, LogEntry, LogQuery, TaskKind, TaskStatus};

use super::session::{read_on, request_action};
use crate::bridge;
use crate::format::{
    initiator_text, start_date_text, start_date_title, status_class, status_label,
};
use taskdeck_ipc::request;

/// The log's filters from what the toolbar holds.
fn log_query(statuses: &BTreeSet<TaskStatus>, search: &str, errors_only: bool) -> LogQuery {
    LogQuery {
        statuses: statuses.iter().copied().collect(),
        q: Some(search.trim().to_owned()).filter(|q| !q.is_empty()),
        has_errors: errors_only.then_some(true),
        ..LogQuery::default()
    }
}

/// One log, read when shown and again when tasks change. The row of
/// `focus` (a clicked notification's task) is highlighted and scrolled to.
#[component]
pub fn LogTable(
    kind: TaskKind,
    changes: RwSignal<u64>,
    focus: RwSignal<Option<site_api::TaskId>>,
) -> impl IntoView {
    let statuses = RwSignal::new(BTreeSet::<TaskStatus>::new());
    let errors_only = RwSignal::new(false);
    let search = RwSignal::new(String::new());
    let query =
        Memo::new(move |_| statuses.with(|s| search.with(|q| log_query(s, q, errors_only.get()))));
    // Read again when the filters change or tasks end; the answer to the
    // latest filters wins.
    let read = read_on(
        move || {
            changes.track();
            query.get()
        },
        move |query| bridge::send(request::LogEntries { kind, query }),
    );
    let page = move || read.get().and_then(Result::ok);
    let error = move || read.get().and_then(Result::err);
    let export = request_action::<request::ExportLog>();
    let exported = export.value();
    let export = move |_| {
        export.dispatch(request::ExportLog {
            kind,
            query: query.get_untracked(),
        });
    };
    // Ticked rows, to run again together; a new reading keeps those still shown.
    let ticked = RwSignal::new(BTreeSet::<site_api::TaskId>::new());
    let run = super::run_again::run_action();
    let run_ticked = move |_| {
        let tasks: Vec<CreateTaskRequest> = ticked.with_untracked(|ticked| {
            page()
                .map(|p| p.entries)
                .unwrap_or_default()
                .iter()
                .filter(|entry| ticked.contains(&entry.task.id))
                .map(|entry| CreateTaskRequest::again(&entry.task))
                .collect()
        });
        if !tasks.is_empty() {
            run.dispatch(request::RunTasks { tasks });
            ticked.set(BTreeSet::new());
        }
    };
    let status_box = move |status: TaskStatus| {
        view! {
            <label class="filter-option inline">
                <input
                    type="checkbox"
                    data-testid=format!("log-filter-status-{}", status.as_str())
                    prop:checked=move || statuses.with(|s| s.contains(&status))
                    on:change=move |_| statuses.update(|s| {
                        if !s.remove(&status) {
                            s.insert(status);
                        }
                    })
                />
                {status.label()}
            </label>
        }
    };
    let entries = move || page().map(|p| p.entries).unwrap_or_default();
    let title = match kind {
        TaskKind::Scan => "Scan log",
        TaskKind::Audit => "Audit log",
    };
    view! {
        <div class="toolbar" role="toolbar" aria-label=format!("{title} filters")>
            {status_box(TaskStatus::Finished)}
            {status_box(TaskStatus::Cancelled)}
            {status_box(TaskStatus::Failed)}
            <label class="filter-option inline">
                <input
                    type="checkbox"
                    data-testid="log-filter-errors"
                    prop:checked=errors_only
                    on:change=move |_| errors_only.update(|e| *e = !*e)
                />
                "With errors"
            </label>
            <super::filters::SearchBox search=search testid="log-search" over="the log" />
            <button class="button" data-testid="log-export" on:click=export
                title="Every row matching these filters, as CSV, into your Downloads folder">
                "Export CSV"
            </button>
            <button class="button" data-testid="run-again-selected" on:click=run_ticked
                disabled=move || ticked.with(BTreeSet::is_empty) || run.pending().get()
                title="Start each ticked task again: same kind, target and scope">
                {move || match ticked.with(BTreeSet::len) {
                    0 => "Run again".to_owned(),
                    n => format!("Run {n} again"),
                }}
            </button>
            <super::run_again::RetryFailed kind=kind query=query />
        </div>
        <super::run_again::RunOutcome run=run testid="run-again-summary" />
        {move || exported.get().map(|result| match result {
            Ok(path) => view! { <p class="notice notice-ok" role="status" data-testid="log-export-result">{format!("Saved to {path}")}</p> }.into_any(),
            Err(message) => view! { <p class="notice notice-error" role="alert" data-testid="log-export-result">{message}</p> }.into_any(),
        })}
        <Show when=move || error().is_some()>
            <div class="notice notice-error" role="alert">{error}</div>
        </Show>
        <table class="tasks" data-testid="log-table" aria-label=title>
            <thead>
                <tr>
                    <th scope="col" class="select-cell"><span class="visually-hidden">"Ticked"</span></th>
                    <th scope="col">"Device / Resource"</th>
                    <th scope="col">"Task"</th>
                    <th scope="col">"End date " <span class="sort">"▼"</span></th>
                    <th scope="col">"Status"</th>
                    <th scope="col">"Errors"</th>
                    <th scope="col">"Initiator"</th>
                    <th scope="col">"Cancelled by"</th>
                    <th scope="col"><span class="visually-hidden">"Actions"</span></th>
                </tr>
            </thead>
            <tbody>
                <For
                    each=entries
                    key=|entry: &LogEntry| (entry.task.id, entry.task.errors)
                    children=move |entry: LogEntry| view! { <LogRow entry=entry focus=focus ticked=ticked run=run /> }
                />
            </tbody>
        </table>
        <Show when=move || page().is_some_and(|p| p.entries.is_empty())>
            <p class="placeholder">{format!("The {} is empty so far.", title.to_lowercase())}</p>
        </Show>
    }
}

/// One ended task: ticked in `ticked`, run again with `run`.
#[component]
fn LogRow(
    entry: LogEntry,
    focus: RwSignal<Option<site_api::TaskId>>,
    ticked: RwSignal<BTreeSet<site_api::TaskId>>,
    run: super::run_again::RunAction,
) -> impl IntoView {
    let offset = super::dom::local_offset();
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
    let again = CreateTaskRequest::again(&task);
    let super::OpenDetail(detail) = expect_context();
    view! {
        <tr
            node_ref=row
            data-testid="log-row"
            data-task-id=task.id.to_string()
            data-status=status_label(&task)
            data-focused=move || focused().to_string()
            class:focused=focused
        >
            <td class="select-cell">
                <input type="checkbox" data-testid="log-select" aria-label=format!("Tick {}", task.label)
                    prop:checked=move || ticked.with(|t| t.contains(&id))
                    on:change=move |_| ticked.update(|t| {
                        if !t.remove(&id) {
                            t.insert(id);
                        }
                    }) />
            </td>
            <td data-testid="cell-target">{task.target.name.clone()}</td>
            <td data-testid="cell-task" class="mono">
                <button class="link-button task-link" data-testid="open-task" title="Show the details"
                    on:click=move |_| detail.set(Some(id))>
                    {task.label.clone()}
                </button>
            </td>
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
            <td class="row-actions">
                <button class="button button-small" data-testid="run-again"
                    title="Start this task again: same kind, target and scope"
                    disabled=move || run.pending().get()
                    on:click=move |_| {
                        run.dispatch(request::RunTasks { tasks: vec![again.clone()] });
                    }>
                    "Run again"
                </button>
            </td>
        </tr>
    }
}
