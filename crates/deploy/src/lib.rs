//! The Lambda control-plane calls `lambda-executor deploy`, `update`, `list` and `delete` make
//! (with `--publish` and `--alias`, versions and aliases too),
//! through the engine's shared aws-sdk-lambda client (and HTTP stack); with `--create-role` and
//! `delete --role`, the IAM calls of [`roles`] on the same configuration. A refused call is a
//! [`DeployError`] that reads as one line.

pub mod layers;
pub mod roles;

use std::collections::HashMap;

use aws_sdk_lambda::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_lambda::primitives::Blob;
use aws_sdk_lambda::types::{
    AliasRoutingConfiguration, Architecture, Environment, FunctionCode, LastUpdateStatus, Runtime, State,
};
use aws_sdk_lambda::Client;
use lambda_executor_engine::sentence;
use lambda_executor_engine::{client_for, resend_unsent_retry_config, ClientOptions, ConfigError, ResendUnsent};
use serde::Serialize;

/// A function's configuration, as `lambda-executor list` and the deploy code read it.
#[derive(Debug, Serialize)]
pub struct FunctionConfig {
    pub name: Option<String>,
    pub arn: Option<String>,
    pub runtime: Option<String>,
    pub role: Option<String>,
    pub handler: Option<String>,
    pub memory: Option<i32>,
    pub timeout: Option<i32>,
    pub layers: Vec<String>,
    pub environment: HashMap<String, String>,
    pub code_sha256: Option<String>,
    pub code_size: i64,
    pub last_modified: Option<String>,
    pub state: Option<String>,
    pub architectures: Vec<String>,
}

/// A function's configuration with its tags and reserved concurrency (GetFunction).
#[derive(Debug, Serialize)]
pub struct FunctionDetails {
    #[serde(flatten)]
    pub configuration: FunctionConfig,
    pub tags: HashMap<String, String>,
    pub reserved_concurrency: Option<i32>,
}

/// A deployment package: the zip itself, sent in the request (50 MB at most), or a zip stored
/// in S3 that Lambda reads (250 MB unzipped at most).
pub enum Package {
    Zip(Vec<u8>),
    Stored { bucket: String, key: String },
}

impl Package {
    fn function_code(self) -> FunctionCode {
        match self {
            Package::Zip(zip) => FunctionCode::builder().zip_file(Blob::new(zip)).build(),
            Package::Stored { bucket, key } => FunctionCode::builder().s3_bucket(bucket).s3_key(key).build(),
        }
    }
}

/// What CreateFunction is given.
pub struct NewFunction {
    pub name: String,
    pub package: Package,
    pub role: String,
    pub handler: String,
    pub runtime: String,
    pub memory: i32,
    pub timeout: i32,
    pub layers: Vec<String>,
    pub environment: HashMap<String, String>,
    pub tags: HashMap<String, String>,
    pub architecture: String,
}

/// What UpdateFunctionConfiguration sets.
pub struct ConfigurationUpdate {
    pub role: String,
    pub handler: String,
    pub memory: i32,
    pub timeout: i32,
    pub layers: Vec<String>,
    pub environment: HashMap<String, String>,
}

/// A control-plane call that failed: the operation, Lambda's error code and its message.
#[derive(Debug)]
pub struct DeployError {
    pub operation: &'static str,
    pub code: String,
    pub message: String,
}

impl std::fmt::Display for DeployError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.message.as_str() {
            "" => write!(f, "{}: {}", self.operation, self.code),
            message => write!(f, "{}: {}: {message}", self.operation, self.code),
        }
    }
}

impl std::error::Error for DeployError {}

impl DeployError {
    fn of<E: ProvideErrorMetadata + std::error::Error + 'static, R: std::fmt::Debug + 'static>(
        operation: &'static str,
        error: SdkError<E, R>,
    ) -> Self {
        let (code, message) = match &error {
            SdkError::ServiceError(service) => (
                service.err().code().unwrap_or("Unknown").to_owned(),
                service.err().message().unwrap_or_default().to_owned(),
            ),
            other => ("ConnectionError".to_owned(), sentence(other)),
        };
        Self { operation, code, message }
    }
}

fn is_not_found<E: ProvideErrorMetadata, R>(error: &SdkError<E, R>) -> bool {
    matches!(error, SdkError::ServiceError(service) if service.err().code() == Some("ResourceNotFoundException"))
}

/// A FunctionConfig from any output that carries one (CreateFunction's, UpdateFunctionCode's, ...
/// have the same fields as FunctionConfiguration, but not its type).
macro_rules! function_config {
    ($configuration:expr) => {{
        let configuration = $configuration;
        FunctionConfig {
            name: configuration.function_name().map(str::to_owned),
            arn: configuration.function_arn().map(str::to_owned),
            runtime: configuration.runtime().map(|runtime| runtime.as_str().to_owned()),
            role: configuration.role().map(str::to_owned),
            handler: configuration.handler().map(str::to_owned),
            memory: configuration.memory_size(),
            timeout: configuration.timeout(),
            layers: configuration.layers().iter().filter_map(|layer| layer.arn()).map(str::to_owned).collect(),
            environment: configuration.environment().and_then(|e| e.variables()).cloned().unwrap_or_default(),
            code_sha256: configuration.code_sha256().map(str::to_owned),
            code_size: configuration.code_size(),
            last_modified: configuration.last_modified().map(str::to_owned),
            state: configuration.state().map(|state| state.as_str().to_owned()),
            architectures: configuration.architectures().iter().map(|a| a.as_str().to_owned()).collect(),
        }
    }};
}

/// The control-plane calls, on the shared client of one configuration.
pub struct ControlPlane {
    client: Client,
    iam: aws_sdk_iam::Client,
}

impl ControlPlane {
    /// `iam_endpoint_url` is IAM's own endpoint (`options.endpoint_url` is Lambda's alone).
    pub async fn connect(options: &ClientOptions, iam_endpoint_url: Option<&str>) -> Result<Self, ConfigError> {
        let shared = client_for(options).await?;
        // Unlike Invoke's, these calls are resent when they never left (see ResendUnsent).
        let lambda =
            shared.sdk.config().to_builder().retry_config(resend_unsent_retry_config()).retry_classifier(ResendUnsent);
        let iam = aws_sdk_iam::config::Builder::from(&shared.service_config(iam_endpoint_url)?)
            .retry_config(resend_unsent_retry_config())
            .retry_classifier(ResendUnsent);
        Ok(Self { client: Client::from_conf(lambda.build()), iam: aws_sdk_iam::Client::from_conf(iam.build()) })
    }

    /// The function's configuration with its tags and reserved concurrency; None if there is none.
    pub async fn get_function(&self, name: &str) -> Result<Option<FunctionDetails>, DeployError> {
        let output = match self.client.get_function().function_name(name).send().await {
            Ok(output) => output,
            Err(error) if is_not_found(&error) => return Ok(None),
            Err(error) => return Err(DeployError::of("GetFunction", error)),
        };
        let Some(configuration) = output.configuration() else { return Ok(None) };
        Ok(Some(FunctionDetails {
            configuration: function_config!(configuration),
            tags: output.tags().cloned().unwrap_or_default(),
            reserved_concurrency: output.concurrency().and_then(|c| c.reserved_concurrent_executions()),
        }))
    }

    pub async fn create_function(&self, function: NewFunction) -> Result<FunctionConfig, DeployError> {
        let call = self
            .client
            .create_function()
            .function_name(function.name)
            .code(function.package.function_code())
            .role(function.role)
            .handler(function.handler)
            .runtime(Runtime::from(function.runtime.as_str()))
            .memory_size(function.memory)
            .timeout(function.timeout)
            .set_layers(Some(function.layers))
            .environment(Environment::builder().set_variables(Some(function.environment)).build())
            .set_tags(Some(function.tags))
            .architectures(Architecture::from(function.architecture.as_str()));
        let output = call.send().await.map_err(|error| DeployError::of("CreateFunction", error))?;
        Ok(function_config!(&output))
    }

    pub async fn update_code(&self, name: &str, package: Package) -> Result<FunctionConfig, DeployError> {
        let call = self.client.update_function_code().function_name(name);
        let call = match package {
            Package::Zip(zip) => call.zip_file(Blob::new(zip)),
            Package::Stored { bucket, key } => call.s3_bucket(bucket).s3_key(key),
        };
        let output = call.send().await.map_err(|error| DeployError::of("UpdateFunctionCode", error))?;
        Ok(function_config!(&output))
    }

    pub async fn update_configuration(
        &self,
        name: &str,
        update: ConfigurationUpdate,
    ) -> Result<FunctionConfig, DeployError> {
        let call = self
            .client
            .update_function_configuration()
            .function_name(name)
            .role(update.role)
            .handler(update.handler)
            .memory_size(update.memory)
            .timeout(update.timeout)
            .set_layers(Some(update.layers))
            .environment(Environment::builder().set_variables(Some(update.environment)).build());
        let output = call.send().await.map_err(|error| DeployError::of("UpdateFunctionConfiguration", error))?;
        Ok(function_config!(&output))
    }

    /// Sets the function's reserved concurrency, or removes it with None.
    pub async fn set_reserved_concurrency(&self, name: &str, reserved: Option<i32>) -> Result<(), DeployError> {
        match reserved {
            Some(reserved) => {
                let call = self.client.put_function_concurrency().function_name(name);
                let call = call.reserved_concurrent_executions(reserved);
                call.send().await.map(drop).map_err(|error| DeployError::of("PutFunctionConcurrency", error))
            }
            None => {
                let call = self.client.delete_function_concurrency().function_name(name);
                call.send().await.map(drop).map_err(|error| DeployError::of("DeleteFunctionConcurrency", error))
            }
        }
    }

    /// Publishes $LATEST as a version and returns its number and description; Lambda returns
    /// the last one (with its own description) if nothing changed since. With `code_sha256`,
    /// only if $LATEST's code is still that.
    pub async fn publish_version(
        &self,
        name: &str,
        code_sha256: Option<String>,
        description: Option<String>,
    ) -> Result<(String, String), DeployError> {
        let call = self.client.publish_version().function_name(name).set_code_sha256(code_sha256);
        let call = call.set_description(description);
        let output = call.send().await.map_err(|error| DeployError::of("PublishVersion", error))?;
        Ok((output.version().unwrap_or_default().to_owned(), output.description().unwrap_or_default().to_owned()))
    }

    /// Sets the function's memory size alone.
    pub async fn set_memory(&self, name: &str, memory: i32) -> Result<FunctionConfig, DeployError> {
        let call = self.client.update_function_configuration().function_name(name).memory_size(memory);
        let output = call.send().await.map_err(|error| DeployError::of("UpdateFunctionConfiguration", error))?;
        Ok(function_config!(&output))
    }

    /// The function's published versions (all pages), each with its description.
    pub async fn versions(&self, name: &str) -> Result<Vec<(String, String)>, DeployError> {
        let mut versions = Vec::new();
        let mut marker = None;
        loop {
            let call = self.client.list_versions_by_function().function_name(name).set_marker(marker.take());
            let page = call.send().await.map_err(|error| DeployError::of("ListVersionsByFunction", error))?;
            for version in page.versions() {
                let number = version.version().unwrap_or_default();
                if number != "$LATEST" {
                    versions.push((number.to_owned(), version.description().unwrap_or_default().to_owned()));
                }
            }
            match page.next_marker() {
                Some(next) if !next.is_empty() => marker = Some(next.to_owned()),
                _ => return Ok(versions),
            }
        }
    }

    /// The function's aliases (all pages), each with the version it points at.
    pub async fn aliases(&self, name: &str) -> Result<Vec<(String, String)>, DeployError> {
        let mut aliases = Vec::new();
        let mut marker = None;
        loop {
            let call = self.client.list_aliases().function_name(name).set_marker(marker.take());
            let page = call.send().await.map_err(|error| DeployError::of("ListAliases", error))?;
            for alias in page.aliases() {
                let version = alias.function_version().unwrap_or_default().to_owned();
                aliases.push((alias.name().unwrap_or_default().to_owned(), version));
            }
            match page.next_marker() {
                Some(next) if !next.is_empty() => marker = Some(next.to_owned()),
                _ => return Ok(aliases),
            }
        }
    }

    /// Deletes an alias; one that is not there is not an error.
    pub async fn delete_alias(&self, name: &str, alias: &str) -> Result<(), DeployError> {
        match self.client.delete_alias().function_name(name).name(alias).send().await {
            Err(error) if !is_not_found(&error) => Err(DeployError::of("DeleteAlias", error)),
            _ => Ok(()),
        }
    }

    /// Deletes a published version; one that is not there is not an error.
    pub async fn delete_version(&self, name: &str, version: &str) -> Result<(), DeployError> {
        match self.client.delete_function().function_name(name).qualifier(version).send().await {
            Err(error) if !is_not_found(&error) => Err(DeployError::of("DeleteFunction", error)),
            _ => Ok(()),
        }
    }

    /// Points alias `alias` at `version` alone (no weighted routing), creating it if needed.
    /// Returns the version it pointed at before, or None if it was created.
    pub async fn set_alias(&self, name: &str, alias: &str, version: &str) -> Result<Option<String>, DeployError> {
        let current = match self.client.get_alias().function_name(name).name(alias).send().await {
            Ok(current) => current,
            Err(error) if is_not_found(&error) => {
                let call = self.client.create_alias().function_name(name).name(alias).function_version(version);
                call.send().await.map_err(|error| DeployError::of("CreateAlias", error))?;
                return Ok(None);
            }
            Err(error) => return Err(DeployError::of("GetAlias", error)),
        };
        let call = self.client.update_alias().function_name(name).name(alias).function_version(version);
        // An empty routing configuration ends any split between two versions.
        let call = call.routing_config(
            AliasRoutingConfiguration::builder().set_additional_version_weights(Some(HashMap::new())).build(),
        );
        let call = call.set_revision_id(current.revision_id().map(str::to_owned));
        call.send().await.map_err(|error| DeployError::of("UpdateAlias", error))?;
        Ok(current.function_version().map(str::to_owned))
    }

    pub async fn delete_function(&self, name: &str) -> Result<(), DeployError> {
        let call = self.client.delete_function().function_name(name);
        call.send().await.map(drop).map_err(|error| DeployError::of("DeleteFunction", error))
    }

    /// Every function's configuration (all pages).
    pub async fn list_functions(&self) -> Result<Vec<FunctionConfig>, DeployError> {
        let mut functions = Vec::new();
        let mut marker = None;
        loop {
            let call = self.client.list_functions().set_marker(marker.take());
            let page = call.send().await.map_err(|error| DeployError::of("ListFunctions", error))?;
            functions.extend(page.functions().iter().map(|configuration| function_config!(configuration)));
            match page.next_marker() {
                Some(next) if !next.is_empty() => marker = Some(next.to_owned()),
                _ => return Ok(functions),
            }
        }
    }

    pub async fn list_tags(&self, arn: &str) -> Result<HashMap<String, String>, DeployError> {
        let output = self.client.list_tags().resource(arn).send().await;
        let output = output.map_err(|error| DeployError::of("ListTags", error))?;
        Ok(output.tags().cloned().unwrap_or_default())
    }

    /// True while Lambda is still applying the last change (State Pending, or LastUpdateStatus
    /// InProgress): another update before then is refused with ResourceConflictException.
    pub async fn update_in_progress(&self, name: &str) -> Result<bool, DeployError> {
        let call = self.client.get_function_configuration().function_name(name);
        let configuration = call.send().await.map_err(|error| DeployError::of("GetFunctionConfiguration", error))?;
        Ok(configuration.state() == Some(&State::Pending)
            || configuration.last_update_status() == Some(&LastUpdateStatus::InProgress))
    }
}
