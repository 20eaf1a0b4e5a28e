//! The command line, as `site-task-api.md` fixes it:
//!
//! ```text
//! taskdeck-audit-service --server URL --site SITE --service ID
//!                        --secret-file FILE [--ca FILE] [--slots N] -- PROGRAM [ARG...]
//! ```

use std::path::PathBuf;

use clap::Parser;

/// Runs a remote Audit Service of a Taskdeck Site: takes the service's
/// tasks from the Site server, runs PROGRAM for each, and reports back.
#[derive(Debug, Parser)]
#[command(name = "taskdeck-audit-service", version, about)]
pub struct Cli {
    /// The Site server, e.g. https://site.example.com:8443.
    #[arg(long, value_name = "URL")]
    pub server: String,
    /// The Site's id.
    #[arg(long, value_name = "SITE")]
    pub site: String,
    /// The remote Audit Service's id.
    #[arg(long, value_name = "ID")]
    pub service: String,
    /// A file holding the agent secret (a trailing newline is ignored);
    /// TASKDECK_AGENT_SECRET may give the secret instead.
    #[arg(long, value_name = "FILE")]
    pub secret_file: Option<PathBuf>,
    /// A PEM file of a CA to trust for an https:// server, besides the
    /// system's own. Certificates are always verified.
    #[arg(long, value_name = "FILE")]
    pub ca: Option<PathBuf>,
    /// Run at most this many tasks at once (at most the service's slots).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub slots: Option<u32>,
    /// Run as a Windows service (the service control manager starts it so).
    #[cfg(windows)]
    #[arg(long, hide = true)]
    pub windows_service: bool,
    /// The program to run for each task, and its arguments; `{kind}`,
    /// `{target}`, `{target_type}`, `{scope}` and `{id}` are filled in.
    #[arg(last = true, required = true, value_name = "PROGRAM [ARG...]")]
    pub program: Vec<String>,
}

/// Reads the secret: from the file (a trailing newline is ignored), or
/// from `env` when no file is named.
pub fn read_secret(file: Option<&std::path::Path>, env: Option<String>) -> Result<String, String> {
    let secret = match file {
        Some(path) => std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read the secret file {}: {e}", path.display()))?,
        None => env.ok_or(
            "no agent secret: give --secret-file FILE, or set TASKDECK_AGENT_SECRET".to_owned(),
        )?,
    };
    let secret = secret
        .strip_suffix('\n')
        .map(|s| s.strip_suffix('\r').unwrap_or(s))
        .unwrap_or(&secret);
    if secret.is_empty() {
        return Err("the agent secret is empty".to_owned());
    }
    Ok(secret.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_trailing_newline_is_not_part_of_the_secret() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("secret");
        std::fs::write(&path, "s3cret\n").unwrap();
        assert_eq!(read_secret(Some(&path), None).unwrap(), "s3cret");
        std::fs::write(&path, "s3cret\r\n").unwrap();
        assert_eq!(read_secret(Some(&path), None).unwrap(), "s3cret");
        std::fs::write(&path, "s3cret  ").unwrap();
        assert_eq!(read_secret(Some(&path), None).unwrap(), "s3cret  ");
        assert_eq!(read_secret(None, Some("env".into())).unwrap(), "env");
        // The file wins over the environment.
        assert_eq!(
            read_secret(Some(&path), Some("env".into())).unwrap(),
            "s3cret  "
        );
        std::fs::write(&path, "\n").unwrap();
        assert!(read_secret(Some(&path), None).is_err());
        assert!(read_secret(None, None)
            .unwrap_err()
            .contains("--secret-file"));
        let missing = dir.path().join("missing");
        assert!(read_secret(Some(&missing), None)
            .unwrap_err()
            .contains("cannot read"));
    }

    #[test]
    fn the_program_comes_after_two_dashes() {
        let cli = Cli::try_parse_from([
            "taskdeck-audit-service",
            "--server",
            "http://127.0.0.1:1",
            "--site",
            "hq",
            "--service",
            "as-branch",
            "--slots",
            "2",
            "--",
            "/opt/audit/run.sh",
            "{kind}",
            "--verbose",
        ])
        .unwrap();
        assert_eq!(cli.program, ["/opt/audit/run.sh", "{kind}", "--verbose"]);
        assert_eq!(cli.slots, Some(2));
        assert!(Cli::try_parse_from([
            "taskdeck-audit-service",
            "--server",
            "http://x",
            "--site",
            "hq",
            "--service",
            "s"
        ])
        .is_err());
    }
}
