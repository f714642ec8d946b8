//! The service's operations on published versions: publishing $LATEST, deleting a version,
//! which version an invocation of a qualifier runs, and what a qualifier names.

use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::emulator::Emulator;
use crate::model::function::{FunctionKind, FunctionSpec};
use crate::model::invocation::Runnable;
use crate::model::version::LATEST;
use crate::state::code_store::{copy_tree, new_revision_id, remove_unpacked, Deployment};
use crate::state::versions::Version;

/// Why an operation on versions failed.
pub enum VersionError {
    /// No such function, or no such version of it: its name, with the qualifier if one was given.
    NotFound(String),
    /// The CodeSha256 a publisher expected is not $LATEST's.
    CodeSha256Differs { expected: String, latest: String },
    /// The version's own copy of the code could not be made.
    CodeNotCopied { name: String, error: io::Error },
    /// Aliases still name the version (these).
    NamedByAliases(Vec<String>),
}

/// A qualifier that names no version or alias of the function.
pub struct UnknownQualifier;

impl Emulator {
    /// The version an invocation of `qualifier` runs: None for $LATEST (as it is when the
    /// invocation starts). An alias with a routing configuration picks one per call.
    pub(crate) fn resolve(&self, name: &str, qualifier: Option<&str>) -> Result<Option<Runnable>, UnknownQualifier> {
        let qualifier = match qualifier {
            None | Some(LATEST) => return Ok(None),
            Some(qualifier) => qualifier,
        };
        let published = self.published();
        let function = published.get(name).ok_or(UnknownQualifier)?;
        let version = match function.aliases.get(qualifier) {
            Some(alias) => alias.pick(),
            None => qualifier.to_owned(),
        };
        if version == LATEST {
            return Ok(None);
        }
        let number = version.parse().map_err(|_| UnknownQualifier)?;
        let spec = function.versions.get(&number).ok_or(UnknownQualifier)?.spec.clone();
        Ok(Some(Runnable { number, spec }))
    }

    /// What runs as the version `qualifier` names ($LATEST without one; an alias's own version),
    /// with its control-plane record and number.
    pub(crate) fn version_record(
        &self,
        name: &str,
        qualifier: Option<&str>,
    ) -> Result<(Arc<FunctionSpec>, Deployment, Option<u32>), VersionError> {
        // Not found names the qualifier asked for, $LATEST too (LocalStack's test_ops_with_arn_qualifier_mismatch).
        let as_asked = || qualifier.map_or_else(|| name.to_owned(), |qualifier| format!("{name}:{qualifier}"));
        let latest = self.spec(name).map_err(|_| VersionError::NotFound(as_asked()))?;
        let Some(qualifier) = qualifier.filter(|qualifier| *qualifier != LATEST) else {
            return Ok((latest, self.deployment(name), None));
        };
        let unknown = || VersionError::NotFound(format!("{name}:{qualifier}"));
        let published = self.published();
        let function = published.get(name).ok_or_else(unknown)?;
        let version = function.aliases.get(qualifier).map_or(qualifier, |alias| alias.version.as_str());
        if version == LATEST {
            drop(published);
            return Ok((latest, self.deployment(name), None));
        }
        let number: u32 = version.parse().map_err(|_| unknown())?;
        let found = function.versions.get(&number).ok_or_else(unknown)?;
        Ok((found.spec.clone(), found.deployment.clone(), Some(number)))
    }

    /// Publishes $LATEST as a new version and returns its number, or the last version's if
    /// nothing changed since it was published. `code_sha256`, if given, must be $LATEST's.
    pub(crate) async fn publish_version(
        &self,
        name: &str,
        description: Option<&str>,
        code_sha256: Option<&str>,
    ) -> Result<u32, VersionError> {
        let spec = self.spec(name).map_err(|_| VersionError::NotFound(name.to_owned()))?;
        let mut deployment = self.deployment(name);
        if let Some(expected) = code_sha256.filter(|expected| *expected != deployment.code_sha256) {
            let (expected, latest) = (expected.to_owned(), deployment.code_sha256);
            return Err(VersionError::CodeSha256Differs { expected, latest });
        }
        if let Some((&number, _)) = self
            .published()
            .get(name)
            .and_then(|f| f.versions.last_key_value())
            .filter(|(_, v)| Arc::ptr_eq(&v.source, &spec))
        {
            return Ok(number);
        }
        let kind = match &spec.kind {
            FunctionKind::Python { handler, code_dir, variables, opt_dir } => {
                // The version keeps its own copy of the code and of its layers' files.
                let code_copy = copy_for_version(name, "version", code_dir).await?;
                let opt_copy = match opt_dir {
                    Some(opt_dir) => match copy_for_version(name, "version-opt", opt_dir).await {
                        Ok(copy) => Some(copy),
                        Err(error) => {
                            remove_unpacked(&code_copy);
                            return Err(error);
                        }
                    },
                    None => None,
                };
                deployment.dir = code_copy.clone();
                deployment.opt_dir = opt_copy.clone();
                FunctionKind::Python {
                    handler: handler.clone(),
                    code_dir: code_copy,
                    variables: variables.clone(),
                    opt_dir: opt_copy,
                }
            }
            synthetic @ FunctionKind::Synthetic { .. } => synthetic.clone(),
        };
        if let Some(description) = description {
            deployment.description = description.to_owned();
        }
        deployment.revision_id = new_revision_id();
        let version = Version {
            spec: Arc::new(FunctionSpec {
                name: name.to_owned(),
                kind,
                timeout: spec.timeout,
                memory_mb: spec.memory_mb,
            }),
            deployment,
            source: spec,
        };
        let mut published = self.published();
        if !self.exists(name) {
            // Deleted while its code was copied.
            version.deployment.remove_files();
            return Err(VersionError::NotFound(name.to_owned()));
        }
        let function = published.entry(name.to_owned()).or_default();
        function.last_number += 1;
        function.versions.insert(function.last_number, version);
        let number = function.last_number;
        drop(published);
        // Publishing is a change to $LATEST too (LocalStack's test_function_revisions_version_and_alias).
        if let Some(latest) = self.deployments().get_mut(name) {
            latest.revision_id = new_revision_id();
        }
        Ok(number)
    }

    /// Deletes a published version, unless an alias still names it.
    pub(crate) fn delete_version(&self, name: &str, number: u32) -> Result<(), VersionError> {
        let mut published = self.published();
        let Some(function) = published.get_mut(name).filter(|f| f.versions.contains_key(&number)) else {
            return Err(VersionError::NotFound(format!("{name}:{number}")));
        };
        let referring: Vec<String> = function
            .aliases
            .iter()
            .filter(|(_, alias)| {
                alias.version == number.to_string() || alias.additional.is_some_and(|(v, _)| v == number)
            })
            .map(|(alias, _)| alias.clone())
            .collect();
        if !referring.is_empty() {
            return Err(VersionError::NamedByAliases(referring));
        }
        if let Some(version) = function.versions.remove(&number) {
            version.deployment.remove_files();
        }
        Ok(())
    }
}

/// A copy of `from` in a folder of its own for a version of `name`.
async fn copy_for_version(name: &str, label: &str, from: &Path) -> Result<PathBuf, VersionError> {
    let copy = std::env::temp_dir().join(format!(
        "lambda-executor-{}-{name}-{label}-{}",
        std::process::id(),
        uuid::Uuid::new_v4()
    ));
    let (source, target) = (from.to_owned(), copy.clone());
    let copied = tokio::task::spawn_blocking(move || copy_tree(&source, &target)).await;
    if let Err(error) = copied.unwrap_or_else(|panic| Err(io::Error::other(panic.to_string()))) {
        remove_unpacked(&copy);
        return Err(VersionError::CodeNotCopied { name: name.to_owned(), error });
    }
    Ok(copy)
}
