//! The API's OpenAPI 3.1 document, served at `/api/v1/openapi.json`. It is made from one
//! table of routes, and a test checks that table against the routes `api::app` serves.

use serde_json::{Map, Value, json};

/// One route: method, path, what it does, whether it needs the token, its query parameters.
struct Route {
    method: &'static str,
    path: &'static str,
    summary: &'static str,
    write: bool,
    query: &'static [(&'static str, &'static str)],
}

const fn route(method: &'static str, path: &'static str, summary: &'static str) -> Route {
    Route { method, path, summary, write: false, query: &[] }
}

const fn write(path: &'static str, summary: &'static str) -> Route {
    Route { method: "post", path, summary, write: true, query: &[] }
}

const ROUTES: &[Route] = &[
    route(
        "get",
        "/api/v1/status",
        "The node: peer id, addresses, publisher, networks, records, peers, syncs, policy, penalties",
    ),
    Route {
        query: &[
            ("kind", "profile, practice, partnership, request, offer, event, engagement, outcome or endorsement"),
            ("publisher", "a publisher key, 64 hex characters"),
            ("theme", "a theme (practice notes)"),
            ("sdg", "an SDG target such as 11.6 (practice notes)"),
            ("country", "an ISO 3166-1 alpha-2 code (practice notes' location)"),
            ("language", "a BCP 47 tag (practice notes)"),
            ("status", "planned, ongoing, completed or discontinued (practice notes)"),
            ("limit", "rows per page, 1 to 1000 (default 100)"),
            ("cursor", "the next_cursor of the previous page"),
        ],
        ..route(
            "get",
            "/api/v1/records",
            "The head of every key, newest first, filtered, a page at a time: records, next_cursor",
        )
    },
    Route {
        query: &[
            ("q", "words to look for (all must match; \"phrases\", -exclusions); empty: newest first"),
            ("theme", "a theme"),
            ("sdg", "an SDG target such as 11.6"),
            ("country", "an ISO 3166-1 alpha-2 code"),
            ("language", "a BCP 47 tag"),
            ("publisher", "a publisher key, 64 hex characters"),
            ("status", "planned, ongoing, completed or discontinued"),
            ("limit", "hits per page, 1 to 100 (default 20)"),
            ("offset", "hits to skip, 0 to 10000"),
        ],
        ..route(
            "get",
            "/api/v1/search",
            "Full-text search over current practice notes: total, hits with snippet_html, facet counts",
        )
    },
    Route {
        query: &[("history", "true to list every revision held")],
        ..route(
            "get",
            "/api/v1/records/{target}",
            "One record by id, slug or publisher/slug, with its body and verification",
        )
    },
    route("get", "/api/v1/records/{target}/raw", "The envelope bytes exactly as stored (application/octet-stream)"),
    route(
        "get",
        "/api/v1/records/{target}/attachments",
        "The files a record names: attachments, each with sha256, size, name, media_type and here (its bytes are kept here)",
    ),
    Route {
        query: &[("after", "the next of the previous page"), ("limit", "envelopes per page, 1 to 1000")],
        ..route("get", "/api/v1/envelopes", "Every record in arrival order, as hex envelopes, a page at a time")
    },
    route(
        "get",
        "/api/v1/blobs/{sha256}",
        "An attachment's bytes by SHA-256 while a held record names it, with that record's type and file name",
    ),
    write(
        "/api/v1/publish",
        "Sign and store a Markdown record (its kind: says which; a practice note by default) as its next revision; gossip it",
    ),
    write("/api/v1/withdraw", "Withdraw one of this publisher's records (a practice note unless kind is given)"),
    Route {
        query: &[
            ("request", "the request to match: a record id, a slug or publisher/slug"),
            ("offer", "or the offer to match, the same way"),
            ("limit", "matches in each list, 1 to 100 (default 20)"),
        ],
        ..route(
            "get",
            "/api/v1/match",
            "What a request matches (offers, practices, organisations) or an offer does (open requests), with reasons",
        )
    },
    write("/api/v1/set-status", "Change the status of one of this publisher's requests, offers or events"),
    route("get", "/api/v1/engagements", "Every engagement held, confirmed by both sides or claimed by one"),
    route("get", "/api/v1/funnel", "Open requests, engagements, adopted, outcomes recorded"),
    route("get", "/api/v1/events.ics", "Every event held as an iCalendar feed (RFC 5545) to subscribe to"),
    route("get", "/api/v1/events/{file}", "One event as an iCalendar file: <slug or id>.ics"),
    route("get", "/api/v1/events/{publisher}/{file}", "One publisher's event as an iCalendar file: <slug>.ics"),
    write("/api/v1/import", "Verify and store envelopes given in hex"),
    write("/api/v1/sync", "Sync now with one connected peer or all of them"),
    Route {
        query: &[("addresses", "addresses to name instead of the listen addresses, comma-separated")],
        ..route("get", "/api/v1/invite", "This node's invite code")
    },
    route("get", "/api/v1/partners", "The trust policy and the partners"),
    write("/api/v1/partners", "Add a partner from its invite code"),
    write("/api/v1/partners/remove", "End a partnership made by invite code"),
    route("get", "/api/v1/peers", "Connected peers with their last sync, strikes and gossip score"),
    route("get", "/api/v1/blocks", "The blocked publishers"),
    write("/api/v1/blocks", "Block a publisher"),
    write("/api/v1/blocks/remove", "Unblock a publisher"),
    write("/api/v1/policy", "Change the trust policy"),
    write("/api/v1/profile", "Sign the next revision of this node's profile with the fields given"),
    route(
        "get",
        "/api/v1/identity",
        "An organisation's identity (this node's, or ?organisation=KEY's): governance keys, operators, revocations, history with each revision's witnesses, fork, conflicting receipts",
    ),
    write(
        "/api/v1/identity",
        "Sign the identity's next revision: {change: add-operator|renew|remove-operator, key, label, scopes, days, reason, since_ms}",
    ),
    write(
        "/api/v1/erasures",
        "Erase superseded revisions of this organisation's records: {ids: [...], reason}; nodes drop their bodies and receipt it",
    ),
    route("get", "/api/v1/openapi.json", "This document"),
    route("get", "/metrics", "Prometheus metrics (text format)"),
];

/// The document.
pub fn document() -> Value {
    let mut paths = Map::new();
    for route in ROUTES {
        let mut operation = json!({
            "summary": route.summary,
            "responses": {
                "200": {"description": "success"},
                "400": {"description": "bad input: {error, detail}, the detail names the field"},
                "404": {"description": "not found: {error, detail}"},
            },
        });
        if route.write {
            operation["security"] = json!([{"token": []}]);
            operation["responses"]["401"] = json!({"description": "no or wrong bearer token"});
            operation["requestBody"] = json!({"content": {"application/json": {"schema": {"type": "object"}}}});
        }
        let mut parameters: Vec<Value> = route
            .query
            .iter()
            .map(|(name, description)| {
                json!({"name": name, "in": "query", "required": false, "description": description, "schema": {"type": "string"}})
            })
            .collect();
        if route.path.contains("{target}") {
            let description = "a record id (64 hex characters) or a practice note's slug";
            parameters.push(json!({"name": "target", "in": "path", "required": true, "description": description, "schema": {"type": "string"}}));
        }
        if !parameters.is_empty() {
            operation["parameters"] = Value::Array(parameters);
        }
        let entry = paths.entry(route.path).or_insert_with(|| json!({}));
        entry[route.method] = operation;
    }
    json!({
        "openapi": "3.1.0",
        "info": {"title": "citymesh node API", "version": env!("CARGO_PKG_VERSION")},
        "components": {"securitySchemes": {"token": {"type": "http", "scheme": "bearer", "description": "the content of api.token in the data directory"}}},
        "paths": paths,
    })
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;

    /// Every `(method, path)` that `api::app` serves, read from its source.
    fn served() -> BTreeSet<(String, String)> {
        let source = include_str!("../api.rs");
        let mut out = BTreeSet::new();
        for part in source.split(".route(\"").skip(1) {
            let (path, rest) = part.split_once('"').unwrap();
            let handlers = &rest[..rest.find(")\n").unwrap_or(rest.len())];
            for method in ["get", "post", "put", "delete", "patch"] {
                if handlers.contains(&format!("{method}(")) {
                    out.insert((method.to_owned(), path.to_owned()));
                }
            }
        }
        out
    }

    #[test]
    fn the_document_lists_exactly_the_routes_served() {
        let documented: BTreeSet<(String, String)> =
            ROUTES.iter().map(|route| (route.method.to_owned(), route.path.to_owned())).collect();
        assert_eq!(documented.len(), ROUTES.len(), "a route is listed twice");
        let served = served();
        assert!(served.len() > 10, "the route source was not read: {served:?}");
        assert_eq!(documented, served);
        let document = document();
        assert_eq!(document["paths"]["/api/v1/records"]["get"]["parameters"][0]["name"], "kind");
        assert_eq!(document["paths"]["/api/v1/partners"]["post"]["security"][0]["token"], json!([]));
    }
}
