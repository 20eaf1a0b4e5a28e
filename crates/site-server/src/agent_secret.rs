//! `taskdeck-site agent-secret create`: a new secret for a remote Audit
//! Service's agent. The secret is printed once; only its argon2id hash is
//! written, into the service's block of the configuration file.

use std::path::Path;

use crate::config::Config;
use crate::{hash_secret, new_client_secret};

/// A secret just made.
#[derive(Debug, Clone)]
pub struct CreatedAgentSecret {
    /// The secret in the clear: shown once, stored nowhere.
    pub secret: String,
    /// Its argon2id PHC string, for `agent_secret_hash`.
    pub hash: String,
}

/// Makes a secret; with `config`, writes its hash as `agent_secret_hash`
/// of remote service `service` of Site `site` there (replacing any
/// earlier secret, so the old one stops working at the next start).
pub fn create(target: Option<(&Path, &str, &str)>) -> Result<CreatedAgentSecret, String> {
    let secret = new_client_secret();
    let hash = hash_secret(&secret)?;
    if let Some((path, site, service)) = target {
        write_hash(path, site, service, &hash)?;
    }
    Ok(CreatedAgentSecret { secret, hash })
}

/// Sets `agent_secret_hash` of the service in the file, keeping the rest
/// of the file as it was; the file is replaced whole, and must still load.
fn write_hash(path: &Path, site: &str, service: &str, hash: &str) -> Result<(), String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let mut document: toml_edit::DocumentMut = text
        .parse()
        .map_err(|e| format!("{} is not valid TOML: {e}", path.display()))?;
    let sites = document
        .get_mut("sites")
        .and_then(|sites| sites.as_array_of_tables_mut())
        .ok_or_else(|| format!("{} has no [[sites]]", path.display()))?;
    let site_table = sites
        .iter_mut()
        .find(|table| table.get("id").and_then(|id| id.as_str()) == Some(site))
        .ok_or_else(|| format!("{} has no Site {site:?}", path.display()))?;
    let service_table = site_table
        .get_mut("audit_services")
        .and_then(|services| services.as_array_of_tables_mut())
        .and_then(|services| {
            services
                .iter_mut()
                .find(|table| table.get("id").and_then(|id| id.as_str()) == Some(service))
        })
        .ok_or_else(|| {
            format!(
                "Site {site:?} in {} has no Audit Service {service:?}",
                path.display()
            )
        })?;
    if service_table.get("runner").and_then(|r| r.as_str()) != Some("remote") {
        return Err(format!(
            "Audit Service {service:?} is not remote; set runner = \"remote\" in its block first"
        ));
    }
    service_table.remove("agent_secret");
    service_table.insert("agent_secret_hash", toml_edit::value(hash));
    let folder = path.parent().filter(|p| !p.as_os_str().is_empty());
    let mut file = tempfile::NamedTempFile::new_in(folder.unwrap_or(Path::new(".")))
        .map_err(|e| format!("cannot write beside {}: {e}", path.display()))?;
    std::io::Write::write_all(&mut file, document.to_string().as_bytes())
        .and_then(|()| file.as_file().sync_all())
        .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    if let Ok(metadata) = std::fs::metadata(path) {
        let _ = std::fs::set_permissions(file.path(), metadata.permissions());
    }
    file.persist(path)
        .map_err(|e| format!("cannot replace {}: {e}", path.display()))?;
    Config::load(path).map_err(|e| e.to_string())?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const CONFIG: &str = r#"# the Site's servers
listen = "127.0.0.1:0"
data_dir = "data"

[[sites]]
id = "hq"
name = "Headquarters"

[[sites.audit_services]]
id = "as-1"
name = "AS-1"
slots = 2

[[sites.audit_services]]
id = "as-branch"
name = "AS-Branch"
slots = 4
runner = "remote"
agent_secret_hash = "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0$old"
"#;

    #[test]
    fn the_hash_replaces_the_old_one_and_the_rest_stays() {
        let folder = tempfile::tempdir().unwrap();
        let path = folder.path().join("site.toml");
        std::fs::write(&path, CONFIG).unwrap();
        let created = create(Some((&path, "hq", "as-branch"))).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.starts_with("# the Site's servers\n"), "{text}");
        assert!(!text.contains(&created.secret));
        assert!(!text.contains("$old"));
        let config = Config::load(&path).unwrap();
        let service = &config.sites[0].audit_services[1];
        let hash = service.agent_secret_hash.as_deref().unwrap();
        assert!(crate::auth::verify_secret(&created.secret, hash));
    }

    #[test]
    fn only_a_remote_service_of_the_file_takes_a_secret() {
        let folder = tempfile::tempdir().unwrap();
        let path = folder.path().join("site.toml");
        std::fs::write(&path, CONFIG).unwrap();
        let error = create(Some((&path, "hq", "as-1"))).unwrap_err();
        assert!(error.contains("not remote"), "{error}");
        let error = create(Some((&path, "hq", "as-9"))).unwrap_err();
        assert!(error.contains("no Audit Service \"as-9\""), "{error}");
        let error = create(Some((&path, "branch", "as-1"))).unwrap_err();
        assert!(error.contains("no Site \"branch\""), "{error}");
        assert_eq!(std::fs::read_to_string(&path).unwrap(), CONFIG);
    }
}
