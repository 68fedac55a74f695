//! The settings file (`config.toml` in the data directory), read and checked once at start and
//! passed down. The documented defaults live in `config/default.toml`, which is also the file
//! `citymesh init` writes; a test keeps it and [`Config::default`] in step.

use std::net::SocketAddr;
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
    pub node: NodeConfig,
    pub api: ApiConfig,
    pub publish: PublishConfig,
    pub store: StoreConfig,
    pub trust: TrustConfig,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct NodeConfig {
    pub listen: Vec<String>,
    pub bootstrap: Vec<String>,
    pub networks: Vec<String>,
    pub mdns: bool,
    pub discovery: bool,
    pub idle_timeout_secs: u64,
    pub redial_interval_secs: u64,
    pub sync_interval_secs: u64,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ApiConfig {
    pub listen: SocketAddr,
    pub allow_non_loopback: bool,
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
    /// The largest attachment kept, in MiB.
    pub max_file_mb: u64,
}

/// Whose records the node keeps (see [`crate::trust::Policy`]).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TrustConfig {
    /// `open`, `partners` or `partners+N`.
    pub policy: String,
    /// Partner publishers, as 64 hex characters each.
    pub partners: Vec<String>,
    /// Gossip budgets: records and MiB a minute per publisher and per forwarding peer.
    pub publisher_records_per_minute: u64,
    pub publisher_mib_per_minute: u64,
    pub peer_records_per_minute: u64,
    pub peer_mib_per_minute: u64,
    /// Most MiB held per publisher that is not a partner, under `open`.
    pub publisher_storage_mib: u64,
    /// Certificate authorities (a PEM file) trusted when checking identities' domains, instead
    /// of the public ones; empty for the public ones.
    pub domain_ca_file: String,
    /// The port domains are checked at over HTTPS.
    pub domain_port: u16,
}

impl Default for TrustConfig {
    fn default() -> Self {
        Self {
            policy: "open".to_owned(),
            partners: Vec::new(),
            publisher_records_per_minute: 600,
            publisher_mib_per_minute: 16,
            peer_records_per_minute: 6000,
            peer_mib_per_minute: 64,
            publisher_storage_mib: 256,
            domain_ca_file: String::new(),
            domain_port: 443,
        }
    }
}

impl Default for NodeConfig {
    fn default() -> Self {
        Self {
            listen: vec!["/ip4/0.0.0.0/tcp/7879".to_owned(), "/ip4/0.0.0.0/udp/7879/quic-v1".to_owned()],
            bootstrap: Vec::new(),
            networks: vec!["main".to_owned()],
            mdns: false,
            discovery: true,
            idle_timeout_secs: 300,
            redial_interval_secs: 60,
            sync_interval_secs: 60,
        }
    }
}

impl Default for ApiConfig {
    fn default() -> Self {
        Self { listen: SocketAddr::from(([127, 0, 0, 1], 7878)), allow_non_loopback: false }
    }
}

impl Default for PublishConfig {
    fn default() -> Self {
        Self { default_license: vocab::DEFAULT_LICENSE.to_owned(), default_language: "en".to_owned() }
    }
}

impl Default for StoreConfig {
    fn default() -> Self {
        Self { cache_capacity_mb: 64, flush_every_ms: 500, max_file_mb: crate::blobs::DEFAULT_MAX_BYTES >> 20 }
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
        let node = &self.node;
        if node.networks.is_empty() {
            return Err("node.networks is empty; join at least one network, such as [\"main\"]".to_owned());
        }
        if let Some(bad) = node.networks.iter().find(|name| !crate::record::is_slug(name)) {
            return Err(format!("node.networks: {bad:?} is not a network name; use 1 to 64 of a-z, 0-9 and '-'"));
        }
        if node.idle_timeout_secs < 120 {
            return Err(format!("node.idle_timeout_secs is {}; allowed: 120 or more", node.idle_timeout_secs));
        }
        if !(10..=3600).contains(&node.redial_interval_secs) {
            return Err(format!("node.redial_interval_secs is {}; allowed: 10 to 3600", node.redial_interval_secs));
        }
        if !(1..=86_400).contains(&node.sync_interval_secs) {
            return Err(format!("node.sync_interval_secs is {}; allowed: 1 to 86400", node.sync_interval_secs));
        }
        if !self.api.listen.ip().is_loopback() && !self.api.allow_non_loopback {
            return Err(format!(
                "api.listen {} is not a loopback address; set api.allow_non_loopback = true to expose the API",
                self.api.listen
            ));
        }
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
        if !(1..=4096).contains(&self.store.max_file_mb) {
            return Err(format!("store.max_file_mb is {}; allowed: 1 to 4096", self.store.max_file_mb));
        }
        let trust = &self.trust;
        if trust.domain_port == 0 {
            return Err("trust.domain_port is 0; allowed: 1 to 65535 (443 for HTTPS)".to_owned());
        }
        crate::trust::PolicyKind::parse(&trust.policy)?;
        for text in &trust.partners {
            crate::hex::parse_hex32(text).map_err(|_| {
                format!("trust.partners: {text:?} is not a publisher key; expected 64 hex characters (0-9, a-f)")
            })?;
        }
        for (name, value) in [
            ("publisher_records_per_minute", trust.publisher_records_per_minute),
            ("publisher_mib_per_minute", trust.publisher_mib_per_minute),
            ("peer_records_per_minute", trust.peer_records_per_minute),
            ("peer_mib_per_minute", trust.peer_mib_per_minute),
            ("publisher_storage_mib", trust.publisher_storage_mib),
        ] {
            if !(1..=1_000_000).contains(&value) {
                return Err(format!("trust.{name} is {value}; allowed: 1 to 1000000"));
            }
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
    fn network_settings_are_checked() {
        let error = Config::parse("[node]\nnetworks = [\"Asia Water\"]\n").unwrap_err();
        assert!(error.contains("node.networks"), "{error}");
        let error = Config::parse("[api]\nlisten = \"0.0.0.0:7878\"\n").unwrap_err();
        assert!(error.contains("allow_non_loopback"), "{error}");
        let error = Config::parse("[api]\nlisten = \"localhost\"\n").unwrap_err();
        assert!(error.contains("api.listen") || error.contains("listen"), "{error}");
    }

    #[test]
    fn trust_settings_are_checked() {
        let error = Config::parse("[trust]\npolicy = \"friends\"\n").unwrap_err();
        assert!(error.contains("trust.policy") && error.contains("open") && error.contains("partners+N"), "{error}");
        let error = Config::parse("[trust]\npolicy = \"partners\"\npartners = [\"abc\"]\n").unwrap_err();
        assert!(error.contains("trust.partners") && error.contains("64 hex"), "{error}");
        let key = "11".repeat(32);
        assert!(Config::parse(&format!("[trust]\npolicy = \"partners+2\"\npartners = [\"{key}\"]\n")).is_ok());
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
