//! Which Python runs a function's runtime: Lambda runs `python3.12` under CPython 3.12, and code
//! deployed for it (compiled dependencies above all) may import under no other. The emulator's own
//! interpreter serves the runtime of its version; another runtime is served by `pythonX.Y` from
//! PATH where one is installed with awslambdaric; otherwise by the emulator's own, and CreateFunction
//! says so.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use tokio::process::Command;

#[derive(Default)]
pub struct Interpreters {
    /// By runtime (`python3.12`): the interpreter found, or why none was.
    found: Mutex<HashMap<String, Result<PathBuf, String>>>,
}

impl Interpreters {
    /// The interpreter for `runtime`, or why `own` (the emulator's) serves it though it is not
    /// that version.
    pub async fn for_runtime(&self, runtime: &str, own: &Path) -> Result<PathBuf, String> {
        if let Some(found) = self.found.lock().unwrap().get(runtime) {
            return found.clone();
        }
        let found = find(runtime, own).await;
        self.found.lock().unwrap().insert(runtime.to_owned(), found.clone());
        found
    }

    /// The interpreter found for `runtime` earlier, if one was.
    pub fn known(&self, runtime: &str) -> Option<PathBuf> {
        self.found.lock().unwrap().get(runtime).and_then(|found| found.clone().ok())
    }
}

async fn find(runtime: &str, own: &Path) -> Result<PathBuf, String> {
    let own_version = version_of(own).await.unwrap_or_else(|| "unknown".into());
    if format!("python{own_version}") == runtime {
        return Ok(own.to_owned());
    }
    let on_path = std::env::var_os("PATH")
        .map(|paths| std::env::split_paths(&paths).map(|dir| dir.join(runtime)).find(|path| path.is_file()));
    match on_path.flatten() {
        Some(path) if runs_awslambdaric(&path).await => Ok(path),
        Some(path) => Err(format!(
            "{} has no awslambdaric ({} -m pip install awslambdaric), so it runs under Python {own_version} ({})",
            path.display(),
            path.display(),
            own.display()
        )),
        None => Err(format!("{runtime} is not on PATH, so it runs under Python {own_version} ({})", own.display())),
    }
}

/// "3.12" for an interpreter that is CPython 3.12.
pub async fn version_of(python: &Path) -> Option<String> {
    let script = "import sys; print('%d.%d' % sys.version_info[:2])";
    let output = Command::new(python).args(["-c", script]).output().await.ok()?;
    output.status.success().then(|| String::from_utf8_lossy(&output.stdout).trim().to_owned())
}

async fn runs_awslambdaric(python: &Path) -> bool {
    let output = Command::new(python).args(["-c", "import awslambdaric"]).output().await;
    output.is_ok_and(|output| output.status.success())
}
