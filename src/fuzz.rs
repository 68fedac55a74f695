//! What the fuzz targets check, on any bytes at all. The cargo-fuzz targets in `fuzz/` call
//! these, and `cargo test` replays every input kept in `fuzz/corpus/` and `fuzz/found/`
//! through them (tests/it/fuzz.rs), so a crash found once stays fixed.
//!
//! Each check ends without a word for input that is refused with an error, and panics when
//! the code under test panics or breaks a property that must hold for any input:
//! - [`envelope`]: a record that verifies re-encodes to an envelope that verifies to the same
//!   record, and its claimed id and publisher are the verified ones. The first byte chooses
//!   how much of the input is made right first (signed under a fixed key; with the body's
//!   hash and length put in the header), so the rules after the signature and the body's
//!   rules are reached too.
//! - [`markdown`]: a note that parses renders to Markdown that parses to the same note.
//! - [`reconciliation`]: a message is answered (as responder and as initiator) within the
//!   frame limit or refused; the sync and fetch messages decode or are refused; an answer frame
//!   of version 2 decompresses within its limit, and a refusal reads back as written.
//! - [`invite_code`]: a code that decodes encodes to a code that decodes to the same
//!   invitation. Half the inputs are made into codes with a correct checksum first, so the
//!   payload's checks are reached.
//! - [`Api::check`]: a POST body sent to a running node's JSON API over HTTP is answered with
//!   a status below 500, and a refusal is a JSON object naming the error.

use std::path::Path;
use std::sync::OnceLock;
use std::time::Duration;

use anyhow::{Context, Result};
use sha2::{Digest, Sha256};
use tokio_util::sync::CancellationToken;

use crate::daemon::{Daemon, RunOptions};
use crate::datadir::DataDir;
use crate::invite::{self, InviteCode};
use crate::reconcile::{Item, ItemSet, Session};
use crate::record::{self, PublisherKey};
use crate::wire::{self, Envelope, FetchRequest, FetchResponse, Header, SyncRequest, SyncResponse};

/// "Now" for verification: fixed, so that an input means the same thing on every run.
const NOW_MS: i64 = 1_800_000_000_000;

/// Checks the envelope decoder and verifier.
pub fn envelope(data: &[u8]) {
    let Some((&mode, rest)) = data.split_first() else { return };
    if mode & 1 == 0 {
        check_envelope(rest);
    } else if let Ok(envelope) = wire::decode::<Envelope>(rest) {
        check_envelope(&signed(envelope.header, envelope.body, mode & 2 != 0));
    }
}

/// The header (made this key's when it decodes, and made to describe the body when `describe`)
/// and body, signed.
fn signed(header: Vec<u8>, body: Vec<u8>, describe: bool) -> Vec<u8> {
    static KEY: OnceLock<PublisherKey> = OnceLock::new();
    let key = KEY.get_or_init(|| PublisherKey::from_seed([7; 32]));
    let header = match wire::decode::<Header>(&header) {
        Ok(mut decoded) => {
            decoded.publisher = key.publisher().0.to_vec();
            if describe {
                decoded.body_sha256 = Sha256::digest(&body).to_vec();
                decoded.body_len = body.len() as u64;
            }
            wire::encode(&decoded)
        }
        Err(_) => header,
    };
    record::signed_envelope(key, header, body)
}

fn check_envelope(data: &[u8]) {
    let claimed = record::claimed(data);
    let Ok(verified) = record::verify(data, NOW_MS) else { return };
    assert_eq!(claimed, Some((verified.id(), verified.publisher().0)), "claimed() disagrees with verify()");
    let again =
        record::verify(&verified.envelope_bytes(), NOW_MS).expect("a verified record re-encodes to a valid one");
    assert_eq!(again.id(), verified.id());
    assert_eq!(again.body_bytes(), verified.body_bytes());
    assert_eq!(again.parse_body().ok(), verified.parse_body().ok());
}

/// Checks the Markdown reader (front matter and sections) against the writer.
pub fn markdown(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let Ok(note) = crate::markdown::parse(text, crate::vocab::DEFAULT_LICENSE) else { return };
    let rendered = crate::markdown::render(&note.slug, &note.practice);
    let again = crate::markdown::parse(&rendered, crate::vocab::DEFAULT_LICENSE)
        .unwrap_or_else(|error| panic!("a rendered note does not parse: {error}\n{rendered}"));
    assert_eq!(again, note, "a note changed on its way through Markdown:\n{rendered}");
}

/// Frame limit for the reconciliation checks: small, so that the limit is reached.
const FRAME_LIMIT: usize = 4096;

/// Checks the reconciliation message reader, and the sync and fetch message decoders.
pub fn reconciliation(data: &[u8]) {
    static SET: OnceLock<ItemSet> = OnceLock::new();
    let set = SET.get_or_init(|| {
        // Items at few timestamps, so that bounds need id prefixes.
        let items = (0u32..2_000)
            .map(|n| {
                let mut id = [0; 32];
                id[..4].copy_from_slice(&n.wrapping_mul(2_654_435_761).to_be_bytes());
                Item { timestamp: 1_700_000_000_000 + u64::from(n % 50), id }
            })
            .collect();
        ItemSet::new(items)
    });
    let limit = |message: &[u8]| {
        assert!(message.len() <= FRAME_LIMIT, "a message of {} bytes is over the frame limit", message.len());
    };
    let mut responder = Session::new(set, FRAME_LIMIT).expect("a valid frame limit");
    if let Ok(answer) = responder.respond(data) {
        limit(&answer);
    }
    let mut initiator = Session::new(set, FRAME_LIMIT).expect("a valid frame limit");
    limit(&initiator.initiate());
    let (mut have, mut need) = (Vec::new(), Vec::new());
    if let Ok(Some(next)) = initiator.reconcile(data, &mut have, &mut need) {
        limit(&next);
    }
    for id in have.iter().chain(&need) {
        assert_eq!(id.len(), 32);
    }
    let _ = wire::decode::<SyncRequest>(data);
    let _ = wire::decode::<SyncResponse>(data);
    let _ = wire::decode::<FetchRequest>(data);
    let _ = wire::decode::<FetchResponse>(data);
    // Version 2's answer frames: bounded when decompressed, and a refusal reads back as written.
    for fetch in [false, true] {
        match crate::net::decode_answer(fetch, data) {
            Ok(crate::net::Answer::Message { bytes, .. }) => assert!(bytes.len() <= crate::net::MAX_RESPONSE),
            Ok(refused) => {
                let again = crate::net::encode_answer(fetch, &refused).expect("a refusal encodes");
                assert_eq!(crate::net::decode_answer(fetch, &again).as_ref(), Ok(&refused));
            }
            Err(_) => {}
        }
    }
}

/// Checks the invite-code reader against the writer.
pub fn invite_code(data: &[u8]) {
    let Some((&mode, rest)) = data.split_first() else { return };
    let text = if mode & 1 == 0 {
        let Ok(text) = std::str::from_utf8(rest) else { return };
        text.to_owned()
    } else {
        invite::code_of_payload(rest.to_vec())
    };
    let Ok(code) = InviteCode::decode(&text) else { return };
    let again = InviteCode::decode(&code.encode()).expect("an encoded invitation decodes");
    assert_eq!(again, code);
}

/// The JSON routes that take a body, chosen by an input's first byte.
pub const API_ROUTES: [&str; 10] = [
    "/api/v1/publish",
    "/api/v1/withdraw",
    "/api/v1/import",
    "/api/v1/sync",
    "/api/v1/partners",
    "/api/v1/partners/remove",
    "/api/v1/blocks",
    "/api/v1/blocks/remove",
    "/api/v1/profile",
    "/api/v1/policy",
];

/// A node running in this process, for the API check; stopped when dropped.
pub struct Api {
    runtime: tokio::runtime::Runtime,
    node: Option<Daemon>,
    shutdown: CancellationToken,
    agent: ureq::Agent,
    base: String,
    token: String,
}

impl Api {
    /// Makes `root` (which must not exist yet) a data directory and runs a node on it, on
    /// loopback, talking to nobody.
    pub fn start(root: &Path) -> Result<Api> {
        let data = DataDir::new(root);
        let profile = wire::Profile {
            name: "Fuzz City".to_owned(),
            organisation_type: "local-government".to_owned(),
            ..wire::Profile::default()
        };
        data.initialise(profile)?;
        std::fs::write(data.config_path(), "[node]\ndiscovery = false\nmdns = false\n")
            .context("cannot write config.toml")?;
        let token = data.api_token()?;
        let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()?;
        let shutdown = CancellationToken::new();
        let options = RunOptions {
            listen: vec!["/ip4/127.0.0.1/tcp/0".to_owned()],
            bootstrap: Vec::new(),
            api_listen: Some(([127, 0, 0, 1], 0).into()),
        };
        let node = runtime.block_on(Daemon::start(data, options, shutdown.clone()))?;
        let base = format!("http://{}", node.api_addr);
        let agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(60)))
            .build()
            .into();
        Ok(Api { runtime, node: Some(node), shutdown, agent, base, token })
    }

    /// One node for the whole process, in a fresh folder under the system's temporary folder
    /// (for the fuzz targets, which cannot clean up after themselves).
    pub fn shared() -> &'static Api {
        static API: OnceLock<Api> = OnceLock::new();
        API.get_or_init(|| {
            let root = std::env::temp_dir().join(format!("citymesh-fuzz-api-{}", std::process::id()));
            let _ = std::fs::remove_dir_all(&root);
            Api::start(&root).expect("a node for the API target starts")
        })
    }

    /// Sends the input's body to the route its first byte chooses, with the node's token.
    pub fn check(&self, data: &[u8]) {
        let Some((&choice, body)) = data.split_first() else { return };
        let route = API_ROUTES[usize::from(choice) % API_ROUTES.len()];
        let mut answer = self
            .agent
            .post(format!("{}{route}", self.base))
            .header("Authorization", format!("Bearer {}", self.token))
            .header("Content-Type", "application/json")
            .send(body)
            .unwrap_or_else(|error| panic!("{route} did not answer: {error}"));
        let status = answer.status();
        let text = answer.body_mut().read_to_string().unwrap_or_default();
        assert!(status.as_u16() < 500, "{route} answered {status}: {text}");
        if status.is_client_error() {
            let refusal: serde_json::Value = serde_json::from_str(&text)
                .unwrap_or_else(|error| panic!("{route} refused with a body that is not JSON ({error}): {text}"));
            assert!(refusal["error"].is_string() && refusal["detail"].is_string(), "{route} refused with {text}");
        }
    }
}

impl Drop for Api {
    fn drop(&mut self) {
        self.shutdown.cancel();
        if let Some(node) = self.node.take() {
            let _ = self.runtime.block_on(node.stopped());
        }
    }
}

/// A draft signed with `key` as its own publisher, its rules unchecked: for tests of what a
/// node does with records that break the rules after the signature.
pub fn sign_unchecked(key: &PublisherKey, draft: record::Draft) -> Vec<u8> {
    record::draft_envelope(key.publisher(), key, draft)
}
