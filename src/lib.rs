//! citymesh: a peer-to-peer knowledge-sharing node for cities.
//!
//! Each city runs a node that keeps signed best-practice documents ("practice notes") and
//! shares them with partner cities. Modules, in the order a newcomer should read them:
//!
//! - [`hex`]: bytes as hex text (ids, keys, hashes). Pure.
//! - [`record`]: records: signing, verification, ids, limits, the head rule. Pure; names ed25519-dalek.
//! - [`wire`]: the protobuf types of `proto/citymesh.proto` and their encoding. Names prost.
//! - [`vocab`]: the controlled vocabularies (themes, SDG targets, ISO codes, licences). Pure.
//! - [`reconcile`]: range-based set reconciliation (Negentropy V1 messages); pure, for sync.
//! - [`markdown`]: practice notes as Markdown files with front matter, read and written.
//! - [`store`]: the sled store: records, heads, indexes, durability, repair. Names sled.
//! - [`ingest`]: the pipeline from envelopes to stored records: parallel verification, batched storage.
//! - [`author`]: what a publisher does: publish a note as its next revision, withdraw one.
//! - [`view`]: what readers see of the store, as JSON (the CLI prints it; the API serves it).
//! - [`search`]: the full-text index over current practice notes, facets and snippets; a cache of the store. Names tantivy.
//! - [`config`]: the settings file, read and checked once.
//! - [`trust`]: whose records the node keeps (the trust policy). Pure.
//! - [`invite`]: invite codes, one line naming a node to partner with. Pure.
//! - [`datadir`]: the data directory: keys, settings, store, token, peers and partners files.
//! - [`partners`]: partners from invite codes, the blocklist, partnership records.
//! - [`net`]: the swarm actor: transports, gossipsub, identify, ping, Kademlia. Names libp2p.
//! - [`node`]: a running node: the gossip validator, the API server, shutdown.
//! - [`sync`]: catch-up with a peer: reconcile over /citymesh/sync/1, fetch over /citymesh/fetch/1.
//! - [`metrics`]: the node's Prometheus metrics. Names prometheus-client.
//! - [`api`]: the HTTP JSON API and `/metrics`. Names axum.
//! - [`cli`]: the `citymesh` subcommands, locally or through a running node's API. Names clap.
//! - [`fuzz`]: what the fuzz targets in `fuzz/` check, on any bytes; the tests replay their corpus.
//!
//! Architecture invariants (stated as absences):
//! - Nothing reaches the store unverified: a [`record::Record`] exists only through
//!   [`record::sign`] or [`record::verify`], and [`store::Store::insert`] takes only that type.
//! - Nothing acknowledges a write before [`store::Store::flush`] has returned.
//! - `record`, `vocab`, `reconcile` and `markdown` do no I/O.
//! - Nothing below `cli` reads the environment; configuration is read once and passed down.
//! - Exactly one task owns the libp2p `Swarm`; everything else holds a [`net::NetHandle`], and
//!   the swarm task never awaits a full channel nor verifies or stores anything.
//! - No gossip message is forwarded before it is verified, stored and flushed.

pub mod hex;
pub mod record;
pub mod wire;
pub mod vocab;
pub mod reconcile;
pub mod fields;
pub mod markdown;
pub mod store;
pub mod ingest;
pub mod author;
pub mod view;
pub mod search;
pub mod config;
pub mod trust;
pub mod invite;
pub mod datadir;
pub mod partners;
pub mod archive;
pub mod net;
pub mod node;
pub mod sync;
pub mod metrics;
pub mod api;
pub mod daemon;
pub mod cli;
#[cfg(feature = "fuzz")]
pub mod fuzz;
