//! `citymesh demo`: three example cities in one process, each with its own data directory,
//! publish a practice note each and pass their records to one another. Every record a city
//! receives goes through the same verification and storage as `import`.
//!
//! This version moves records between the cities' stores directly; live gossip between
//! running nodes comes with `citymesh run`.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};

use super::create;
use crate::author::{self, now_ms};
use crate::datadir::DataDir;
use crate::ingest::{self, Outcome};
use crate::record::{Body, PublisherKey};
use crate::store::Store;
use crate::wire::{Place, Profile};

struct City {
    folder: &'static str,
    name: &'static str,
    country: &'static str,
    place: &'static str,
    note: &'static str,
}

const CITIES: [City; 3] = [
    City {
        folder: "surabaya",
        name: "City of Surabaya",
        country: "ID",
        place: "Surabaya",
        note: include_str!("../../config/examples/community-composting.md"),
    },
    City {
        folder: "curitiba",
        name: "City of Curitiba",
        country: "BR",
        place: "Curitiba",
        note: include_str!("../../config/examples/bus-rapid-transit.md"),
    },
    City {
        folder: "porto-alegre",
        name: "City of Porto Alegre",
        country: "BR",
        place: "Porto Alegre",
        note: include_str!("../../config/examples/participatory-budgeting.md"),
    },
];

/// A city taking part in the demo.
struct Running {
    city: &'static City,
    data: DataDir,
    key: PublisherKey,
    store: Store,
}

pub(super) fn run(dir: Option<PathBuf>) -> Result<()> {
    let root = dir.unwrap_or_else(|| std::env::temp_dir().join(format!("citymesh-demo-{}", now_ms())));
    if root.read_dir().is_ok_and(|mut entries| entries.next().is_some()) {
        bail!("{} is not empty; give the demo a new or empty folder with --dir", root.display());
    }
    println!("citymesh demo: three cities, each with its own keys and store, in {}\n", root.display());
    let mut cities = Vec::new();
    for city in &CITIES {
        cities.push(start(city, &root)?);
    }
    println!();
    for running in &cities {
        let config = running.data.config()?;
        let published = author::publish(&running.store, &running.key, &config, running.city.note)
            .with_context(|| format!("{} could not publish its note", running.city.name))?;
        let title = match published.record.parse_body()? {
            Body::Practice(note) => note.title,
            _ => String::new(),
        };
        println!("{} publishes \"{title}\"", running.city.name);
        println!("    record {}", published.record.id());
    }
    println!("\nEach city receives the others' records and checks every signature before storing:");
    for receiver in &cities {
        for sender in cities.iter().filter(|sender| sender.city.folder != receiver.city.folder) {
            exchange(sender, receiver)?;
        }
    }
    println!("\nEvery city now holds {} records. Look around:", cities[0].store.len());
    let folder = root.join(cities[1].city.folder);
    let binary = std::env::args().next().unwrap_or_else(|| "citymesh".to_owned());
    println!("    {binary} --data-dir {} list", folder.display());
    println!("    {binary} --data-dir {} show community-composting --history", folder.display());
    println!("    {binary} --data-dir {} export {}", folder.display(), root.join("export").display());
    Ok(())
}

fn start(city: &'static City, root: &Path) -> Result<Running> {
    let data = DataDir::new(root.join(city.folder));
    let profile = Profile {
        name: city.name.to_owned(),
        organisation_type: "local-government".to_owned(),
        place: Some(Place { country: city.country.to_owned(), name: city.place.to_owned(), ..Place::default() }),
        ..Profile::default()
    };
    let (key, store) = create(&data, profile)?;
    println!("{:<22} publisher {}", city.name, key.publisher());
    Ok(Running { city, data, key, store })
}

/// Passes every record `sender` holds to `receiver` through the ingest pipeline.
fn exchange(sender: &Running, receiver: &Running) -> Result<()> {
    let envelopes: Vec<Vec<u8>> =
        sender.store.records().map(|record| record.map(|record| record.envelope_bytes())).collect::<Result<_, _>>()?;
    let (mut stored, mut held, mut rejected) = (0, 0, 0);
    let items = envelopes.into_iter().map(|bytes| ((), Ok(bytes)));
    ingest::ingest(&receiver.store, items, now_ms(), |(), outcome| match outcome {
        Outcome::Stored { .. } => stored += 1,
        Outcome::AlreadyHeld { .. } => held += 1,
        Outcome::Invalid(_) | Outcome::Unreadable(_) => rejected += 1,
    })?;
    println!(
        "    {:<22} <- {:<22} {stored} new, {held} already held, {rejected} rejected",
        receiver.city.name, sender.city.name
    );
    Ok(())
}
