//! The task detail drawer: every field of one task, its progress and
//! errors, a timeline of its states, and what can be done with it (Cancel
//! for administrators, Run again, its log row, copy its id). Read from the
//! Site when opened, then kept by the Site's events while open.

use leptos::prelude::*;
use site_api::{Task, TaskId};

use crate::bridge;
use crate::format::{
    initiator_text, progress_percent, start_date_title, status_class, status_label, timeline,
};
use taskdeck_ipc::request;

/// The drawer for `open` (none: closed). `latest` is the task as the
/// Site's events last changed it.
#[component]
pub fn TaskDetail(open: RwSignal<Option<TaskId>>, latest: RwSignal<Option<Task>>) -> impl IntoView {
    let session = super::session::Session::get();
    let nav: super::pages::Navigation = expect_context();
    let super::ListState { ask, .. } = expect_context();
    // Read when another task is opened; a resource answers for the latest
    // only. While open, the events keep it.
    let read = LocalResource::new(move || {
        let open = open.get();
        async move {
            match open {
                None => None,
                Some(id) => Some(
                    bridge::request(&request::TaskDetail { task: id })
                        .await
                        .map_err(|e| e.to_string()),
                ),
            }
        }
    });
    let task = move || {
        let live = latest.with(|latest| latest.clone().filter(|t| Some(t.id) == open.get()));
        match live {
            Some(task) => Some(Ok(task)),
            None => read.get().flatten(),
        }
    };
    let run = super::run_again::run_action();
    let copied = RwSignal::new(false);
    // Another task opened: nothing of the last one's actions stays.
    Effect::new(move |_| {
        open.track();
        copied.set(false);
    });
    let escape = window_event_listener(leptos::ev::keydown, move |event| {
        if event.key() == "Escape" {
            open.set(None);
        }
    });
    on_cleanup(move || escape.remove());
    let offset = super::dom::local_offset();
    let field = |label: &'static str, value: String| {
        view! {
            <dt>{label}</dt>
            <dd>{value}</dd>
        }
    };
    let actions = move |task: &Task| {
        let ended = task.status.is_terminal();
        let (id, again, shown) = (
            task.id,
            site_api::CreateTaskRequest::again(task),
            task.clone(),
        );
        view! {
            <div class="detail-actions" role="toolbar" aria-label="Task actions">
                {(!ended && session.is_admin().get()).then(|| view! {
                    <button class="button button-danger" data-testid="detail-cancel"
                        on:click=move |_| {
                            nav.page.set(super::pages::Page::ActiveTasks);
                            ask.set(Some(vec![id]));
                        }>
                        "Cancel…"
                    </button>
                })}
                {ended.then(|| view! {
                    <button class="button" data-testid="detail-run-again"
                        disabled=move || run.pending().get()
                        title="Start this task again: same kind, target and scope"
                        on:click=move |_| { run.dispatch(taskdeck_ipc::request::RunTasks { tasks: vec![again.clone()] }); }>
                        "Run again"
                    </button>
                    <button class="button" data-testid="detail-open-log"
                        on:click=move |_| {
                            nav.open_log_row(&shown);
                            open.set(None);
                        }>
                        {format!("Open in the {} log", shown.kind.title())}
                    </button>
                })}
                <button class="button" data-testid="detail-copy-id"
                    on:click=move |_| copied.set(super::dom::copy_text(&id.to_string()))>
                    {move || if copied.get() { "Copied" } else { "Copy id" }}
                </button>
            </div>
            <super::run_again::RunOutcome run=run testid="detail-run-again-summary" />
        }
    };
    let body = move || {
        task().map(|read: Result<Task, String>| match read {
            Err(message) => view! { <p class="notice notice-error" role="alert">{message}</p> }.into_any(),
            Ok(task) => {
                let percent = progress_percent(&task);
                view! {
                    <h2 id="detail-title">{task.label.clone()}" · "{task.target.name.clone()}</h2>
                    <p><span class=status_class(if task.is_effectively_failed() { site_api::TaskStatus::Failed } else { task.status })>{status_label(&task)}</span></p>
                    {percent.map(|percent| view! {
                        <div class="progress wide" role="progressbar" aria-valuemin="0" aria-valuemax="100" aria-valuenow=percent.to_string()>
                            <div class="progress-bar" style:width=format!("{percent}%")></div>
                        </div>
                        <p class="hint">{task.progress.map(|p| format!("{percent}% — {} of {}", p.done, p.total))}</p>
                    })}
                    <dl class="detail-fields" data-testid="detail-fields">
                        {field("Task id", task.id.to_string())}
                        {field("Device / Resource", format!("{} ({})", task.target.name, task.target.target_type.title()))}
                        {field("Scope", task.scope.clone())}
                        {field("Initiator", initiator_text(&task))}
                        {field("Audit Service", task.audit_service.as_ref().map(|s| s.name.clone()).unwrap_or_else(|| "— (waiting for a slot)".to_owned()))}
                        {field("Errors", task.errors.to_string())}
                    </dl>
                    {actions(&task)}
                    <h3>"Timeline"</h3>
                    <ol class="timeline" data-testid="detail-timeline">
                        {timeline(&task).into_iter().map(|(step, at)| view! {
                            <li><span class="timeline-step">{step}</span>" "<span class="timeline-at">{start_date_title(at, offset)}</span></li>
                        }).collect_view()}
                    </ol>
                }.into_any()
            }
        })
    };
    view! {
        <Show when=move || open.with(Option::is_some)>
            <aside class="drawer" role="dialog" aria-labelledby="detail-title" data-testid="task-detail">
                <button class="button drawer-close" data-testid="detail-close" aria-label="Close the details" on:click=move |_| open.set(None)>"✕"</button>
                {body}
            </aside>
        </Show>
    }
}
