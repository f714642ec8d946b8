//! The client settings Python passes (`LambdaExecutor(...)`, the deploy CLI) as the engine's
//! `ClientOptions`, with botocore's meaning where botocore has the same setting.

use std::path::PathBuf;

use lambda_executor_engine::client_config::ClientOptions;
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::PyBool;

pub fn client_options(
    region: Option<String>,
    profile: Option<String>,
    endpoint_url: Option<String>,
    verify: Option<&Bound<'_, PyAny>>,
) -> PyResult<ClientOptions> {
    Ok(ClientOptions { region, profile, endpoint_url, ca_bundle: ca_bundle(verify)? })
}

/// boto3's `verify=`: None or True for the default trust, a path for a CA bundle to trust instead.
fn ca_bundle(verify: Option<&Bound<'_, PyAny>>) -> PyResult<Option<PathBuf>> {
    let Some(verify) = verify else { return Ok(None) };
    if let Ok(flag) = verify.cast::<PyBool>() {
        return match flag.is_true() {
            true => Ok(None),
            false => Err(PyValueError::new_err(
                "verify=False is not supported: certificates are always checked; pass the CA bundle that \
                 signed the endpoint's certificate instead (verify='ca.pem', or AWS_CA_BUNDLE)",
            )),
        };
    }
    verify.extract::<PathBuf>().map(Some).map_err(|_| {
        PyTypeError::new_err("verify must be True, or the path of a CA bundle (PEM) to trust instead of the system's")
    })
}
