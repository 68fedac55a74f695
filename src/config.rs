//! The settings file (`config.toml` in the data directory), read and checked once at start and
//! passed down. The documented defaults live in `config/default.toml`, which is also the file
//! `citymesh init` writes; a test keeps it and [`Config::default`] in step.

use std::path::Path;

use serde::Deserialize;

use crate::store::StoreOptions;
use crate::vocab;

/// The text of `config/default.toml`: every setting with its default and a comment.
pub const DEFAULT_TOML: &str = include_str!("../config/default.toml");

/// Every setting.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    pub publish: PublishConfig,
    pub store: StoreConfig,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PublishConfig {
    pub default_license: String,
    pub default_language: String,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct StoreConfig {
    pub cache_capacity_mb: u64,
    pub flush_every_ms: u64,
}

impl Default for PublishConfig {
    fn default() -> Self {
        Self { default_license: vocab::DEFAULT_LICENSE.to_owned(), default_language: "en".to_owned() }
    }
}

impl Default for StoreConfig {
    fn default() -> Self {
        Self { cache_capacity_mb: 64, flush_every_ms: 500 }
    }
}

/// A settings file that cannot be used; the message names the setting and what is allowed.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read {path}: {error}")]
    Read { path: String, error: std::io::Error },
    #[error("{path}: {message}")]
    Invalid { path: String, message: String },
}

impl Config {
    /// Reads `path`; a missing file means every default.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let shown = path.display().to_string();
        match std::fs::read_to_string(path) {
            Ok(text) => Config::parse(&text).map_err(|message| ConfigError::Invalid { path: shown, message }),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(Config::default()),
            Err(error) => Err(ConfigError::Read { path: shown, error }),
        }
    }

    /// Parses and checks settings text.
    pub fn parse(text: &str) -> Result<Config, String> {
        let config: Config = toml::from_str(text).map_err(|error| error.to_string().trim_end().to_owned())?;
        config.check()?;
        Ok(config)
    }

    fn check(&self) -> Result<(), String> {
        let publish = &self.publish;
        if !vocab::is_license(&publish.default_license) {
            return Err(format!(
                "publish.default_license {:?} is not a known SPDX id; use one of {} or LicenseRef-<name>",
                publish.default_license,
                vocab::LICENSES.join(", ")
            ));
        }
        if !vocab::is_language_tag(&publish.default_language) {
            return Err(format!(
                "publish.default_language {:?} is not a BCP 47 language tag (such as en, fr or pt-BR)",
                publish.default_language
            ));
        }
        if !(1..=65536).contains(&self.store.cache_capacity_mb) {
            return Err(format!("store.cache_capacity_mb is {}; allowed: 1 to 65536", self.store.cache_capacity_mb));
        }
        if !(1..=60000).contains(&self.store.flush_every_ms) {
            return Err(format!("store.flush_every_ms is {}; allowed: 1 to 60000", self.store.flush_every_ms));
        }
        Ok(())
    }

    /// The store's tuning.
    pub fn store_options(&self) -> StoreOptions {
        StoreOptions {
            cache_capacity: self.store.cache_capacity_mb * 1024 * 1024,
            flush_every_ms: Some(self.store.flush_every_ms),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_documented_defaults_are_the_defaults() {
        assert_eq!(Config::parse(DEFAULT_TOML).unwrap(), Config::default());
    }

    #[test]
    fn an_empty_file_means_every_default() {
        assert_eq!(Config::parse("").unwrap(), Config::default());
    }

    #[test]
    fn a_misspelt_setting_is_named() {
        let error = Config::parse("[store]\ncache_capacity = 3\n").unwrap_err();
        assert!(error.contains("cache_capacity"), "{error}");
    }

    #[test]
    fn a_bad_value_names_the_setting_and_the_allowed_values() {
        let error = Config::parse("[store]\nflush_every_ms = 0\n").unwrap_err();
        assert!(error.contains("store.flush_every_ms") && error.contains("1 to 60000"), "{error}");
        let error = Config::parse("[publish]\ndefault_license = \"WTFPL-9\"\n").unwrap_err();
        assert!(error.contains("CC-BY-4.0"), "{error}");
    }
}
