//! citymesh: a peer-to-peer knowledge-sharing node for cities.
//!
//! Each city runs a node that keeps signed best-practice documents ("practice notes") and
//! shares them with partner cities. Modules, in the order a newcomer should read them; each
//! uses only modules above it:
//!
//! - [`hex`]: bytes as hex text (ids, keys, hashes). Pure.
//! - [`wire`]: the protobuf types of `proto/citymesh.proto` and their encoding. Names prost.
//! - [`compress`]: Zstandard, bounded: fetch answers on the wire, envelopes at rest with a trained dictionary. Names zstd.
//! - [`vocab`]: the controlled vocabularies (themes, SDG targets, ISO codes, licences). Pure.
//! - [`record`]: records: signing, verification, ids, limits, the head rule, the body rules. Pure; names ed25519-dalek.
//! - [`identity`]: organisation identities: the signed log of governance and operator keys, forks, revocation. Pure (draft: not yet on the wire).
//! - [`reconcile`]: range-based set reconciliation (Negentropy V1 messages); pure, for sync.
//! - [`fields`]: each record kind's fields described once, in one table per kind. Pure.
//! - [`markdown`]: practice notes as Markdown files with front matter, read and written. Names serde_norway.
//! - [`store`]: the sled store: records, heads, indexes, durability, repair. Names sled.
//! - [`blobs`]: attachments' bytes as content-addressed files beside the store, written whole or not at all.
//! - [`ingest`]: the pipeline from envelopes to stored records: parallel verification, batched storage.
//! - [`search`]: the full-text index over current practice notes, facets and snippets; a cache of the store. Names tantivy.
//! - [`view`]: what readers see of the store, as typed views (the API's JSON, the pages', the CLI's).
//! - [`transfers`]: transfers between cities: engagements confirmed by both sides or claimed by one, outcomes, evidence. Pure.
//! - [`matching`]: requests matched to offers, practice notes and organisations, ranked with reasons. Pure.
//! - [`ics`]: events as iCalendar files and the calendar feed (RFC 5545). Pure.
//! - [`trust`]: whose records the node keeps (the trust policy). Pure.
//! - [`config`]: the settings file, read and checked once. Names toml.
//! - [`author`]: what a publisher signs: a note as its next revision, a withdrawal, its profile.
//! - [`invite`]: invite codes, one line naming a node to partner with. Pure.
//! - [`datadir`]: the data directory: keys, settings, store, token, peers and partners files.
//! - [`partners`]: partners from invite codes, the blocklist, partnership records.
//! - [`net`]: the swarm actor: transports, gossipsub, identify, ping, Kademlia. Names libp2p.
//! - [`archive`]: a data directory opened for use, and every use case that needs no network.
//! - [`sync`]: catch-up with a peer as an I/O-free state machine, and answers to peers' requests.
//! - [`metrics`]: the node's Prometheus metrics. Names prometheus-client.
//! - [`node`]: a running node behind [`node::NodeHandle`], whose methods are its use cases.
//! - [`api`]: the HTTP JSON API, the web page and `/metrics`, over a `NodeHandle`. Names axum and askama.
//! - [`daemon`]: `citymesh run`: a node and its HTTP server, started and stopped together.
//! - [`cli`]: the `citymesh` subcommands, through a running node's API or on the data directory. Names clap.
//! - `fuzz` (cargo feature `fuzz`): what the fuzz targets in `fuzz/` check; the tests replay their corpus.
//!
//! Architecture invariants (stated as absences):
//! - Nothing reaches the store unverified: a [`record::Record`] exists only through
//!   [`record::sign`] or [`record::verify`], and [`store::Store::insert`] takes only that type.
//! - Nothing acknowledges a write before [`store::Store::flush`] has returned.
//! - `record`, `identity`, `vocab`, `reconcile`, `fields`, `markdown` and `sync` do no I/O.
//! - Nothing below `cli` reads the environment; configuration is read once and passed down.
//! - No front end does a use case's steps itself: the API, the web page and the demo call
//!   [`node::NodeHandle`] methods, the CLI calls them through the API or calls the same
//!   [`archive::Archive`] methods; no one outside `node` sees the node's state.
//! - Exactly one task owns the libp2p `Swarm`; everything else holds a [`net::NetHandle`], and
//!   the swarm task never awaits a full channel nor verifies or stores anything.
//! - No gossip message is forwarded before it is verified, stored and flushed.
//! - No heavy dependency is named outside its module, no module's `crate::` references close a
//!   cycle, and no file passes 600 lines (tests/it/tidy.rs checks all three).
//!
//! A new field of a kind is one entry in its table under [`fields`]; a new kind is its
//! message in `proto/`, one line in `record/kinds.rs` with a module for its rules
//! ([`record::KindBody`]), its table under [`fields`] if people write it, and its use cases as
//! [`archive::Archive`] and [`node::NodeHandle`] methods.

pub mod hex;
pub mod wire;
pub mod compress;
pub mod vocab;
pub mod record;
pub mod identity;
pub mod reconcile;
pub mod fields;
pub mod markdown;
pub mod store;
pub mod blobs;
pub mod ingest;
pub mod search;
pub mod view;
pub mod transfers;
pub mod matching;
pub mod ics;
pub mod trust;
pub mod config;
pub mod author;
pub mod organisation;
pub mod invite;
pub mod datadir;
pub mod partners;
pub mod net;
pub mod archive;
pub mod sync;
pub mod metrics;
pub mod node;
pub mod api;
pub mod daemon;
pub mod cli;
#[cfg(feature = "fuzz")]
pub mod fuzz;
