//! The client settings Python passes (`LambdaExecutor(...)`, the deploy CLI) as the engine's
//! `ClientOptions`, with botocore's meaning where botocore has the same setting.

use std::collections::HashMap;
use std::path::PathBuf;
use std::time::Duration;

use lambda_executor_engine::ClientOptions;
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyDict};

use crate::errors::{Error, Result};

/// The settings of one client as Python passes them: a dict with any of `region`, `profile`,
/// `endpoint_url`, `verify`, `proxies`, `connect_timeout` and `read_timeout` (None as absent).
pub fn client_options(settings: Option<&Bound<'_, PyDict>>) -> Result<ClientOptions> {
    let Some(settings) = settings else { return Ok(ClientOptions::default()) };
    let get = |name: &str| -> Result<Option<Bound<'_, PyAny>>> {
        Ok(settings.get_item(name)?.filter(|value| !value.is_none()))
    };
    let text = |name: &str| -> Result<Option<String>> { Ok(get(name)?.map(|value| value.extract()).transpose()?) };
    let proxies = get("proxies")?.map(|value| value.extract::<HashMap<String, String>>()).transpose()?.map(|proxies| {
        let mut proxies: Vec<(String, String)> = proxies.into_iter().collect();
        proxies.sort();
        proxies
    });
    let timeout = |name: &str| -> Result<Option<Duration>> {
        seconds(get(name)?.map(|value| value.extract::<f64>()).transpose()?, name)
    };
    let (ca_bundle, accept_any_certificate) = verify(get("verify")?.as_ref())?;
    Ok(ClientOptions {
        region: text("region")?,
        profile: text("profile")?,
        endpoint_url: text("endpoint_url")?,
        ca_bundle,
        accept_any_certificate,
        proxies,
        connect_timeout: timeout("connect_timeout")?,
        read_timeout: timeout("read_timeout")?,
    })
}

/// A timeout as botocore takes it: seconds, more than 0.
fn seconds(value: Option<f64>, name: &str) -> Result<Option<Duration>> {
    match value {
        None => Ok(None),
        Some(seconds) if seconds.is_finite() && seconds > 0.0 && seconds <= 86_400.0 => {
            Ok(Some(Duration::from_secs_f64(seconds)))
        }
        Some(seconds) => {
            Err(Error::Invalid(format!("{name} must be more than 0 and at most 86400 seconds, not {seconds}")))
        }
    }
}

/// boto3's `verify=`: None or True for the default trust, False for none (any certificate is
/// accepted), a path for a CA bundle to trust instead. Returns (the bundle, whether any goes).
fn verify(verify: Option<&Bound<'_, PyAny>>) -> Result<(Option<PathBuf>, bool)> {
    let Some(verify) = verify else { return Ok((None, false)) };
    if let Ok(flag) = verify.cast::<PyBool>() {
        return Ok((None, !flag.is_true()));
    }
    verify.extract::<PathBuf>().map(|path| (Some(path), false)).map_err(|_| {
        Error::WrongType(
            "verify must be True, False, or the path of a CA bundle (PEM) to trust instead of the system's".into(),
        )
    })
}
