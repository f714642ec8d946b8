//! Where a handler (`module.function`) lives in a function's code folder.

use std::path::{Path, PathBuf};

/// Why a handler cannot be found.
#[derive(Debug, PartialEq, Eq)]
pub enum HandlerError {
    /// Not of the form `module.function`.
    Malformed { handler: String },
    /// Well formed, but the module's file is not in the folder.
    ModuleMissing { module: String, candidates: [PathBuf; 2], code_dir: PathBuf },
}

impl std::fmt::Display for HandlerError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Malformed { handler } => {
                write!(f, "handler must be 'module.function' (e.g. 'app.handler'), not '{handler}'")
            }
            Self::ModuleMissing { module, candidates: [file, package], code_dir } => write!(
                f,
                "handler module '{module}' not found: no {} or {} in {}",
                file.display(),
                package.display(),
                code_dir.display()
            ),
        }
    }
}

impl std::error::Error for HandlerError {}

/// The file a handler's module lives in under `code_dir`, or why it is not there.
pub fn handler_module(handler: &str, code_dir: &Path) -> Result<PathBuf, HandlerError> {
    let malformed = || HandlerError::Malformed { handler: handler.to_owned() };
    let (module, function) = handler.rsplit_once('.').ok_or_else(malformed)?;
    let is_identifier = |part: &str| {
        !part.is_empty()
            && !part.starts_with(|c: char| c.is_ascii_digit())
            && part.chars().all(|c| c.is_alphanumeric() || c == '_')
    };
    if !module.split(['.', '/']).all(is_identifier) || !is_identifier(function) {
        return Err(malformed());
    }
    let relative = PathBuf::from(module.replace('.', "/"));
    let candidates = [relative.with_extension("py"), relative.join("__init__.py")];
    match candidates.iter().find(|candidate| code_dir.join(candidate).is_file()) {
        Some(found) => Ok(code_dir.join(found)),
        None => {
            Err(HandlerError::ModuleMissing { module: module.to_owned(), candidates, code_dir: code_dir.to_owned() })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_modules_and_packages_and_says_why_not() {
        let dir = std::env::temp_dir().join(format!("handler-test-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("pkg")).unwrap();
        std::fs::write(dir.join("app.py"), "").unwrap();
        std::fs::write(dir.join("pkg/__init__.py"), "").unwrap();
        assert_eq!(handler_module("app.handler", &dir), Ok(dir.join("app.py")));
        assert_eq!(handler_module("pkg.handler", &dir), Ok(dir.join("pkg/__init__.py")));
        assert_eq!(handler_module("handler", &dir), Err(HandlerError::Malformed { handler: "handler".into() }));
        assert_eq!(
            handler_module("1app.handler", &dir),
            Err(HandlerError::Malformed { handler: "1app.handler".into() })
        );
        let missing = handler_module("gone.handler", &dir).unwrap_err();
        assert_eq!(
            missing.to_string(),
            format!("handler module 'gone' not found: no gone.py or gone/__init__.py in {}", dir.display())
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
