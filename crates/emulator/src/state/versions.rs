//! Published versions and aliases of LocalLambda's functions.
//!
//! A version is an immutable snapshot of $LATEST's code and configuration: its code is copied
//! into a folder of its own, kept until the version or its function is deleted. Its
//! environments serve it alone. An alias names a version, or splits invocations between two
//! with a weight (RoutingConfig.AdditionalVersionWeights).

use std::collections::BTreeMap;
use std::sync::Arc;

use super::code_store::Deployment;
use crate::model::function::FunctionSpec;

pub struct Version {
    pub spec: Arc<FunctionSpec>,
    /// What GetFunction and ListVersionsByFunction report of it (its own code folder included).
    pub deployment: Deployment,
    /// The $LATEST it was published from: publishing again with nothing changed returns it.
    pub source: Arc<FunctionSpec>,
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
    pub fn pick(&self) -> String {
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
    pub last_number: u32,
    pub aliases: BTreeMap<String, Alias>,
}
