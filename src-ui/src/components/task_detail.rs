//! The task detail drawer: every field of one task, its progress and
//! errors, and a timeline of its states. Read from the Site when opened, and
//! again when the task changes.

use leptos::prelude::*;
use site_api::{Task, TaskId};

use crate::bridge;
use crate::format::{
    initiator_text, progress_percent, start_date_title, status_class, status_label, timeline,
};
use taskdeck_ipc::request;

/// The drawer for `open` (none: closed). `changes` ticks when tasks change.
#[component]
pub fn TaskDetail(open: RwSignal<Option<TaskId>>, changes: RwSignal<u64>) -> impl IntoView {
    // Read afresh when another task is opened or tasks change; a resource
    // answers for the latest of them only.
    let read = LocalResource::new(move || {
        changes.track();
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
    let task = move || read.get().flatten();
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
