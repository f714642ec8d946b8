//! The code store: where a function's zip is unpacked and a version's code copied (folders of
//! their own under the temporary directory, removed with them), and what CreateFunction recorded
//! beyond what runs the function.

use std::collections::BTreeMap;
use std::io;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use base64::Engine;
use sha2::{Digest, Sha256};

use super::handler::handler_module;

/// What CreateFunction recorded beyond what runs the function.
#[derive(Clone)]
pub struct Deployment {
    pub runtime: String,
    pub role: String,
    pub description: String,
    pub layers: Vec<String>,
    pub tags: BTreeMap<String, String>,
    pub architectures: Vec<String>,
    pub code_sha256: String,
    pub code_size: u64,
    pub last_modified: String,
    /// Where the zip was unpacked; removed with the function.
    pub dir: PathBuf,
}

/// What the control plane records of a function added from Python.
pub fn default_deployment() -> Deployment {
    Deployment {
        runtime: "python3.12".into(),
        role: "arn:aws:iam::000000000000:role/local-lambda".into(),
        description: String::new(),
        layers: Vec::new(),
        tags: BTreeMap::new(),
        architectures: vec!["x86_64".into()],
        code_sha256: String::new(),
        code_size: 0,
        last_modified: now_iso8601(),
        dir: PathBuf::new(),
    }
}

/// Unpacks `zip` into a folder of its own (Python's zipfile, which keeps paths inside it) and
/// checks the handler's module is there; or says why not (Lambda's InvalidParameterValueException).
pub async fn unpack(
    python: &Path,
    name: &str,
    handler: &str,
    zip: &[u8],
    mut deployment: Deployment,
) -> Result<Deployment, String> {
    let dir =
        std::env::temp_dir().join(format!("lambda-executor-{}-{name}-{}", std::process::id(), uuid::Uuid::new_v4()));
    let archive = dir.with_extension("zip");
    let failed = |why: String| format!("Could not unzip uploaded file: {why}");
    std::fs::write(&archive, zip).map_err(|e| failed(e.to_string()))?;
    let output =
        tokio::process::Command::new(python).args(["-m", "zipfile", "-e"]).arg(&archive).arg(&dir).output().await;
    let _ = std::fs::remove_file(&archive);
    match output {
        Ok(output) if output.status.success() => {}
        Ok(output) => {
            remove_unpacked(&dir);
            return Err(failed(String::from_utf8_lossy(&output.stderr).lines().last().unwrap_or("").to_owned()));
        }
        Err(error) => return Err(failed(error.to_string())),
    }
    if let Err(why) = handler_module(handler, &dir) {
        remove_unpacked(&dir);
        return Err(why.to_string());
    }
    deployment.code_sha256 = base64::engine::general_purpose::STANDARD.encode(Sha256::digest(zip));
    deployment.code_size = zip.len() as u64;
    deployment.last_modified = now_iso8601();
    deployment.dir = dir;
    Ok(deployment)
}

/// Removes a folder of the store's (nothing outside the temporary directory).
pub fn remove_unpacked(dir: &Path) {
    if !dir.as_os_str().is_empty() && dir.starts_with(std::env::temp_dir()) {
        let _ = std::fs::remove_dir_all(dir);
    }
}

/// Copies a folder, its subfolders and symbolic links as they are.
pub fn copy_tree(from: &Path, to: &Path) -> io::Result<()> {
    std::fs::create_dir_all(to)?;
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let target = to.join(entry.file_name());
        let kind = entry.file_type()?;
        if kind.is_symlink() {
            std::os::unix::fs::symlink(std::fs::read_link(entry.path())?, &target)?;
        } else if kind.is_dir() {
            copy_tree(&entry.path(), &target)?;
        } else {
            std::fs::copy(entry.path(), &target)?;
        }
    }
    Ok(())
}

/// Now, as Lambda writes LastModified: 2024-05-01T12:34:56.789+0000.
pub fn now_iso8601() -> String {
    let since_epoch = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default();
    let (days, seconds) = (since_epoch.as_secs() / 86_400, since_epoch.as_secs() % 86_400);
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z.rem_euclid(146_097);
    let year_of_era = (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_index = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * month_index + 2) / 5 + 1;
    let month = if month_index < 10 { month_index + 3 } else { month_index - 9 };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:03}+0000",
        seconds / 3600,
        seconds % 3600 / 60,
        seconds % 60,
        since_epoch.subsec_millis()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn last_modified_is_lambdas_format() {
        let now = now_iso8601();
        assert_eq!(now.len(), "2024-05-01T12:34:56.789+0000".len());
        assert!(now.starts_with("20") && now.ends_with("+0000") && &now[10..11] == "T", "{now}");
    }
}
