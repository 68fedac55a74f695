//! Writes the fuzz targets' seed corpus into `fuzz/corpus/<target>/`: the spec's test vectors,
//! the example notes, reconciliation messages of a real session, invite codes and API bodies.
//! Run from the repository root: `cargo run --example fuzz_seeds`. The files are committed;
//! running it again rewrites the same seeds (and leaves what the fuzzer added).

use std::fs;
use std::path::Path;

use anyhow::{Context, Result};
use citymesh::invite::InviteCode;
use citymesh::reconcile::{Item, ItemSet, Session};
use citymesh::record::{self, Draft, Kind, PublisherKey};
use citymesh::wire::{self, FetchRequest, Partnership, Profile, SyncRequest, SyncResponse, Tombstone};
use sha2::{Digest, Sha256};

fn write(target: &str, seed: &[u8]) -> Result<()> {
    let folder = Path::new("fuzz/corpus").join(target);
    fs::create_dir_all(&folder)?;
    // Named by content, as libFuzzer names what it adds.
    let name: String = Sha256::digest(seed)[..20].iter().map(|byte| format!("{byte:02x}")).collect();
    fs::write(folder.join(name), seed).with_context(|| format!("cannot write a seed for {target}"))
}

/// Every mode of a target whose first byte chooses one of `modes`.
fn write_modes(target: &str, modes: u8, seed: &[u8]) -> Result<()> {
    for mode in 0..modes {
        write(target, &[[mode].as_slice(), seed].concat())?;
    }
    Ok(())
}

fn main() -> Result<()> {
    let examples = ["community-composting", "bus-rapid-transit", "participatory-budgeting"]
        .map(|name| fs::read_to_string(format!("config/examples/{name}.md")));
    let mut notes = Vec::new();
    for markdown in examples {
        let markdown = markdown.context("run this from the repository root")?;
        write("markdown", markdown.as_bytes())?;
        notes.push(citymesh::markdown::parse(&markdown, citymesh::vocab::DEFAULT_LICENSE)?);
    }

    // Envelopes: every test vector (valid and invalid), and one record of each kind.
    let vectors: serde_json::Value = serde_json::from_str(&fs::read_to_string("proto/test-vectors.json")?)?;
    for vector in vectors["vectors"].as_array().context("test vectors")? {
        let hex = vector["envelope_hex"].as_str().context("envelope_hex")?;
        write_modes("envelope", 4, &record::parse_hex(hex).map_err(anyhow::Error::msg)?)?;
    }
    let key = PublisherKey::from_seed([7; 32]);
    let other = PublisherKey::from_seed([8; 32]);
    let at = 1_767_225_600_000;
    let draft = |kind, slug: &str, body| Draft { kind, slug: slug.to_owned(), revision: 1, timestamp_ms: at, body };
    let drafts = [
        draft(Kind::Practice, &notes[0].slug, record::Body::Practice(notes[0].practice.clone())),
        draft(
            Kind::Profile,
            "profile",
            record::Body::Profile(Profile {
                name: "Surabaya".into(),
                organisation_type: "local-government".into(),
                ..Profile::default()
            }),
        ),
        draft(
            Kind::Partnership,
            &other.publisher().to_string(),
            record::Body::Partnership(Partnership { partner: other.publisher().0.to_vec() }),
        ),
        draft(Kind::Practice, "withdrawn", record::Body::Tombstone(Tombstone { reason: "superseded".into() })),
    ];
    for draft in drafts {
        write_modes("envelope", 4, &record::sign(&key, draft)?.envelope_bytes())?;
    }

    // Reconciliation: the messages of a session between two sets that differ a little.
    let item = |n: u32| {
        let mut id = [0; 32];
        id[..4].copy_from_slice(&n.wrapping_mul(2_654_435_761).to_be_bytes());
        Item { timestamp: 1_700_000_000_000 + u64::from(n % 50), id }
    };
    let ours = ItemSet::new((0..2_000).map(item).collect());
    let theirs = ItemSet::new((0..2_100).filter(|n| n % 97 != 0).map(item).collect());
    let mut initiator = Session::new(&ours, 4096)?;
    let mut responder = Session::new(&theirs, 4096)?;
    let mut message = initiator.initiate();
    let (mut have, mut need) = (Vec::new(), Vec::new());
    for _ in 0..16 {
        write("reconciliation", &message)?;
        let answer = responder.respond(&message)?;
        write("reconciliation", &answer)?;
        write(
            "reconciliation",
            &wire::encode(&SyncRequest { publishers: vec![vec![1; 32]], all: false, negentropy: message }),
        )?;
        write("reconciliation", &wire::encode(&SyncResponse { negentropy: answer.clone(), versions: Vec::new() }))?;
        match initiator.reconcile(&answer, &mut have, &mut need)? {
            Some(next) => message = next,
            None => break,
        }
    }
    write("reconciliation", &wire::encode(&FetchRequest { ids: need.iter().take(8).map(|id| id.to_vec()).collect() }))?;
    write("reconciliation", &[0x62])?;

    // Invite codes: a whole one, as text and as its payload.
    let code = InviteCode {
        publisher: key.publisher(),
        peer_id: "12D3KooWEyoppNCUx8Yx66oV9fJnriXwCcXwDDUA2kj6vnc6iDEp".into(),
        addresses: vec!["/ip4/203.0.113.7/tcp/7879".into(), "/dns4/node.surabaya.example/udp/7879/quic-v1".into()],
        name: "Surabaya".into(),
    };
    let text = code.encode();
    write("invite_code", &[[0].as_slice(), text.as_bytes()].concat())?;
    write("invite_code", &[[0].as_slice(), text.to_uppercase().as_bytes()].concat())?;
    let payload = wire::encode(&wire::Invite {
        publisher: code.publisher.0.to_vec(),
        peer_id: code.peer_id.clone(),
        addresses: code.addresses.clone(),
        name: code.name.clone(),
    });
    write("invite_code", &[[1].as_slice(), &payload].concat())?;

    // API bodies: the first byte chooses the route (citymesh::fuzz::API_ROUTES).
    let route = |path: &str| citymesh::fuzz::API_ROUTES.iter().position(|route| *route == path).expect("a route") as u8;
    let example = serde_json::json!({ "markdown": fs::read_to_string("config/examples/bus-rapid-transit.md")? });
    let envelope = record::to_hex(&record::sign(&other, draft_of(&notes[1], at))?.envelope_bytes());
    let bodies = [
        ("/api/v1/publish", example.to_string()),
        ("/api/v1/publish", serde_json::json!({"markdown": "---\nslug: x\n---\n", "base_revision": 3}).to_string()),
        ("/api/v1/withdraw", r#"{"slug": "bus-rapid-transit", "reason": "replaced"}"#.to_owned()),
        ("/api/v1/import", serde_json::json!({ "envelopes": [envelope, "00ff", "zz"] }).to_string()),
        ("/api/v1/sync", r#"{"peer": "12D3KooWEyoppNCUx8Yx66oV9fJnriXwCcXwDDUA2kj6vnc6iDEp"}"#.to_owned()),
        ("/api/v1/partners", serde_json::json!({ "code": text, "label": "sister city" }).to_string()),
        ("/api/v1/partners/remove", serde_json::json!({ "publisher": key.publisher().to_string() }).to_string()),
        ("/api/v1/blocks", serde_json::json!({ "publisher": other.publisher().to_string() }).to_string()),
        ("/api/v1/blocks/remove", serde_json::json!({ "publisher": other.publisher().to_string() }).to_string()),
        ("/api/v1/profile", r#"{"name": "Fuzz City", "country": "ID", "website": "https://example.org"}"#.to_owned()),
        ("/api/v1/policy", r#"{"policy": "partners+1"}"#.to_owned()),
    ];
    for (path, body) in bodies {
        write("api", &[[route(path)].as_slice(), body.as_bytes()].concat())?;
    }
    println!("seeds written to fuzz/corpus/");
    Ok(())
}

fn draft_of(note: &citymesh::markdown::Note, at: i64) -> Draft {
    Draft {
        kind: Kind::Practice,
        slug: note.slug.clone(),
        revision: 1,
        timestamp_ms: at,
        body: record::Body::Practice(note.practice.clone()),
    }
}
