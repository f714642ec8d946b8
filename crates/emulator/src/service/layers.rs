//! The service's operations on layers: publishing a version (its zip unpacked), finding,
//! listing and deleting versions, the layers a function names checked and resolved, and their
//! files composed into the one folder its environments see as /opt.

use std::path::PathBuf;
use std::sync::Arc;

use super::emulator::Emulator;
use crate::model::layer::{FunctionLayer, LayerVersion};
use crate::state::code_store::{
    compose_layers, extract, now_iso8601, remove_unpacked, sha256_base64, MAX_UNZIPPED_BYTES,
};

/// At most this many layers per function.
pub const MAX_FUNCTION_LAYERS: usize = 5;

/// What a new layer version declares beside its content.
pub struct LayerDeclaration {
    pub description: String,
    pub compatible_runtimes: Vec<String>,
    pub compatible_architectures: Vec<String>,
    pub license_info: Option<String>,
}

/// Why the layers a function names cannot be used.
pub enum FunctionLayersError {
    TooMany,
    /// Not layer version ARNs (Lambda's model refuses them): the list as given.
    Malformed(Vec<String>),
    /// No such layer version here: its ARN.
    Missing(String),
}

impl Emulator {
    /// `arn:PARTITION:lambda:REGION:ACCOUNT:layer:NAME`.
    pub fn layer_arn(&self, name: &str) -> String {
        format!("arn:{}:lambda:{}:{}:layer:{name}", self.partition(), self.config.region, self.config.account_id)
    }

    /// Unpacks `zip` (less than Lambda's unzipped limit) and adds it as the next version of `name`.
    pub(crate) async fn publish_layer(
        &self,
        name: &str,
        zip: &[u8],
        declaration: LayerDeclaration,
    ) -> Result<Arc<LayerVersion>, String> {
        let (dir, unzipped_size) =
            extract(&self.config.python, &format!("layer-{name}"), zip, MAX_UNZIPPED_BYTES).await?;
        let version = LayerVersion {
            name: name.to_owned(),
            number: 0,
            description: declaration.description,
            compatible_runtimes: declaration.compatible_runtimes,
            compatible_architectures: declaration.compatible_architectures,
            license_info: declaration.license_info,
            code_sha256: sha256_base64(zip),
            code_size: zip.len() as u64,
            unzipped_size,
            created_date: now_iso8601(),
            dir,
        };
        Ok(self.layers().add(version))
    }

    pub(crate) fn layer_version(&self, name: &str, number: u32) -> Option<Arc<LayerVersion>> {
        self.layers().get(name, number)
    }

    /// The layer's versions, newest first.
    pub(crate) fn layer_versions(&self, name: &str) -> Vec<Arc<LayerVersion>> {
        self.layers().versions(name)
    }

    pub(crate) fn layer_names(&self) -> Vec<String> {
        self.layers().names()
    }

    /// Deletes a layer version and its files (functions keep their own copy); nothing if missing.
    pub(crate) fn delete_layer_version(&self, name: &str, number: u32) {
        if let Some(version) = self.layers().remove(name, number) {
            remove_unpacked(&version.dir);
        }
    }

    /// The layer versions `arns` name, in order, checked as Lambda checks a function's Layers.
    pub(crate) fn function_layers(&self, arns: &[String]) -> Result<Vec<Arc<LayerVersion>>, FunctionLayersError> {
        if arns.len() > MAX_FUNCTION_LAYERS {
            return Err(FunctionLayersError::TooMany);
        }
        let parsed: Option<Vec<(String, String, u32)>> = arns.iter().map(|arn| parse_layer_version_arn(arn)).collect();
        let parsed = parsed.ok_or_else(|| FunctionLayersError::Malformed(arns.to_vec()))?;
        let prefix = self.layer_arn("");
        parsed
            .into_iter()
            .zip(arns)
            .map(|((layer_arn, name, number), arn)| {
                let here = layer_arn.strip_prefix(&prefix) == Some(name.as_str());
                here.then(|| self.layer_version(&name, number))
                    .flatten()
                    .ok_or_else(|| FunctionLayersError::Missing(arn.clone()))
            })
            .collect()
    }

    /// One folder of `layers`' files, extracted in order, for the function's environments.
    pub(crate) async fn compose_function_layers(
        &self,
        layers: &[Arc<LayerVersion>],
    ) -> std::io::Result<Option<PathBuf>> {
        compose_layers(layers.iter().map(|layer| layer.dir.clone()).collect()).await
    }

    /// What a function's configuration reports of `layers`.
    pub(crate) fn layer_references(&self, layers: &[Arc<LayerVersion>]) -> Vec<FunctionLayer> {
        layers
            .iter()
            .map(|layer| FunctionLayer {
                arn: format!("{}:{}", self.layer_arn(&layer.name), layer.number),
                code_size: layer.code_size,
                unzipped_size: layer.unzipped_size,
            })
            .collect()
    }
}

/// Is `name` a layer name as Lambda's model allows it ([a-zA-Z0-9-_]+)?
pub fn is_layer_name(name: &str) -> bool {
    !name.is_empty() && name.len() <= 140 && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

/// (layer ARN, layer name, version) of a layer version ARN as Lambda's model allows it:
/// `arn:[a-zA-Z0-9-]+:lambda:[a-zA-Z0-9-]+:\d{12}:layer:[a-zA-Z0-9-_]+:[0-9]+`.
pub fn parse_layer_version_arn(arn: &str) -> Option<(String, String, u32)> {
    if arn.len() > 140 {
        return None;
    }
    let (layer_arn, number) = arn.rsplit_once(':')?;
    let parts: Vec<&str> = layer_arn.split(':').collect();
    let word = |part: &str| !part.is_empty() && part.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
    let valid = parts.len() == 7
        && parts[0] == "arn"
        && word(parts[1])
        && parts[2] == "lambda"
        && word(parts[3])
        && parts[4].len() == 12
        && parts[4].chars().all(|c| c.is_ascii_digit())
        && parts[5] == "layer"
        && is_layer_name(parts[6])
        && !number.is_empty()
        && number.chars().all(|c| c.is_ascii_digit());
    valid.then(|| Some((layer_arn.to_owned(), parts[6].to_owned(), number.parse().ok()?))).flatten()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layer_version_arns_are_checked_as_lambdas_model_does() {
        let parsed = parse_layer_version_arn("arn:aws:lambda:us-east-1:123456789012:layer:my-layer_1:3");
        assert_eq!(
            parsed,
            Some(("arn:aws:lambda:us-east-1:123456789012:layer:my-layer_1".into(), "my-layer_1".into(), 3))
        );
        for malformed in [
            "arn:aws:lambda:us-east-1:123456789012:layer:my-layer",
            "arn:aws:lambda:us-east-1:1234:layer:my-layer:1",
            "arn:aws:lambda:us-east-1:123456789012:function:f:1",
            "my-layer:1",
            "arn:aws:lambda:us-east-1:123456789012:layer:my.layer:1",
        ] {
            assert_eq!(parse_layer_version_arn(malformed), None, "{malformed}");
        }
    }
}
