//! Lambda's layer operations, as aws-sdk-lambda and boto3 call them (routes.rs routes them here):
//! PublishLayerVersion (a zip in the request or an object of the emulator's S3 endpoint),
//! GetLayerVersion, GetLayerVersionByArn, ListLayerVersions, ListLayers and DeleteLayerVersion,
//! with Lambda's response shapes.

use std::sync::Arc;

use hyper::StatusCode;
use serde_json::{json, Value};

use super::error::ApiError;
use super::functions::{code_source, strings, text};
use crate::http::{json_response, response, HttpResponse};
use crate::model::layer::LayerVersion;
use crate::service::emulator::Emulator;
use crate::service::layers::{is_layer_name, parse_layer_version_arn, LayerDeclaration};

/// The filters of ListLayers and ListLayerVersions.
pub struct Compatible {
    pub runtime: Option<String>,
    pub architecture: Option<String>,
}

impl Compatible {
    fn admits(&self, version: &LayerVersion) -> bool {
        let runtime_ok = self.runtime.as_ref().is_none_or(|runtime| version.compatible_runtimes.contains(runtime));
        let architecture_ok = self
            .architecture
            .as_ref()
            .is_none_or(|architecture| version.compatible_architectures.contains(architecture));
        runtime_ok && architecture_ok
    }
}

/// A layer's name as a path gives it: its name, or its ARN (`arn:...:layer:NAME`).
fn layer_name(given: &str) -> Result<String, ApiError> {
    let name = match given.split_once(":layer:") {
        Some((_, name)) if given.starts_with("arn:") => name,
        _ => given,
    };
    if !is_layer_name(name) {
        return Err(ApiError::validation(format!(
            "1 validation error detected: Value '{given}' at 'layerName' failed to satisfy constraint: Member must \
             satisfy regular expression pattern: (arn:[a-zA-Z0-9-]+:lambda:[a-zA-Z0-9-]+:\\d{{12}}:layer:\
             [a-zA-Z0-9-_]+)|[a-zA-Z0-9-_]+"
        )));
    }
    Ok(name.to_owned())
}

pub async fn publish(
    emulator: &Arc<Emulator>,
    name: &str,
    body: Result<Value, ApiError>,
) -> Result<HttpResponse, ApiError> {
    let body = body?;
    let name = layer_name(name)?;
    let source = code_source(body.get("Content"))?;
    let declaration = LayerDeclaration {
        description: text(&body, "Description").unwrap_or_default().to_owned(),
        compatible_runtimes: strings(body.get("CompatibleRuntimes")),
        compatible_architectures: strings(body.get("CompatibleArchitectures")),
        license_info: text(&body, "LicenseInfo").map(str::to_owned),
    };
    let zip = emulator.code_bytes(source).await.map_err(|error| ApiError::invalid(error.0))?;
    let version = emulator.publish_layer(&name, &zip, declaration).await.map_err(ApiError::invalid)?;
    Ok(json_response(StatusCode::CREATED, &[], &version_document(emulator, &version)))
}

pub fn get(emulator: &Arc<Emulator>, name: &str, number: &str) -> Result<HttpResponse, ApiError> {
    let name = layer_name(name)?;
    let version = number
        .parse()
        .ok()
        .and_then(|number| emulator.layer_version(&name, number))
        .ok_or_else(ApiError::resource_not_found)?;
    Ok(json_response(StatusCode::OK, &[], &version_document(emulator, &version)))
}

/// GetLayerVersionByArn (GET /2018-10-31/layers?find=LayerVersion&Arn=...).
pub fn get_by_arn(emulator: &Arc<Emulator>, arn: &str) -> Result<HttpResponse, ApiError> {
    let (layer_arn, name, number) = parse_layer_version_arn(arn).ok_or_else(|| {
        ApiError::validation(format!(
            "1 validation error detected: Value '{arn}' at 'arn' failed to satisfy constraint: Member must satisfy \
             regular expression pattern: (arn:(aws[a-zA-Z-]*)?:lambda:[a-z]{{2}}((-gov)|(-iso([a-z]?)))?-[a-z]+-\\d{{1}}:\
             \\d{{12}}:layer:[a-zA-Z0-9-_]+:[0-9]+)|(arn:[a-zA-Z0-9-]+:lambda:::awslayer:[a-zA-Z0-9-_]+)"
        ))
    })?;
    let version = (layer_arn == emulator.layer_arn(&name))
        .then(|| emulator.layer_version(&name, number))
        .flatten()
        .ok_or_else(ApiError::resource_not_found)?;
    Ok(json_response(StatusCode::OK, &[], &version_document(emulator, &version)))
}

/// ListLayerVersions: newest first (none for a layer that is not there, as Lambda answers).
pub fn list_versions(emulator: &Arc<Emulator>, name: &str, filter: &Compatible) -> Result<HttpResponse, ApiError> {
    let name = layer_name(name)?;
    let versions: Vec<Value> = emulator
        .layer_versions(&name)
        .iter()
        .filter(|version| filter.admits(version))
        .map(|version| list_item(emulator, version))
        .collect();
    Ok(json_response(StatusCode::OK, &[], &json!({"LayerVersions": versions})))
}

/// ListLayers: each layer with its newest version that the filters admit.
pub fn list_layers(emulator: &Arc<Emulator>, filter: &Compatible) -> HttpResponse {
    let layers: Vec<Value> = emulator
        .layer_names()
        .iter()
        .filter_map(|name| {
            let latest = emulator.layer_versions(name).into_iter().find(|version| filter.admits(version))?;
            Some(json!({
                "LayerName": name,
                "LayerArn": emulator.layer_arn(name),
                "LatestMatchingVersion": list_item(emulator, &latest),
            }))
        })
        .collect();
    json_response(StatusCode::OK, &[], &json!({"Layers": layers}))
}

/// DeleteLayerVersion: 204, whether the version was there or not, as Lambda answers.
pub fn delete(emulator: &Arc<Emulator>, name: &str, number: &str) -> Result<HttpResponse, ApiError> {
    let name = layer_name(name)?;
    if let Ok(number) = number.parse() {
        emulator.delete_layer_version(&name, number);
    }
    Ok(response(StatusCode::NO_CONTENT, &[], Default::default()))
}

/// The document of PublishLayerVersion, GetLayerVersion and GetLayerVersionByArn: a list item's
/// fields, with the content and the layer's ARN.
fn version_document(emulator: &Emulator, version: &LayerVersion) -> Value {
    let mut document = list_item(emulator, version);
    document["Content"] = json!({
        "Location": format!("file://{}", version.dir.display()),
        "CodeSha256": version.code_sha256,
        "CodeSize": version.code_size,
    });
    document["LayerArn"] = json!(emulator.layer_arn(&version.name));
    document
}

/// A LayerVersionsListItem (ListLayerVersions, ListLayers).
fn list_item(emulator: &Emulator, version: &LayerVersion) -> Value {
    let mut item = json!({
        "LayerVersionArn": format!("{}:{}", emulator.layer_arn(&version.name), version.number),
        "Version": version.number,
        "Description": version.description,
        "CreatedDate": version.created_date,
        "CompatibleRuntimes": version.compatible_runtimes,
        "CompatibleArchitectures": version.compatible_architectures,
    });
    if let Some(license) = &version.license_info {
        item["LicenseInfo"] = json!(license);
    }
    item
}
