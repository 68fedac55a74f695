//! The data directory: where a node keeps its keys, settings and store, and how they are
//! created and opened. Secret files are created with mode 0600 and the directory with 0700.

use std::fs::{self, OpenOptions};
use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};

use crate::author::NotInitialised;
use crate::config::{self, Config};
use crate::record::{self, Body, Draft, Kind, PROFILE_SLUG, PublisherKey, Signer};
use crate::store::{Store, StoreError};
use crate::wire::Profile;

const CONFIG_FILE: &str = "config.toml";
const PUBLISHER_KEY_FILE: &str = "publisher.key";
/// In an operator's data directory: the organisation its key signs for (64 hex characters).
const ORGANISATION_FILE: &str = "organisation";
const NODE_KEY_FILE: &str = "node.key";
const STORE_DIR: &str = "store";
const SEARCH_DIR: &str = "search";
const TOKEN_FILE: &str = "api.token";
const API_ADDR_FILE: &str = "api.addr";
const PEERS_FILE: &str = "peers.txt";
const TRUST_FILE: &str = "partners.json";
/// Known peers remembered at most.
const MAX_KNOWN_PEERS: usize = 64;

/// A data directory, which may not exist yet.
#[derive(Debug, Clone)]
pub struct DataDir {
    root: PathBuf,
}

impl DataDir {
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Self { root: root.into() }
    }

    /// The platform's default: `$XDG_DATA_HOME/citymesh` (usually `~/.local/share/citymesh`).
    pub fn default_path() -> Option<PathBuf> {
        dirs::data_dir().map(|dir| dir.join("citymesh"))
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    pub fn config_path(&self) -> PathBuf {
        self.root.join(CONFIG_FILE)
    }

    /// True once `citymesh init` has run here.
    pub fn is_initialised(&self) -> bool {
        self.root.join(PUBLISHER_KEY_FILE).exists()
    }

    /// Creates the directory, the publisher and node keys and the settings file. Refuses to
    /// touch a directory that already holds a publisher key.
    pub fn create(&self) -> Result<PublisherKey> {
        self.create_for(None)
    }

    /// Like [`DataDir::create`]; with an organisation, the key signs for it as an operator.
    fn create_for(&self, organisation: Option<record::PublisherId>) -> Result<PublisherKey> {
        if self.is_initialised() {
            bail!(
                "{} is already a citymesh data directory; choose another with --data-dir or CITYMESH_HOME",
                self.root.display()
            );
        }
        fs::create_dir_all(&self.root).with_context(|| format!("cannot create {}", self.root.display()))?;
        fs::set_permissions(&self.root, fs::Permissions::from_mode(0o700))
            .with_context(|| format!("cannot restrict access to {}", self.root.display()))?;
        let publisher = PublisherKey::generate();
        write_secret(&self.root.join(NODE_KEY_FILE), &PublisherKey::generate().seed())?;
        if !self.config_path().exists() {
            fs::write(self.config_path(), config::DEFAULT_TOML)
                .with_context(|| format!("cannot write {}", self.config_path().display()))?;
        }
        if let Some(organisation) = organisation {
            let path = self.root.join(ORGANISATION_FILE);
            fs::write(&path, format!("{organisation}\n"))
                .with_context(|| format!("cannot write {}", path.display()))?;
        }
        // The publisher key is written last: its presence marks the directory as initialised.
        write_secret(&self.root.join(PUBLISHER_KEY_FILE), &publisher.seed())?;
        Ok(publisher)
    }

    /// Makes this a data directory for an operator of `organisation` (a staff member's laptop,
    /// a second node): its key signs the organisation's records once the organisation's
    /// identity lists it. No profile: the organisation has one.
    pub fn initialise_operator(&self, organisation: record::PublisherId) -> Result<(Signer, Store)> {
        let key = self.create_for(Some(organisation))?;
        let store = self.open_store(&self.config()?)?;
        Ok((Signer::operator(organisation, key), store))
    }

    /// The key this node signs with and the organisation it signs for.
    pub fn signer(&self) -> Result<Signer> {
        let key = self.publisher_key()?;
        let path = self.root.join(ORGANISATION_FILE);
        match fs::read_to_string(&path) {
            Ok(text) => {
                let organisation = text.trim().parse().map_err(|_| {
                    anyhow::anyhow!("{} does not hold an organisation's key (64 hex characters)", path.display())
                })?;
                Ok(Signer::operator(organisation, key))
            }
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(Signer::own(key)),
            Err(error) => Err(anyhow::anyhow!("cannot read {}: {error}", path.display())),
        }
    }

    /// Makes this a data directory for a new publisher with this profile (keys, settings and a
    /// signed profile record); returns the key and the open store.
    pub fn initialise(&self, profile: Profile) -> Result<(PublisherKey, Store)> {
        let draft = Draft {
            kind: Kind::Profile,
            slug: PROFILE_SLUG.to_owned(),
            revision: 1,
            timestamp_ms: crate::author::now_ms(),
            body: Body::Profile(profile),
        };
        // Check the profile before anything is written, so a bad name leaves no half-made directory.
        record::sign(&PublisherKey::generate(), draft.clone())?;
        let key = self.create()?;
        let store = self.open_store(&self.config()?)?;
        store.insert_durable(&record::sign(&key, draft)?)?;
        Ok((key, store))
    }

    /// Fails with a hint when `citymesh init` has not run here.
    pub fn require_initialised(&self) -> Result<()> {
        if !self.is_initialised() {
            return Err(NotInitialised(self.root.display().to_string()).into());
        }
        Ok(())
    }

    /// Fails with a hint when there is no store here to read (no `init`, no `import`).
    pub fn require_store(&self) -> Result<()> {
        if !self.root.join(STORE_DIR).exists() {
            bail!(
                "{} holds no citymesh store: run `citymesh init` (or `citymesh import DIR` to restore records), or point --data-dir (or CITYMESH_HOME) at an existing data directory",
                self.root.display()
            );
        }
        Ok(())
    }

    /// This node's publisher, if it has a key (a directory made by `import` alone has none).
    pub fn publisher(&self) -> Result<Option<record::PublisherId>> {
        if !self.is_initialised() {
            return Ok(None);
        }
        Ok(Some(self.signer()?.publisher()))
    }

    /// Reads and checks the settings.
    pub fn config(&self) -> Result<Config> {
        Ok(Config::load(&self.config_path())?)
    }

    /// The key this node signs with.
    pub fn publisher_key(&self) -> Result<PublisherKey> {
        self.require_initialised()?;
        read_secret(&self.root.join(PUBLISHER_KEY_FILE)).map(PublisherKey::from_seed)
    }

    /// The node's network identity key.
    pub fn node_key(&self) -> Result<[u8; 32]> {
        self.require_initialised()?;
        read_secret(&self.root.join(NODE_KEY_FILE))
    }

    /// The API's bearer token, created (mode 0600) the first time it is asked for.
    /// Where the API token is kept.
    pub fn token_path(&self) -> PathBuf {
        self.root.join(TOKEN_FILE)
    }

    pub fn api_token(&self) -> Result<String> {
        let path = self.root.join(TOKEN_FILE);
        if !path.exists() {
            write_secret(&path, &rand::random())?;
        }
        self.existing_api_token()?.context("the API token was not written")
    }

    /// The token, if a node has made one; the CLI sends it with writes.
    pub fn existing_api_token(&self) -> Result<Option<String>> {
        let path = self.root.join(TOKEN_FILE);
        if !path.exists() {
            return Ok(None);
        }
        read_secret(&path).map(|token| Some(record::to_hex(&token)))
    }

    /// Tells CLI commands where the running node's API is.
    pub fn write_api_addr(&self, address: std::net::SocketAddr) -> Result<()> {
        let path = self.root.join(API_ADDR_FILE);
        fs::write(&path, format!("{address}\n")).with_context(|| format!("cannot write {}", path.display()))
    }

    /// The address a running node wrote, if any (it may be stale after a crash).
    pub fn api_addr(&self) -> Option<std::net::SocketAddr> {
        fs::read_to_string(self.root.join(API_ADDR_FILE)).ok()?.trim().parse().ok()
    }

    pub fn remove_api_addr(&self) {
        let _ = fs::remove_file(self.root.join(API_ADDR_FILE));
    }

    /// Peers this node connected to before, as multiaddrs ending in `/p2p/<peer id>`.
    pub fn known_peers(&self) -> Vec<String> {
        fs::read_to_string(self.root.join(PEERS_FILE))
            .map(|text| text.lines().map(str::trim).filter(|line| !line.is_empty()).map(str::to_owned).collect())
            .unwrap_or_default()
    }

    /// Remembers a peer's address, most recent first, so that a restart reconnects.
    pub fn remember_peer(&self, address: &str) -> Result<()> {
        let mut peers = self.known_peers();
        peers.retain(|known| known != address);
        peers.insert(0, address.to_owned());
        peers.truncate(MAX_KNOWN_PEERS);
        let path = self.root.join(PEERS_FILE);
        let partial = path.with_extension("partial");
        fs::write(&partial, peers.join("\n") + "\n")
            .and_then(|_| fs::rename(&partial, &path))
            .with_context(|| format!("cannot write {}", path.display()))
    }

    /// The partners added by invite code and the blocklist (none yet when the file is missing).
    pub fn trust_file(&self) -> Result<crate::trust::TrustFile> {
        let path = self.root.join(TRUST_FILE);
        match fs::read_to_string(&path) {
            Ok(text) => crate::trust::TrustFile::parse(&text)
                .map_err(|error| anyhow::anyhow!("{} is damaged: {error}; fix or remove it", path.display())),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(crate::trust::TrustFile::default()),
            Err(error) => Err(error).with_context(|| format!("cannot read {}", path.display())),
        }
    }

    /// Replaces `partners.json` atomically (written beside it, flushed, then renamed).
    pub fn write_trust_file(&self, file: &crate::trust::TrustFile) -> Result<()> {
        let path = self.root.join(TRUST_FILE);
        let partial = path.with_extension("partial");
        let text = serde_json::to_string_pretty(file)? + "\n";
        fs::File::create(&partial)
            .and_then(|mut out| out.write_all(text.as_bytes()).and_then(|()| out.sync_all()))
            .and_then(|()| fs::rename(&partial, &path))
            .with_context(|| format!("cannot write {}", path.display()))
    }

    /// Opens the store, saying plainly when another process holds it.
    pub fn open_store(&self, config: &Config) -> Result<Store> {
        match Store::open(&self.root.join(STORE_DIR), &config.store_options()) {
            Ok((store, report)) => {
                if report.rebuilt || report.dropped > 0 {
                    tracing::warn!(
                        rebuilt = report.rebuilt,
                        dropped = report.dropped,
                        "the store was not closed cleanly and has been repaired"
                    );
                }
                Ok(store)
            }
            Err(StoreError::InUse(_)) => bail!(
                "data directory {} is in use by another citymesh process; stop it first, or use another --data-dir",
                self.root.display()
            ),
            Err(error) => Err(error).with_context(|| format!("cannot open the store in {}", self.root.display())),
        }
    }
}

impl DataDir {
    /// Where the search index is kept (a cache of the store, rebuilt when missing).
    pub fn search_path(&self) -> PathBuf {
        self.root.join(SEARCH_DIR)
    }

    /// The attachments' files (`blobs/`).
    pub fn blobs_path(&self) -> PathBuf {
        self.root.join("blobs")
    }
}

/// Writes a new key file (one line of hex, readable by its owner only); never overwrites one.
pub fn write_key_file(path: &Path, key: &PublisherKey) -> Result<()> {
    write_secret(path, &key.seed())
}

/// Reads a key file that `write_key_file` (or `citymesh init`, as `publisher.key`) wrote.
pub fn read_key_file(path: &Path) -> Result<PublisherKey> {
    read_secret(path).map(PublisherKey::from_seed)
}

fn write_secret(path: &Path, seed: &[u8; 32]) -> Result<()> {
    let mut file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .with_context(|| format!("cannot create {}", path.display()))?;
    writeln!(file, "{}", record::to_hex(seed))
        .and_then(|_| file.sync_all())
        .with_context(|| format!("cannot write {}", path.display()))
}

fn read_secret(path: &Path) -> Result<[u8; 32]> {
    let bytes = fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    let text = String::from_utf8_lossy(&bytes);
    let seed = record::parse_hex32(text.trim()).map_err(|_| {
        anyhow::anyhow!("{} is not a citymesh key file: expected one line of 64 hex characters", path.display())
    })?;
    if let Ok(meta) = fs::metadata(path)
        && meta.permissions().mode() & 0o077 != 0
    {
        tracing::warn!("{} can be read by other users; run `chmod 600` on it", path.display());
    }
    Ok(seed)
}
