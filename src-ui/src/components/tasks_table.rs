//! The Active tasks table: the seed's six columns, newest first.

use chrono::Utc;
use leptos::prelude::*;
use std::collections::BTreeSet;

use site_api::{ActiveTasksPage, TargetType, Task, TaskId};
use taskdeck_ipc::{ActiveTasksSnapshot, ConnectionPhase, ConnectionStatus};

use crate::format::{
    initiator_text, start_date_text, start_date_title, status_class, status_label, target_type_name,
};
use crate::tasks::{page_rows_in_order, visible_rows, SortColumn, SortSpec};

/// The table, or what to show instead while there is nothing to list.
#[component]
pub fn TasksTable(
    status: RwSignal<Option<ConnectionStatus>>,
    snapshot: RwSignal<Option<ActiveTasksSnapshot>>,
    filtered: RwSignal<Option<ActiveTasksPage>>,
    selected: RwSignal<BTreeSet<TaskId>>,
    sort: RwSignal<SortSpec>,
) -> impl IntoView {
    // A filtered page from the Site while filters are in force, else the live list.
    let rows = Memo::new(move |_| match filtered.get() {
        Some(page) => page_rows_in_order(&page),
        None => snapshot.with(|s| s.as_ref().map(visible_rows).unwrap_or_default()),
    });
    // Tasks that left the list leave the selection too.
    Effect::new(move |_| {
        let shown: BTreeSet<TaskId> = rows.with(|rows| rows.iter().map(|t| t.id).collect());
        if selected.with_untracked(|set| set.iter().any(|id| !shown.contains(id))) {
            selected.update(|set| set.retain(|id| shown.contains(id)));
        }
    });
    let all_selected = move || {
        rows.with(|rows| {
            !rows.is_empty() && selected.with(|set| rows.iter().all(|t| set.contains(&t.id)))
        })
    };
    let toggle_all = move |_| {
        let select = !all_selected();
        selected.update(|set| {
            rows.with_untracked(|rows| {
                for task in rows {
                    if select {
                        set.insert(task.id);
                    } else {
                        set.remove(&task.id);
                    }
                }
            })
        });
    };
    let placeholder = move || {
        let phase = status.with(|s| s.as_ref().map(|s| s.phase));
        match (
            phase,
            snapshot.with(Option::is_some),
            rows.with(Vec::is_empty),
        ) {
            _ if filtered.with(Option::is_some) && rows.with(Vec::is_empty) => {
                Some("No active task matches the search and filters.")
            }
            (Some(ConnectionPhase::Failed), false, _) => Some("Could not connect to the Site."),
            (_, false, _) => Some("Starting the Demo Site…"),
            (_, true, true) => Some("The queue is empty: no task is queued or running."),
            _ => None,
        }
    };
    view! {
        <table class="tasks" data-testid="tasks-table" aria-label="Active tasks">
            <thead>
                <tr>
                    <th scope="col" class="select-cell">
                        <input
                            type="checkbox"
                            data-testid="select-all"
                            aria-label="Select every task shown"
                            prop:checked=all_selected
                            on:change=toggle_all
                        />
                    </th>
                    <SortHeader label="Device / Resource" column=SortColumn::Target sort=sort />
                    <SortHeader label="Task" column=SortColumn::Task sort=sort />
                    <SortHeader label="Start date" column=SortColumn::StartDate sort=sort />
                    <SortHeader label="Scope" column=SortColumn::Scope sort=sort />
                    <SortHeader label="Initiator" column=SortColumn::Initiator sort=sort />
                    <SortHeader label="Status" column=SortColumn::Status sort=sort />
                </tr>
            </thead>
            <tbody>
                <For
                    each=move || rows.get()
                    key=|task: &Task| (task.id, task.status, task.progress, task.errors)
                    children=move |task: Task| view! { <TaskRow task=task selected=selected /> }
                />
            </tbody>
        </table>
        <Show when=move || placeholder().is_some()>
            <p class="placeholder" data-testid="tasks-placeholder">{placeholder}</p>
        </Show>
    }
}

/// A column header that sorts the list on the Site when clicked.
#[component]
fn SortHeader(label: &'static str, column: SortColumn, sort: RwSignal<SortSpec>) -> impl IntoView {
    let state = move || {
        let current = sort.get();
        (current.column == column).then_some(current.descending)
    };
    view! {
        <th
            scope="col"
            aria-sort=move || match state() {
                Some(true) => "descending",
                Some(false) => "ascending",
                None => "none",
            }
        >
            <button
                class="sort-button"
                data-testid=format!("sort-{}", column.wire())
                title=format!("Sort by {}", label.to_lowercase())
                on:click=move |_| sort.update(|s| *s = s.clicked(column))
            >
                {label}
                {move || match state() {
                    Some(true) => " ▼",
                    Some(false) => " ▲",
                    None => "",
                }}
            </button>
        </th>
    }
}

/// One task.
#[component]
fn TaskRow(task: Task, selected: RwSignal<BTreeSet<TaskId>>) -> impl IntoView {
    let id = task.id;
    let is_selected = move || selected.with(|set| set.contains(&id));
    let offset = super::local_offset();
    let now = chrono::DateTime::<Utc>::from_timestamp_millis(js_sys::Date::now() as i64)
        .unwrap_or(task.start_date);
    let today = now.with_timezone(&offset).date_naive();
    let progress = task
        .progress
        .filter(|p| p.total > 0)
        .map(|p| format!("{}% ({} of {})", p.done * 100 / p.total, p.done, p.total));
    let status_title = progress.unwrap_or_else(|| status_label(&task).to_owned());
    view! {
        <tr
            data-testid="task-row"
            data-task-id=task.id.to_string()
            data-status=task.status.as_str()
            data-start-date=task.start_date.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
            class:selected=is_selected
        >
            <td class="select-cell">
                <input
                    type="checkbox"
                    data-testid="select-row"
                    aria-label=format!("Select {}", task.label)
                    prop:checked=is_selected
                    on:change=move |_| selected.update(|set| {
                        if !set.remove(&id) {
                            set.insert(id);
                        }
                    })
                />
            </td>
            <td data-testid="cell-target">
                <TargetIcon target_type=task.target.target_type />
                <span class="target-name">{task.target.name.clone()}</span>
            </td>
            <td data-testid="cell-task" class="mono">{task.label.clone()}</td>
            <td data-testid="cell-start-date" title=start_date_title(task.start_date, offset)>
                {start_date_text(task.start_date, offset, today)}
            </td>
            <td data-testid="cell-scope">{task.scope.clone()}</td>
            <td data-testid="cell-initiator">{initiator_text(&task)}</td>
            <td data-testid="cell-status" title=status_title>
                <span class=status_class(task.status)>{status_label(&task)}</span>
            </td>
        </tr>
    }
}

/// A small icon for a device, a Segment or a cloud resource.
#[component]
fn TargetIcon(target_type: TargetType) -> impl IntoView {
    let path = match target_type {
        // A monitor.
        TargetType::Device => "M2 3h12v8H2z M6 13h4 M8 11v2",
        // Three linked nodes.
        TargetType::Segment => "M3 8h10 M3 4v8 M13 4v8 M8 8v5",
        // A cloud.
        TargetType::CloudResource => "M4 12h8a3 3 0 0 0 0-6 4 4 0 0 0-7.5 1A2.5 2.5 0 0 0 4 12z",
    };
    view! {
        <svg class="target-icon" viewBox="0 0 16 16" width="16" height="16" role="img" aria-label=target_type_name(target_type)>
            <title>{target_type_name(target_type)}</title>
            <path d=path fill="none" stroke="currentColor" stroke-width="1.4" stroke-linecap="round" stroke-linejoin="round" />
        </svg>
    }
}
