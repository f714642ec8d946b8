//! The Lambda control-plane calls `lambda-executor deploy`, `update`, `list` and `delete` make,
//! through the same aws-sdk-lambda client (and HTTP stack) as invocations. Python gets plain
//! dicts; a refused call raises DeployError with one clear line.

use std::collections::HashMap;
use std::future::Future;
use std::time::Duration;

use aws_sdk_lambda::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_lambda::primitives::Blob;
use aws_sdk_lambda::types::{Architecture, Environment, FunctionCode, LastUpdateStatus, Runtime, State};
use aws_sdk_lambda::Client;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList};

use crate::client_config::{client_for, ClientOptions};
use crate::errors::lambda_error;
use crate::runtime;

/// A function's configuration as a dict, from any output that carries one (CreateFunction's,
/// UpdateFunctionCode's, ... have the same fields as FunctionConfiguration, but not its type).
macro_rules! configuration_dict {
    ($py:expr, $configuration:expr) => {{
        let configuration = $configuration;
        let dict = PyDict::new($py);
        dict.set_item("name", configuration.function_name())?;
        dict.set_item("arn", configuration.function_arn())?;
        dict.set_item("runtime", configuration.runtime().map(|r| r.as_str()))?;
        dict.set_item("role", configuration.role())?;
        dict.set_item("handler", configuration.handler())?;
        dict.set_item("memory", configuration.memory_size())?;
        dict.set_item("timeout", configuration.timeout())?;
        dict.set_item("layers", configuration.layers().iter().filter_map(|layer| layer.arn()).collect::<Vec<_>>())?;
        let environment = configuration.environment().and_then(|e| e.variables()).cloned().unwrap_or_default();
        dict.set_item("environment", environment)?;
        dict.set_item("code_sha256", configuration.code_sha256())?;
        dict.set_item("code_size", configuration.code_size())?;
        dict.set_item("last_modified", configuration.last_modified())?;
        dict.set_item("state", configuration.state().map(|s| s.as_str()))?;
        dict.set_item("architectures", configuration.architectures().iter().map(|a| a.as_str()).collect::<Vec<_>>())?;
        PyResult::Ok(dict)
    }};
}

/// How long `wait_until_ready` waits for Lambda to finish applying an update.
const READY_TIMEOUT: Duration = Duration::from_secs(300);
const READY_POLL: Duration = Duration::from_millis(500);

#[pyclass(module = "lambda_executor._core", frozen)]
pub struct ControlPlane {
    client: Client,
}

/// A call's failure as one line: the operation, Lambda's error code and message.
fn failure<E: ProvideErrorMetadata + std::error::Error + 'static, R: std::fmt::Debug>(
    py: Python<'_>,
    operation: &str,
    error: SdkError<E, R>,
) -> PyErr {
    let (code, message) = match &error {
        SdkError::ServiceError(service) => (
            service.err().code().unwrap_or("Unknown").to_owned(),
            service.err().message().unwrap_or_default().to_owned(),
        ),
        other => ("ConnectionError".to_owned(), aws_sdk_lambda::error::DisplayErrorContext(other).to_string()),
    };
    let text = if message.is_empty() { format!("{operation}: {code}") } else { format!("{operation}: {code}: {message}") };
    lambda_error(py, "DeployError", (text, code), None)
}

fn is_not_found<E: ProvideErrorMetadata, R>(error: &SdkError<E, R>) -> bool {
    matches!(error, SdkError::ServiceError(service) if service.err().code() == Some("ResourceNotFoundException"))
}

impl ControlPlane {
    fn run<T: Send>(&self, py: Python<'_>, call: impl Future<Output = T> + Send) -> T {
        py.detach(|| runtime::get().block_on(call))
    }
}

#[pymethods]
impl ControlPlane {
    #[new]
    #[pyo3(signature = (*, region=None, profile=None, endpoint_url=None))]
    fn new(py: Python<'_>, region: Option<String>, profile: Option<String>, endpoint_url: Option<String>) -> PyResult<Self> {
        let options = ClientOptions { region, profile, endpoint_url };
        let client = py
            .detach(|| runtime::get().block_on(client_for(&options)))
            .map_err(|error| lambda_error(py, "ConfigurationError", (error.to_string(),), None))?;
        Ok(Self { client })
    }

    /// The function's configuration with its tags and reserved concurrency; None if there is none.
    fn get_function<'py>(&self, py: Python<'py>, name: &str) -> PyResult<Option<Bound<'py, PyDict>>> {
        let output = match self.run(py, self.client.get_function().function_name(name).send()) {
            Ok(output) => output,
            Err(error) if is_not_found(&error) => return Ok(None),
            Err(error) => return Err(failure(py, "GetFunction", error)),
        };
        let Some(configuration) = output.configuration() else { return Ok(None) };
        let function = configuration_dict!(py, configuration)?;
        function.set_item("tags", output.tags().cloned().unwrap_or_default())?;
        function.set_item("reserved_concurrency", output.concurrency().and_then(|c| c.reserved_concurrent_executions()))?;
        Ok(Some(function))
    }

    #[pyo3(signature = (name, package, *, role, handler, runtime, memory, timeout, layers, environment, tags, architecture))]
    #[allow(clippy::too_many_arguments)]
    fn create_function<'py>(
        &self,
        py: Python<'py>,
        name: &str,
        package: Vec<u8>,
        role: &str,
        handler: &str,
        runtime: &str,
        memory: i32,
        timeout: i32,
        layers: Vec<String>,
        environment: HashMap<String, String>,
        tags: HashMap<String, String>,
        architecture: &str,
    ) -> PyResult<Bound<'py, PyDict>> {
        let call = self
            .client
            .create_function()
            .function_name(name)
            .code(FunctionCode::builder().zip_file(Blob::new(package)).build())
            .role(role)
            .handler(handler)
            .runtime(Runtime::from(runtime))
            .memory_size(memory)
            .timeout(timeout)
            .set_layers(Some(layers))
            .environment(Environment::builder().set_variables(Some(environment)).build())
            .set_tags(Some(tags))
            .architectures(Architecture::from(architecture));
        let output = self.run(py, call.send()).map_err(|error| failure(py, "CreateFunction", error))?;
        configuration_dict!(py, &output)
    }

    fn update_code<'py>(&self, py: Python<'py>, name: &str, package: Vec<u8>) -> PyResult<Bound<'py, PyDict>> {
        let call = self.client.update_function_code().function_name(name).zip_file(Blob::new(package));
        let output = self.run(py, call.send()).map_err(|error| failure(py, "UpdateFunctionCode", error))?;
        configuration_dict!(py, &output)
    }

    #[pyo3(signature = (name, *, role, handler, memory, timeout, layers, environment))]
    #[allow(clippy::too_many_arguments)]
    fn update_configuration<'py>(
        &self,
        py: Python<'py>,
        name: &str,
        role: &str,
        handler: &str,
        memory: i32,
        timeout: i32,
        layers: Vec<String>,
        environment: HashMap<String, String>,
    ) -> PyResult<Bound<'py, PyDict>> {
        let call = self
            .client
            .update_function_configuration()
            .function_name(name)
            .role(role)
            .handler(handler)
            .memory_size(memory)
            .timeout(timeout)
            .set_layers(Some(layers))
            .environment(Environment::builder().set_variables(Some(environment)).build());
        let output = self.run(py, call.send()).map_err(|error| failure(py, "UpdateFunctionConfiguration", error))?;
        configuration_dict!(py, &output)
    }

    /// Sets the function's reserved concurrency, or removes it with None.
    #[pyo3(signature = (name, reserved))]
    fn set_reserved_concurrency(&self, py: Python<'_>, name: &str, reserved: Option<i32>) -> PyResult<()> {
        match reserved {
            Some(reserved) => {
                let call = self.client.put_function_concurrency().function_name(name).reserved_concurrent_executions(reserved);
                self.run(py, call.send()).map(drop).map_err(|error| failure(py, "PutFunctionConcurrency", error))
            }
            None => {
                let call = self.client.delete_function_concurrency().function_name(name);
                self.run(py, call.send()).map(drop).map_err(|error| failure(py, "DeleteFunctionConcurrency", error))
            }
        }
    }

    fn delete_function(&self, py: Python<'_>, name: &str) -> PyResult<()> {
        let call = self.client.delete_function().function_name(name);
        self.run(py, call.send()).map(drop).map_err(|error| failure(py, "DeleteFunction", error))
    }

    /// Every function's configuration (all pages).
    fn list_functions<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        let functions = PyList::empty(py);
        let mut marker = None;
        loop {
            let call = self.client.list_functions().set_marker(marker.take());
            let page = self.run(py, call.send()).map_err(|error| failure(py, "ListFunctions", error))?;
            for configuration in page.functions() {
                functions.append(configuration_dict!(py, configuration)?)?;
            }
            match page.next_marker() {
                Some(next) if !next.is_empty() => marker = Some(next.to_owned()),
                _ => return Ok(functions),
            }
        }
    }

    fn list_tags(&self, py: Python<'_>, arn: &str) -> PyResult<HashMap<String, String>> {
        let output = self.run(py, self.client.list_tags().resource(arn).send()).map_err(|error| failure(py, "ListTags", error))?;
        Ok(output.tags().cloned().unwrap_or_default())
    }

    /// Waits until Lambda has applied the last change (State not Pending, LastUpdateStatus not
    /// InProgress): another update before that is refused with ResourceConflictException.
    fn wait_until_ready(&self, py: Python<'_>, name: &str) -> PyResult<()> {
        let deadline = std::time::Instant::now() + READY_TIMEOUT;
        loop {
            let call = self.client.get_function_configuration().function_name(name);
            let configuration = self.run(py, call.send()).map_err(|error| failure(py, "GetFunctionConfiguration", error))?;
            let pending = configuration.state() == Some(&State::Pending)
                || configuration.last_update_status() == Some(&LastUpdateStatus::InProgress);
            if !pending {
                return Ok(());
            }
            if std::time::Instant::now() >= deadline {
                let text = format!("{name} was still being updated after {} s", READY_TIMEOUT.as_secs());
                return Err(lambda_error(py, "DeployError", (text, "Timeout"), None));
            }
            py.detach(|| std::thread::sleep(READY_POLL));
            py.check_signals()?;
        }
    }
}

