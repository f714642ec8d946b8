//! The layers published to one emulator: each layer's versions, numbered from 1 and never
//! numbered again after a deletion, as Lambda does.

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::model::layer::LayerVersion;

#[derive(Default)]
struct Layer {
    /// The last number given.
    last_number: u32,
    versions: BTreeMap<u32, Arc<LayerVersion>>,
}

#[derive(Default)]
pub struct LayerStore {
    layers: BTreeMap<String, Layer>,
}

impl LayerStore {
    /// Adds `version` as the next version of its layer (its `number` is set here).
    pub fn add(&mut self, mut version: LayerVersion) -> Arc<LayerVersion> {
        let layer = self.layers.entry(version.name.clone()).or_default();
        layer.last_number += 1;
        version.number = layer.last_number;
        let version = Arc::new(version);
        layer.versions.insert(version.number, version.clone());
        version
    }

    pub fn get(&self, name: &str, number: u32) -> Option<Arc<LayerVersion>> {
        self.layers.get(name)?.versions.get(&number).cloned()
    }

    /// The layer's versions, newest first.
    pub fn versions(&self, name: &str) -> Vec<Arc<LayerVersion>> {
        self.layers.get(name).map(|layer| layer.versions.values().rev().cloned().collect()).unwrap_or_default()
    }

    /// The names of the layers that have versions, in order.
    pub fn names(&self) -> Vec<String> {
        self.layers.iter().filter(|(_, layer)| !layer.versions.is_empty()).map(|(name, _)| name.clone()).collect()
    }

    /// Removes a version; returns it (for its folder to be removed) if it was there.
    pub fn remove(&mut self, name: &str, number: u32) -> Option<Arc<LayerVersion>> {
        self.layers.get_mut(name)?.versions.remove(&number)
    }

    /// Removes every version.
    pub fn drain(&mut self) -> Vec<Arc<LayerVersion>> {
        std::mem::take(&mut self.layers).into_values().flat_map(|layer| layer.versions.into_values()).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn version(name: &str) -> LayerVersion {
        LayerVersion {
            name: name.into(),
            number: 0,
            description: String::new(),
            compatible_runtimes: Vec::new(),
            compatible_architectures: Vec::new(),
            license_info: None,
            code_sha256: String::new(),
            code_size: 0,
            unzipped_size: 0,
            created_date: String::new(),
            dir: Default::default(),
        }
    }

    #[test]
    fn numbers_count_up_and_are_never_reused() {
        let mut store = LayerStore::default();
        assert_eq!(store.add(version("a")).number, 1);
        assert_eq!(store.add(version("a")).number, 2);
        assert_eq!(store.add(version("b")).number, 1);
        assert!(store.remove("a", 2).is_some());
        assert!(store.remove("a", 2).is_none());
        assert_eq!(store.add(version("a")).number, 3);
        let numbers: Vec<u32> = store.versions("a").iter().map(|v| v.number).collect();
        assert_eq!(numbers, [3, 1]);
        assert_eq!(store.names(), ["a", "b"]);
    }
}
