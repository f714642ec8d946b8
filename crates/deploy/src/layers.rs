//! The layer calls of `deploy --requirements-layer`: a function's requirements published as a
//! layer once, and found again by the description that says what was installed.

use aws_sdk_lambda::primitives::Blob;
use aws_sdk_lambda::types::{Architecture, LayerVersionContentInput, Runtime};
use serde::Serialize;

use crate::{is_not_found, ControlPlane, DeployError, Package};

/// A version of a layer, as the deploy code reads it.
#[derive(Debug, Serialize)]
pub struct LayerVersion {
    pub arn: String,
    pub version: i64,
    pub description: String,
}

impl ControlPlane {
    /// Publishes `package` as a new version of layer `name`, for one runtime and architecture.
    pub async fn publish_layer(
        &self,
        name: &str,
        package: Package,
        description: &str,
        runtime: &str,
        architecture: &str,
    ) -> Result<LayerVersion, DeployError> {
        let content = match package {
            Package::Zip(zip) => LayerVersionContentInput::builder().zip_file(Blob::new(zip)),
            Package::Stored { bucket, key } => LayerVersionContentInput::builder().s3_bucket(bucket).s3_key(key),
        };
        let call = self.client.publish_layer_version().layer_name(name).content(content.build());
        let call = call.description(description).compatible_runtimes(Runtime::from(runtime));
        let output = call
            .compatible_architectures(Architecture::from(architecture))
            .send()
            .await
            .map_err(|error| DeployError::of("PublishLayerVersion", error))?;
        Ok(LayerVersion {
            arn: output.layer_version_arn().unwrap_or_default().to_owned(),
            version: output.version(),
            description: output.description().unwrap_or_default().to_owned(),
        })
    }

    /// Every version of layer `name`, newest first (none if there is no such layer).
    pub async fn layer_versions(&self, name: &str) -> Result<Vec<LayerVersion>, DeployError> {
        let mut versions = Vec::new();
        let mut marker = None;
        loop {
            let call = self.client.list_layer_versions().layer_name(name).set_marker(marker.take());
            let page = match call.send().await {
                Ok(page) => page,
                Err(error) if is_not_found(&error) => return Ok(versions),
                Err(error) => return Err(DeployError::of("ListLayerVersions", error)),
            };
            versions.extend(page.layer_versions().iter().map(|item| LayerVersion {
                arn: item.layer_version_arn().unwrap_or_default().to_owned(),
                version: item.version(),
                description: item.description().unwrap_or_default().to_owned(),
            }));
            match page.next_marker() {
                Some(next) if !next.is_empty() => marker = Some(next.to_owned()),
                _ => return Ok(versions),
            }
        }
    }
}
