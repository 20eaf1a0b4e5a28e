//! Running as a Windows service: the service control manager starts the
//! binary with `--windows-service` and the agent's own arguments (the
//! service's `binPath`), and Stop or a system shutdown stops the agent as
//! SIGTERM does elsewhere.

use std::ffi::OsString;
use std::process::ExitCode;
use std::sync::Mutex;
use std::time::Duration;

use tokio_util::sync::CancellationToken;
use windows_service::service::{
    ServiceControl, ServiceControlAccept, ServiceExitCode, ServiceState, ServiceStatus, ServiceType,
};
use windows_service::service_control_handler::{self, ServiceControlHandlerResult};
use windows_service::{define_windows_service, service_dispatcher};

use crate::cli::Cli;

/// The service's name, as `sc.exe create` registers it.
pub const SERVICE_NAME: &str = "TaskdeckAuditService";

/// The command line, handed from `main` to the service's entry point.
static CLI: Mutex<Option<Cli>> = Mutex::new(None);

define_windows_service!(ffi_service_main, service_main);

/// Hands the process to the service control manager until the service stops.
pub fn run_as_service(cli: Cli) -> ExitCode {
    *CLI.lock().unwrap_or_else(|e| e.into_inner()) = Some(cli);
    match service_dispatcher::start(SERVICE_NAME, ffi_service_main) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("taskdeck-audit-service: cannot run as a Windows service: {error}");
            ExitCode::FAILURE
        }
    }
}

fn service_main(_arguments: Vec<OsString>) {
    let Some(cli) = CLI.lock().unwrap_or_else(|e| e.into_inner()).take() else {
        return;
    };
    let shutdown = CancellationToken::new();
    let stop = shutdown.clone();
    let handler = move |event| match event {
        ServiceControl::Stop | ServiceControl::Shutdown => {
            stop.cancel();
            ServiceControlHandlerResult::NoError
        }
        ServiceControl::Interrogate => ServiceControlHandlerResult::NoError,
        _ => ServiceControlHandlerResult::NotImplemented,
    };
    let status = match service_control_handler::register(SERVICE_NAME, handler) {
        Ok(status) => status,
        Err(error) => {
            tracing::error!(%error, "cannot register with the service control manager");
            return;
        }
    };
    let report = |state, controls_accepted, code| {
        let _ = status.set_service_status(ServiceStatus {
            service_type: ServiceType::OWN_PROCESS,
            current_state: state,
            controls_accepted,
            exit_code: ServiceExitCode::Win32(code),
            checkpoint: 0,
            wait_hint: Duration::from_secs(15),
            process_id: None,
        });
    };
    report(
        ServiceState::Running,
        ServiceControlAccept::STOP | ServiceControlAccept::SHUTDOWN,
        0,
    );
    let exit = crate::run(cli, shutdown, false);
    let code = if exit == ExitCode::SUCCESS { 0 } else { 2 };
    report(ServiceState::Stopped, ServiceControlAccept::empty(), code);
}
