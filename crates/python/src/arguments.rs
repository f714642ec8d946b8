//! Whole-number arguments as Python passes them: a bool, a float or an int out of range is a
//! clear TypeError or ValueError, never an OverflowError from the conversion.

use pyo3::prelude::*;
use pyo3::types::{PyBool, PyInt};

use crate::errors::{Error, Result};

/// `value` as a whole number from `low` to `high`, or an error that says what `name` takes.
pub fn whole_number(value: &Bound<'_, PyAny>, name: &str, low: i64, high: i64) -> Result<i64> {
    if value.is_instance_of::<PyBool>() || !value.is_instance_of::<PyInt>() {
        let kind = value.get_type().name().map(|name| name.to_string()).unwrap_or_default();
        return Err(Error::WrongType(format!("{name} must be an int, not {kind}")));
    }
    match value.extract::<i64>() {
        Ok(number) if (low..=high).contains(&number) => Ok(number),
        _ => Err(Error::Invalid(format!("{name} must be {low} to {high}, not {value}"))),
    }
}
