//! `lambda_executor._core.ControlPlane`: the deploy calls (crates/deploy) as the CLI's Python
//! code makes them. Configurations and roles come back as dicts; a refused call raises DeployError.

use std::collections::HashMap;
use std::future::Future;
use std::time::{Duration, Instant};

use lambda_executor_deploy::{ConfigurationUpdate, ControlPlane as Calls, DeployError, NewFunction, Package};
use lambda_executor_engine::{runtime, SpillLocation};
use pyo3::prelude::*;
use pyo3::types::PyDict;

use crate::client_options::client_options;
use crate::errors::{Error, Result};
use crate::payload::to_python;

/// How long `wait_until_ready` waits for Lambda to finish applying an update.
const READY_TIMEOUT: Duration = Duration::from_secs(300);
const READY_POLL: Duration = Duration::from_millis(500);

/// A package as Python gives it: the zip's bytes, or the (bucket, key) of a zip stored in S3.
#[derive(FromPyObject)]
enum PackageArgument {
    Zip(Vec<u8>),
    Stored((String, String)),
}

impl From<PackageArgument> for Package {
    fn from(package: PackageArgument) -> Self {
        match package {
            PackageArgument::Zip(zip) => Package::Zip(zip),
            PackageArgument::Stored((bucket, key)) => Package::Stored { bucket, key },
        }
    }
}

#[pyclass(module = "lambda_executor._core", name = "ControlPlane", frozen)]
pub struct PyControlPlane {
    calls: Calls,
}

/// Runs a call on the engine's runtime without holding the GIL.
fn run<T: Send>(py: Python<'_>, call: impl Future<Output = T> + Send) -> T {
    py.detach(|| runtime::get().block_on(call))
}

/// A call's result, with its configuration (or list of them) as Python values.
fn answer<T: serde::Serialize>(py: Python<'_>, result: Result<T, DeployError>) -> Result<Py<PyAny>> {
    to_python(py, &result?)
}

#[pymethods]
impl PyControlPlane {
    /// `iam_endpoint_url` is IAM's own endpoint: the client's `endpoint_url` is Lambda's alone.
    #[new]
    #[pyo3(signature = (*, client=None, iam_endpoint_url=None))]
    fn new(py: Python<'_>, client: Option<&Bound<'_, PyDict>>, iam_endpoint_url: Option<&str>) -> Result<Self> {
        let options = client_options(client)?;
        let calls = run(py, Calls::connect(&options, iam_endpoint_url))?;
        Ok(Self { calls })
    }

    /// The function's configuration with its tags and reserved concurrency; None if there is none.
    fn get_function(&self, py: Python<'_>, name: &str) -> Result<Py<PyAny>> {
        answer(py, run(py, self.calls.get_function(name)))
    }

    #[pyo3(signature = (name, package, *, role, handler, runtime, memory, timeout, layers, environment, tags, architecture))]
    #[allow(clippy::too_many_arguments)]
    fn create_function(
        &self,
        py: Python<'_>,
        name: String,
        package: PackageArgument,
        role: String,
        handler: String,
        runtime: String,
        memory: i32,
        timeout: i32,
        layers: Vec<String>,
        environment: HashMap<String, String>,
        tags: HashMap<String, String>,
        architecture: String,
    ) -> Result<Py<PyAny>> {
        let function = NewFunction {
            name,
            package: package.into(),
            role,
            handler,
            runtime,
            memory,
            timeout,
            layers,
            environment,
            tags,
            architecture,
        };
        answer(py, run(py, self.calls.create_function(function)))
    }

    fn update_code(&self, py: Python<'_>, name: &str, package: PackageArgument) -> Result<Py<PyAny>> {
        answer(py, run(py, self.calls.update_code(name, package.into())))
    }

    /// Publishes `package` as a new version of layer `name` (arn, version, description).
    #[pyo3(signature = (name, package, *, description, runtime, architecture))]
    fn publish_layer(
        &self,
        py: Python<'_>,
        name: &str,
        package: PackageArgument,
        description: &str,
        runtime: &str,
        architecture: &str,
    ) -> Result<Py<PyAny>> {
        answer(py, run(py, self.calls.publish_layer(name, package.into(), description, runtime, architecture)))
    }

    /// Every version of layer `name`, newest first (none if there is no such layer).
    fn layer_versions(&self, py: Python<'_>, name: &str) -> Result<Py<PyAny>> {
        answer(py, run(py, self.calls.layer_versions(name)))
    }

    #[pyo3(signature = (name, *, role, handler, memory, timeout, layers, environment))]
    #[allow(clippy::too_many_arguments)]
    fn update_configuration(
        &self,
        py: Python<'_>,
        name: &str,
        role: String,
        handler: String,
        memory: i32,
        timeout: i32,
        layers: Vec<String>,
        environment: HashMap<String, String>,
    ) -> Result<Py<PyAny>> {
        let update = ConfigurationUpdate { role, handler, memory, timeout, layers, environment };
        answer(py, run(py, self.calls.update_configuration(name, update)))
    }

    /// Sets the function's reserved concurrency, or removes it with None.
    #[pyo3(signature = (name, reserved))]
    fn set_reserved_concurrency(&self, py: Python<'_>, name: &str, reserved: Option<i32>) -> Result<()> {
        Ok(run(py, self.calls.set_reserved_concurrency(name, reserved))?)
    }

    /// Publishes $LATEST as a version and returns its number and description (the last one's,
    /// with its own description, if nothing changed); with `code_sha256`, only if $LATEST's code
    /// is still that.
    #[pyo3(signature = (name, *, code_sha256=None, description=None))]
    fn publish_version(
        &self,
        py: Python<'_>,
        name: &str,
        code_sha256: Option<String>,
        description: Option<String>,
    ) -> Result<(String, String)> {
        Ok(run(py, self.calls.publish_version(name, code_sha256, description))?)
    }

    /// Sets the function's memory size alone; its configuration after.
    fn set_memory(&self, py: Python<'_>, name: &str, memory: i32) -> Result<Py<PyAny>> {
        answer(py, run(py, self.calls.set_memory(name, memory)))
    }

    /// The function's published versions, each as (number, description).
    fn versions(&self, py: Python<'_>, name: &str) -> Result<Vec<(String, String)>> {
        Ok(run(py, self.calls.versions(name))?)
    }

    /// The function's aliases, each as (name, version).
    fn aliases(&self, py: Python<'_>, name: &str) -> Result<Vec<(String, String)>> {
        Ok(run(py, self.calls.aliases(name))?)
    }

    /// Deletes an alias (none there is no error).
    fn delete_alias(&self, py: Python<'_>, name: &str, alias: &str) -> Result<()> {
        Ok(run(py, self.calls.delete_alias(name, alias))?)
    }

    /// Deletes a published version (none there is no error).
    fn delete_version(&self, py: Python<'_>, name: &str, version: &str) -> Result<()> {
        Ok(run(py, self.calls.delete_version(name, version))?)
    }

    /// Points alias `alias` at `version` alone, creating it if needed; returns the version it
    /// pointed at before, or None if it was created.
    fn set_alias(&self, py: Python<'_>, name: &str, alias: &str, version: &str) -> Result<Option<String>> {
        Ok(run(py, self.calls.set_alias(name, alias, version))?)
    }

    fn delete_function(&self, py: Python<'_>, name: &str) -> Result<()> {
        Ok(run(py, self.calls.delete_function(name))?)
    }

    /// Every function's configuration (all pages).
    fn list_functions(&self, py: Python<'_>) -> Result<Py<PyAny>> {
        answer(py, run(py, self.calls.list_functions()))
    }

    fn list_tags(&self, py: Python<'_>, arn: &str) -> Result<HashMap<String, String>> {
        Ok(run(py, self.calls.list_tags(arn))?)
    }

    /// The IAM role named `name` (name, arn, tags); None if there is none.
    fn get_role(&self, py: Python<'_>, name: &str) -> Result<Py<PyAny>> {
        answer(py, run(py, self.calls.get_role(name)))
    }

    /// Creates a role that Lambda may assume, with the basic execution policy alone (logs).
    #[pyo3(signature = (name, *, description, tags))]
    fn create_execution_role(
        &self,
        py: Python<'_>,
        name: &str,
        description: &str,
        tags: HashMap<String, String>,
    ) -> Result<Py<PyAny>> {
        answer(py, run(py, self.calls.create_execution_role(name, description, tags)))
    }

    /// Lets the role `name` (`arn`) read and write the objects of the spill location `url`.
    fn allow_spill(&self, py: Python<'_>, name: &str, arn: &str, url: &str) -> Result<()> {
        let location = SpillLocation::parse(url).map_err(Error::Invalid)?;
        Ok(run(py, self.calls.allow_spill(name, arn, &location.bucket, &location.prefix))?)
    }

    /// Detaches the role's managed policies, deletes its inline ones, then the role.
    fn delete_role(&self, py: Python<'_>, name: &str) -> Result<()> {
        Ok(run(py, self.calls.delete_role(name))?)
    }

    /// Waits until Lambda has applied the last change: another update before then is refused
    /// with ResourceConflictException. Ctrl-C interrupts the wait.
    fn wait_until_ready(&self, py: Python<'_>, name: &str) -> Result<()> {
        let deadline = Instant::now() + READY_TIMEOUT;
        while run(py, self.calls.update_in_progress(name))? {
            if Instant::now() >= deadline {
                let text = format!("{name} was still being updated after {} s", READY_TIMEOUT.as_secs());
                return Err(Error::DeployTimedOut(text));
            }
            py.detach(|| std::thread::sleep(READY_POLL));
            py.check_signals()?;
        }
        Ok(())
    }
}
