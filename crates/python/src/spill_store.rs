//! `lambda_executor._core.SpillStore`: the objects at an S3 location, for `lambda-executor
//! spill` (what a killed run left at a spill location, and the rule that expires it) and for
//! `deploy` (a package too large to send to Lambda directly).

use bytes::Bytes;
use lambda_executor_engine::{client_for, runtime, Spill, SpillLocation};
use pyo3::prelude::*;
use pyo3::pybacked::PyBackedBytes;
use pyo3::types::PyDict;

use crate::client_options::client_options;
use crate::errors::{Error, Result};
use crate::payload::to_python;

#[pyclass(module = "lambda_executor._core", name = "SpillStore", frozen)]
pub struct PySpillStore {
    spill: Spill,
}

#[pymethods]
impl PySpillStore {
    #[new]
    #[pyo3(signature = (url, *, client=None))]
    fn new(py: Python<'_>, url: &str, client: Option<&Bound<'_, PyDict>>) -> Result<Self> {
        let location = SpillLocation::parse(url).map_err(Error::Invalid)?;
        let options = client_options(client)?;
        let shared = py.detach(|| runtime::get().block_on(client_for(&options)))?;
        Ok(Self { spill: Spill::new(&shared, location)? })
    }

    /// The objects at the location, as dicts of key, size (bytes) and age (seconds).
    fn objects(&self, py: Python<'_>) -> Result<Py<PyAny>> {
        let stored = py.detach(|| runtime::get().block_on(self.spill.stored()))?;
        to_python(py, &stored)
    }

    /// Stores `data` under a new key of the location, made of `purpose` and random bits; returns
    /// its reference (bucket, key, size, sha256).
    fn put(&self, py: Python<'_>, purpose: &str, data: PyBackedBytes) -> Result<Py<PyAny>> {
        // The Python bytes themselves, not a copy: a package can be 250 MB.
        let data = Bytes::from_owner(data);
        let stored = py.detach(|| runtime::get().block_on(self.spill.put(purpose, data)))?;
        to_python(py, &stored)
    }

    /// Expires the location's objects `days` days after they were written, by a rule of the
    /// bucket's lifecycle (the bucket's other rules are kept); its id is returned.
    fn expire_after(&self, py: Python<'_>, days: i32) -> Result<String> {
        if days < 1 {
            return Err(Error::Invalid(format!("objects expire after 1 day or more, not {days}")));
        }
        py.detach(|| runtime::get().block_on(self.spill.expire_after(days)))?;
        Ok(self.spill.expiry_rule_id())
    }

    /// Deletes these keys (of the location: any other is refused).
    fn delete(&self, py: Python<'_>, keys: Vec<String>) -> Result<()> {
        if let Some(outside) = keys.iter().find(|key| !self.spill.location.holds(&self.spill.location.bucket, key)) {
            return Err(Error::Invalid(format!("'{outside}' is not under {}", self.spill.location.url())));
        }
        py.detach(|| {
            runtime::get().block_on(async {
                for key in &keys {
                    self.spill.delete(key).await?;
                }
                Ok(())
            })
        })
    }
}
