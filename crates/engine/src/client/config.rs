//! One shared aws-sdk-lambda client per configuration, built from aws-config's default chain
//! (environment, profiles, SSO, instance roles, AWS_ENDPOINT_URL_LAMBDA) unless told otherwise.
//!
//! The SDK's own retries are off (the engine owns every retry decision), so are its stalled-stream
//! checks (a synchronous invoke may be silent for 15 minutes). Region and credentials are
//! resolved when the client is built, so a missing one is an error at once, not a hang later.
//! Another service's client (deploy's IAM) starts from the same configuration, with an endpoint of
//! its own (`SharedClient::service_config`).

use std::borrow::Cow;
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use aws_config::retry::RetryConfig;
use aws_config::stalled_stream_protection::StalledStreamProtectionConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, Region};
use aws_sdk_lambda::config::ProvideCredentials;
use aws_sdk_lambda::Client;
use aws_types::origin::Origin;
use aws_types::service_config::ServiceConfigKey;
use aws_types::SdkConfig;

use crate::client::proxy::{self, Proxies};
use crate::client::trust::Trust;
use crate::error_text::sentence;
use crate::process::per_process::PerProcess;

/// How long establishing a connection may take (botocore's `connect_timeout`; its default is 60 s).
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a call may wait for its answer (botocore's `read_timeout`): a synchronous invocation
/// may run 15 minutes, so by default an answer silent for longer is lost (and, since the function
/// may have run, not retried unless the policy says so). botocore's default, 60 s, cuts slow
/// Lambda calls short.
pub const READ_TIMEOUT: Duration = Duration::from_secs(15 * 60 + 60);
/// Credential providers that hang (an unreachable SSO or instance endpoint) fail after this.
const CREDENTIALS_TIMEOUT: Duration = Duration::from_secs(30);

#[derive(Clone, Debug, Default, Hash, PartialEq, Eq)]
pub struct ClientOptions {
    pub region: Option<String>,
    pub profile: Option<String>,
    pub endpoint_url: Option<String>,
    /// The certificates to trust instead of the system's (PEM), as boto3's `verify=` path; else
    /// AWS_CA_BUNDLE, else the profile's `ca_bundle`.
    pub ca_bundle: Option<PathBuf>,
    /// Accept any certificate (boto3's `verify=False`): for a test endpoint whose certificate
    /// cannot be checked, never for AWS.
    pub accept_any_certificate: bool,
    /// Explicit proxies by scheme (botocore's `proxies`); None: the environment's variables.
    pub proxies: Option<Proxies>,
    /// Defaults: CONNECT_TIMEOUT and READ_TIMEOUT.
    pub connect_timeout: Option<Duration>,
    pub read_timeout: Option<Duration>,
}

/// The shared SDK client of one configuration, with what messages need to know about it.
#[derive(Clone, Debug)]
pub struct SharedClient {
    pub sdk: Client,
    /// The proxy (`host:port`, never its credentials) that calls to the endpoint go through.
    pub proxy: Option<String>,
    /// The endpoint calls go to, for messages.
    pub endpoint: String,
    /// The `endpoint_url` the client was given (LocalLambda, a test server), if any.
    pub endpoint_url: Option<String>,
    /// What the Lambda client was built from, less its `endpoint_url`: what other services'
    /// clients start from (see `service_config`).
    base: SdkConfig,
}

impl SharedClient {
    /// Another service's configuration (deploy's IAM) on this client's region, credentials,
    /// timeouts, trust and proxies: `endpoint_url` is that service's own, if given; else the SDK
    /// reads AWS_ENDPOINT_URL_<SERVICE>, AWS_ENDPOINT_URL or the profile, as for Lambda. Lambda's
    /// `endpoint_url` (LocalLambda, say) is never another service's.
    pub fn service_config(&self, endpoint_url: Option<&str>) -> Result<SdkConfig, ConfigError> {
        let mut builder = self.base.to_builder();
        if let Some(url) = endpoint_url {
            endpoint_scheme(url)?;
            builder.set_endpoint_url(Some(url.to_owned()));
            // Programmatic, so it wins over AWS_ENDPOINT_URL_<SERVICE> as `endpoint_url` does.
            builder.insert_origin("endpoint_url", Origin::shared_config());
        }
        Ok(builder.build())
    }
}

/// Variables besides the proxy ones that change what a client is built with (credentials are left
/// out: they are resolved again as they expire, and secrets stay out of the key).
const CLIENT_VARIABLES: [&str; 9] = [
    "AWS_ENDPOINT_URL_LAMBDA",
    "AWS_ENDPOINT_URL_S3",
    "AWS_ENDPOINT_URL_CLOUDWATCH_LOGS",
    "AWS_ENDPOINT_URL",
    "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS",
    "AWS_REGION",
    "AWS_DEFAULT_REGION",
    "AWS_PROFILE",
    "AWS_CONFIG_FILE",
];

/// What makes two clients the same: the options with what the environment adds to them, so that
/// a client built under other settings is not reused.
#[derive(Clone, Debug, Hash, PartialEq, Eq)]
struct ClientKey {
    options: ClientOptions,
    environment: Vec<(String, String)>,
}

impl ClientKey {
    fn of(options: &ClientOptions) -> Self {
        let ca_bundle = options.ca_bundle.clone().or_else(|| std::env::var_os("AWS_CA_BUNDLE").map(PathBuf::from));
        // NO_PROXY applies to explicit proxies too, so the proxy variables always count.
        let mut environment = proxy::environment();
        environment
            .extend(CLIENT_VARIABLES.iter().filter_map(|name| Some((name.to_string(), std::env::var(name).ok()?))));
        Self { options: ClientOptions { ca_bundle, ..options.clone() }, environment }
    }
}

#[derive(Debug)]
pub enum ConfigError {
    MissingRegion,
    /// What each credential provider said, a line each.
    MissingCredentials(Vec<String>),
    InvalidEndpoint(String),
    /// The trust store could not be built (a CA bundle that is not PEM, say).
    Tls(String),
    Proxy(String),
    /// The profile asked for, and the profiles the shared files hold.
    ProfileNotFound {
        named: String,
        found: Vec<String>,
    },
}

impl std::fmt::Display for ConfigError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::MissingRegion => write!(
                f,
                "no AWS region configured: pass region=..., or set AWS_REGION or AWS_DEFAULT_REGION, or give your \
                 profile a region"
            ),
            Self::MissingCredentials(providers) => {
                write!(
                    f,
                    "no AWS credentials found: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, pass profile=... (or \
                     set AWS_PROFILE) for a profile with keys, SSO or a role, or run where an instance or container \
                     role is available. The credential providers said:"
                )?;
                providers.iter().try_for_each(|said| write!(f, "\n  - {said}"))
            }
            Self::Tls(why) => write!(f, "cannot set up TLS: {why}"),
            Self::Proxy(why) => write!(f, "cannot use the proxy settings: {why}"),
            Self::ProfileNotFound { named, found } => {
                write!(f, "the AWS profile '{named}' does not exist in the shared config and credentials files (")?;
                match found.as_slice() {
                    [] => write!(f, "which hold no profile)"),
                    found => write!(f, "profiles found: {})", found.join(", ")),
                }
            }
            Self::InvalidEndpoint(url) => {
                write!(f, "endpoint_url must be an http:// or https:// URL with a host (and a port), not '{url}'")
            }
        }
    }
}

/// Clients already built in this process, by configuration (a forked child builds its own).
/// Held weakly: a client no executor uses any more is let go, and its connections with it.
static CLIENTS: PerProcess<Mutex<HashMap<ClientKey, Weak<SharedClient>>>> = PerProcess::new();

/// The shared client for `options`: the one in use with the same configuration, or a new one.
pub async fn client_for(options: &ClientOptions) -> Result<Arc<SharedClient>, ConfigError> {
    let key = ClientKey::of(options);
    let clients = CLIENTS.get_or_init(Mutex::default);
    if let Some(client) = clients.lock().unwrap().get(&key).and_then(Weak::upgrade) {
        return Ok(client);
    }
    let client = Arc::new(build(&key.options).await?);
    let mut clients = clients.lock().unwrap();
    if let Some(built_meanwhile) = clients.get(&key).and_then(Weak::upgrade) {
        return Ok(built_meanwhile);
    }
    clients.retain(|_, client| client.strong_count() > 0);
    clients.insert(key, Arc::downgrade(&client));
    Ok(client)
}

/// The scheme of an endpoint the client can send to: an http or https URL with a host.
fn endpoint_scheme(url: &str) -> Result<&'static str, ConfigError> {
    let invalid = || ConfigError::InvalidEndpoint(url.to_owned());
    let uri: http::Uri = url.parse().map_err(|_| invalid())?;
    match (uri.scheme_str(), uri.host()) {
        (Some("http"), Some(host)) if !host.is_empty() => Ok("http"),
        (Some("https"), Some(host)) if !host.is_empty() => Ok("https"),
        _ => Err(invalid()),
    }
}

async fn build(options: &ClientOptions) -> Result<SharedClient, ConfigError> {
    if let Some(url) = &options.endpoint_url {
        endpoint_scheme(url)?;
    }
    let ca_bundle = match &options.ca_bundle {
        Some(path) => Some(path.clone()),
        None => profile_setting(options.profile.as_deref(), "ca_bundle").await.map(PathBuf::from),
    };
    let trust = match ca_bundle {
        _ if options.accept_any_certificate => Trust::Anything,
        Some(path) => Trust::Bundle(
            std::fs::read(&path)
                .map_err(|error| ConfigError::Tls(format!("cannot read the CA bundle {}: {error}", path.display())))?,
        ),
        None => Trust::System,
    };
    let proxies = proxy::matcher(options.proxies.as_ref()).map_err(ConfigError::Proxy)?.map(Arc::new);
    // One HTTP client serves the credential providers and the Lambda client alike.
    let http_client = crate::client::http::build(&trust, proxies.clone()).map_err(ConfigError::Tls)?;
    let timeouts = TimeoutConfig::builder()
        .connect_timeout(options.connect_timeout.unwrap_or(CONNECT_TIMEOUT))
        .read_timeout(options.read_timeout.unwrap_or(READ_TIMEOUT))
        .build();
    let mut loader = aws_config::defaults(BehaviorVersion::latest())
        .http_client(http_client)
        .retry_config(RetryConfig::disabled())
        .timeout_config(timeouts)
        .stalled_stream_protection(StalledStreamProtectionConfig::disabled());
    check_profile(options.profile.as_deref()).await?;
    if let Some(profile) = &options.profile {
        loader = loader.profile_name(profile);
    }
    if let Some(region) = &options.region {
        loader = loader.region(Region::new(region.clone()));
    }
    let config = loader.load().await;
    if config.region().is_none() {
        return Err(ConfigError::MissingRegion);
    }
    let provider = config
        .credentials_provider()
        .ok_or_else(|| ConfigError::MissingCredentials(vec!["none is configured".into()]))?;
    match tokio::time::timeout(CREDENTIALS_TIMEOUT, provider.provide_credentials()).await {
        Ok(Ok(_)) => {}
        Ok(Err(error)) => {
            return Err(ConfigError::MissingCredentials(providers_said(&error)));
        }
        Err(_) => return Err(ConfigError::MissingCredentials(vec!["they did not answer in time".into()])),
    }
    let endpoint = match configured_endpoint(options, &config) {
        Some(url) => url,
        None => format!("https://lambda.{}.amazonaws.com", config.region().expect("checked above")),
    };
    // One from AWS_ENDPOINT_URL_LAMBDA, AWS_ENDPOINT_URL or the profile is checked as `endpoint_url=` is.
    endpoint_scheme(&endpoint)?;
    let mut lambda_config = aws_sdk_lambda::config::Builder::from(&config);
    // `endpoint_url` is Lambda's alone: set here, not on the shared configuration.
    if let Some(url) = &options.endpoint_url {
        lambda_config.set_endpoint_url(Some(url.clone()));
    }
    let proxy = proxy::for_endpoint(proxies.as_deref(), &endpoint);
    Ok(SharedClient {
        sdk: Client::from_conf(lambda_config.build()),
        proxy,
        endpoint,
        endpoint_url: options.endpoint_url.clone(),
        base: config,
    })
}

/// The endpoint the Lambda client will call if not Lambda's own: `endpoint_url=`, else what the
/// SDK reads from AWS_ENDPOINT_URL_LAMBDA, AWS_ENDPOINT_URL or the profile, as it reads it.
fn configured_endpoint(options: &ClientOptions, config: &SdkConfig) -> Option<String> {
    if let Some(url) = &options.endpoint_url {
        return Some(url.clone());
    }
    let key = ServiceConfigKey::builder()
        .service_id("Lambda")
        .env("AWS_ENDPOINT_URL")
        .profile("endpoint_url")
        .build()
        .expect("every field is set");
    config
        .service_config()
        .and_then(|service| service.load_config(key))
        .or_else(|| config.endpoint_url().map(str::to_owned))
}

/// The default chain's error lists each provider it tried after "Attempted:", a line each; those
/// lines, shortened, are what a user needs to see (or the whole sentence, if there is no list).
fn providers_said(error: &(dyn std::error::Error + 'static)) -> Vec<String> {
    const NOT_ENABLED: &str = "the credential provider was not enabled";
    const MAX_LINE: usize = 160;
    let text = sentence(error);
    let Some((_, attempted)) = text.split_once("Attempted:") else { return vec![text] };
    attempted
        .lines()
        .map(|line| line.trim().replace(&format!("{NOT_ENABLED}: "), "").replace(NOT_ENABLED, "not configured"))
        .filter(|line| !line.is_empty())
        .map(|line| {
            if line.chars().count() > MAX_LINE {
                line.chars().take(MAX_LINE).collect::<String>() + "..."
            } else {
                line
            }
        })
        .take(10)
        .collect()
}

/// A profile named (`profile`, else AWS_PROFILE) that the shared config and credentials files do
/// not hold is an error naming the profiles they do, as boto3's ProfileNotFound is.
async fn check_profile(profile: Option<&str>) -> Result<(), ConfigError> {
    use aws_runtime::env_config::file::EnvConfigFiles;
    use aws_types::os_shim_internal::{Env, Fs};
    let named =
        profile.map(str::to_owned).or_else(|| std::env::var("AWS_PROFILE").ok().filter(|name| !name.is_empty()));
    let Some(named) = named else { return Ok(()) };
    let selected = Some(Cow::Owned(named.clone()));
    // Files that cannot be read or parsed: the SDK's own loading says why.
    let Ok(profiles) = aws_config::profile::load(&Fs::real(), &Env::real(), &EnvConfigFiles::default(), selected).await
    else {
        return Ok(());
    };
    if profiles.get_profile(&named).is_some() {
        return Ok(());
    }
    let mut found: Vec<String> = profiles.profiles().map(str::to_owned).collect();
    found.sort();
    Err(ConfigError::ProfileNotFound { named, found })
}

/// A setting of the selected profile (`profile`, else AWS_PROFILE, else `default`) from the shared
/// config and credentials files, as aws-config reads them.
async fn profile_setting(profile: Option<&str>, name: &str) -> Option<String> {
    use aws_runtime::env_config::file::EnvConfigFiles;
    use aws_types::os_shim_internal::{Env, Fs};
    let selected = profile.map(|profile| Cow::Owned(profile.to_owned()));
    let profiles = aws_config::profile::load(&Fs::real(), &Env::real(), &EnvConfigFiles::default(), selected).await;
    profiles.ok()?.get(name).map(str::to_owned)
}
