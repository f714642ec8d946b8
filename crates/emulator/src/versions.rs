//! Published versions and aliases of LocalLambda's functions, and which version an Invoke of a
//! qualifier runs.
//!
//! A version is an immutable snapshot of $LATEST's code and configuration: its code is copied
//! into a folder of its own, kept until the version or its function is deleted. Its
//! environments serve it alone. An alias names a version, or splits invocations between two
//! with a weight (RoutingConfig.AdditionalVersionWeights).

use std::collections::{BTreeMap, HashMap};
use std::io;
use std::path::Path;
use std::sync::{Arc, MutexGuard};

use hyper::StatusCode;

use super::control_api::{remove_unpacked, ControlError, Deployment};
use super::model::function::{FunctionKind, FunctionSpec};
use super::model::invocation::Runnable;
use super::model::version::LATEST;
use super::Emulator;

pub struct Version {
    pub spec: Arc<FunctionSpec>,
    /// What GetFunction and ListVersionsByFunction report of it (its own code folder included).
    pub deployment: Deployment,
    /// The $LATEST it was published from: publishing again with nothing changed returns it.
    source: Arc<FunctionSpec>,
}

#[derive(Clone)]
pub struct Alias {
    /// "$LATEST" or a version number.
    pub version: String,
    pub description: String,
    /// A second version and the share of invocations it runs.
    pub additional: Option<(u32, f64)>,
    pub revision_id: String,
}

impl Alias {
    /// The version one invocation through the alias runs.
    fn pick(&self) -> String {
        match self.additional {
            Some((other, weight)) if fastrand::f64() < weight => other.to_string(),
            _ => self.version.clone(),
        }
    }
}

/// One function's versions and aliases.
#[derive(Default)]
pub struct Published {
    pub versions: BTreeMap<u32, Version>,
    /// The last number given: Lambda never gives a number twice, even after a deletion.
    last_number: u32,
    pub aliases: BTreeMap<String, Alias>,
}

/// A qualifier that names no version or alias of the function.
pub struct UnknownQualifier;

impl Emulator {
    pub(crate) fn published(&self) -> MutexGuard<'_, HashMap<String, Published>> {
        self.published.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

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
    ) -> Result<(Arc<FunctionSpec>, Deployment, Option<u32>), ControlError> {
        let latest = self.spec(name).map_err(|_| ControlError::not_found(self, name))?;
        let Some(qualifier) = qualifier.filter(|qualifier| *qualifier != LATEST) else {
            return Ok((latest, self.deployment(name), None));
        };
        let unknown = || ControlError::not_found(self, &format!("{name}:{qualifier}"));
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
    ) -> Result<u32, ControlError> {
        let spec = self.spec(name).map_err(|_| ControlError::not_found(self, name))?;
        let mut deployment = self.deployment(name);
        if let Some(expected) = code_sha256.filter(|expected| *expected != deployment.code_sha256) {
            return Err(ControlError::invalid(format!(
                "CodeSHA256 ({expected}) is different from current CodeSHA256 in $LATEST ({}). \
                 Please try again with the CodeSHA256 in $LATEST.",
                deployment.code_sha256
            )));
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
            FunctionKind::Python { handler, code_dir, variables } => {
                let copy = std::env::temp_dir().join(format!(
                    "lambda-executor-{}-{name}-version-{}",
                    std::process::id(),
                    uuid::Uuid::new_v4()
                ));
                let (from, to) = (code_dir.clone(), copy.clone());
                let copied = tokio::task::spawn_blocking(move || copy_tree(&from, &to)).await;
                if let Err(error) = copied.unwrap_or_else(|panic| Err(io::Error::other(panic.to_string()))) {
                    remove_unpacked(&copy);
                    return Err(ControlError::new(
                        StatusCode::INTERNAL_SERVER_ERROR,
                        "ServiceException",
                        format!("cannot copy the code of {name}: {error}"),
                    ));
                }
                deployment.dir = copy.clone();
                FunctionKind::Python { handler: handler.clone(), code_dir: copy, variables: variables.clone() }
            }
            FunctionKind::Synthetic { latency } => FunctionKind::Synthetic { latency: *latency },
        };
        if let Some(description) = description {
            deployment.description = description.to_owned();
        }
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
            remove_unpacked(&version.deployment.dir);
            return Err(ControlError::not_found(self, name));
        }
        let function = published.entry(name.to_owned()).or_default();
        function.last_number += 1;
        function.versions.insert(function.last_number, version);
        Ok(function.last_number)
    }

    /// Deletes a published version, unless an alias still names it.
    pub(crate) fn delete_version(&self, name: &str, number: u32) -> Result<(), ControlError> {
        let mut published = self.published();
        let Some(function) = published.get_mut(name).filter(|f| f.versions.contains_key(&number)) else {
            return Err(ControlError::not_found(self, &format!("{name}:{number}")));
        };
        let referring: Vec<&str> = function
            .aliases
            .iter()
            .filter(|(_, alias)| {
                alias.version == number.to_string() || alias.additional.is_some_and(|(v, _)| v == number)
            })
            .map(|(alias, _)| alias.as_str())
            .collect();
        if !referring.is_empty() {
            return Err(ControlError::new(
                StatusCode::CONFLICT,
                "ResourceConflictException",
                format!(
                    "Unable to delete version because the following aliases reference it: [{}]",
                    referring.join(", ")
                ),
            ));
        }
        if let Some(version) = function.versions.remove(&number) {
            remove_unpacked(&version.deployment.dir);
        }
        Ok(())
    }

    /// Forgets a deleted function's versions and aliases, and removes their code.
    pub(crate) fn forget_versions(&self, name: &str) {
        if let Some(function) = self.published().remove(name) {
            for version in function.versions.values() {
                remove_unpacked(&version.deployment.dir);
            }
        }
    }
}

/// Copies a folder, its subfolders and symbolic links as they are.
fn copy_tree(from: &Path, to: &Path) -> io::Result<()> {
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
