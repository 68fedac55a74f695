//! `citymesh demo`: three example cities in one process, each running its own node (data
//! directory, keys, store, libp2p identity, API) on loopback. They connect, publish a practice
//! note each, then the whole loop of city-to-city learning: Porto Alegre asks for help with
//! composting, Surabaya offers it and announces a study tour, and both sign their side of the
//! transfer, which is then confirmed. The demo prints each record as it arrives at the other
//! cities, verified and stored. The nodes then keep running until Ctrl-C, so that a newcomer
//! can use the CLI on them.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use tokio::sync::broadcast;
use tokio_util::sync::CancellationToken;

use crate::author::now_ms;
use crate::daemon::{Daemon, RunOptions};
use crate::datadir::DataDir;
use crate::node::{NodeHandle, Received};
use crate::wire::{Place, Profile};

struct City {
    folder: &'static str,
    name: &'static str,
    country: &'static str,
    place: &'static str,
    note: &'static str,
    /// What it publishes after every city's note: requests, offers, events, engagements, in
    /// Markdown where `{surabaya}` and `{porto-alegre}` stand for those cities' keys.
    learning: &'static [&'static str],
}

const CITIES: [City; 3] = [
    City {
        folder: "surabaya",
        name: "City of Surabaya",
        country: "ID",
        place: "Surabaya",
        note: include_str!("../../config/examples/community-composting.md"),
        learning: &[
            include_str!("../../config/examples/composting-offer.md"),
            include_str!("../../config/examples/composting-study-tour.md"),
            include_str!("../../config/examples/composting-engagement-provider.md"),
        ],
    },
    City {
        folder: "curitiba",
        name: "City of Curitiba",
        country: "BR",
        place: "Curitiba",
        note: include_str!("../../config/examples/bus-rapid-transit.md"),
        learning: &[],
    },
    City {
        folder: "porto-alegre",
        name: "City of Porto Alegre",
        country: "BR",
        place: "Porto Alegre",
        note: include_str!("../../config/examples/participatory-budgeting.md"),
        learning: &[
            include_str!("../../config/examples/composting-request.md"),
            include_str!("../../config/examples/composting-engagement-recipient.md"),
        ],
    },
];

/// A city taking part in the demo: its node runs in this process.
struct Running {
    city: &'static City,
    daemon: Daemon,
}

impl Running {
    fn node(&self) -> &NodeHandle {
        &self.daemon.node
    }
}

pub(super) fn run(dir: Option<PathBuf>, once: bool) -> Result<()> {
    let root = dir.unwrap_or_else(|| std::env::temp_dir().join(format!("citymesh-demo-{}", now_ms())));
    if root.read_dir().is_ok_and(|mut entries| entries.next().is_some()) {
        bail!("{} is not empty; give the demo a new or empty folder with --dir", root.display());
    }
    let runtime = tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
    runtime.block_on(live(root, once))
}

async fn live(root: PathBuf, once: bool) -> Result<()> {
    out!("citymesh demo: three cities, each with its own node, keys and store, in {}\n", root.display())?;
    let shutdown = CancellationToken::new();
    let mut cities: Vec<Running> = Vec::new();
    for city in &CITIES {
        // Each city connects to the one started before it; the nodes find the rest themselves.
        let bootstrap = match cities.last() {
            Some(previous) => vec![first_address(previous).await?],
            None => Vec::new(),
        };
        let running = start(city, &root, bootstrap, shutdown.clone()).await?;
        out!("{:<22} node started; web page at http://{}/", city.name, running.daemon.api_addr)?;
        cities.push(running);
    }
    wait_for_mesh(&cities).await?;
    out!("\nThe three nodes are connected. Each city introduces itself and publishes a practice note;")?;
    out!("every node checks each record's signature before storing it and passing it on:\n")?;
    let mut arrivals = Vec::new();
    for receiver in &cities {
        arrivals.push((receiver.city.name, receiver.node().subscribe()));
    }
    // Each city's profile and note, and what it publishes of the learning loop.
    let total: usize = cities.iter().map(|running| 2 + running.city.learning.len()).sum();
    let expected = total * (cities.len() - 1);
    for running in &cities {
        publish(running).await?;
    }
    let names: Vec<(String, &str)> =
        cities.iter().map(|running| (running.node().publisher().to_string(), running.city.name)).collect();
    out!("\nPorto Alegre asks for help with composting; Surabaya offers it, announces a study tour, and")?;
    out!("both sign their side of the transfer, which every node then shows as confirmed:\n")?;
    let keys = |city: &str| {
        names.iter().find(|(_, name)| name.ends_with(city)).map(|(key, _)| key.clone()).unwrap_or_default()
    };
    let (surabaya, porto_alegre) = (keys("Surabaya"), keys("Porto Alegre"));
    for running in &cities {
        for markdown in running.city.learning {
            let markdown = markdown.replace("{surabaya}", &surabaya).replace("{porto-alegre}", &porto_alegre);
            let published =
                running.node().publish(markdown, None).await.with_context(|| {
                    format!("{} could not publish its part of the learning loop", running.city.name)
                })?;
            let record = &published.record;
            let title = record.parse_body().map(|body| body.title()).unwrap_or_default();
            out!("{} publishes {} \"{title}\"", running.city.name, describe(record.kind()))?;
        }
    }
    let mut seen = 0;
    let deadline = tokio::time::sleep(std::time::Duration::from_secs(30));
    tokio::pin!(deadline);
    let held = |cities: &[Running]| cities.iter().map(|running| running.node().records_held()).min().unwrap_or(0);
    // Each city ends with its own profile and note and the others': two records a city.
    let show = |receiver: &str, received: &Received| {
        let sender = names.iter().find(|(key, _)| *key == received.publisher).map_or("someone", |(_, name)| name);
        let what = match received.kind.as_str() {
            "profile" => "profile".to_owned(),
            "practice" => format!("note {}", received.slug),
            kind => format!("{kind} {}", received.slug),
        };
        out!("    {receiver:<22} received {sender}'s {what} (signature verified, stored)")
    };
    // Profiles may arrive by sync before anyone listens, so the count of records held, not of
    // announcements, says when everything is there.
    while seen < expected && held(&cities) < total {
        tokio::select! {
            _ = &mut deadline => break,
            arrival = next_arrival(&mut arrivals) => {
                if let Some((receiver, received)) = arrival {
                    show(receiver, &received)?;
                    seen += 1;
                }
            }
        }
    }
    // Everything is stored; show the arrivals announced meanwhile.
    for (receiver, announcements) in &mut arrivals {
        while let Ok(received) = announcements.try_recv() {
            show(receiver, &received)?;
        }
    }
    if held(&cities) < total {
        out!("\nOnly {seen} of {expected} records arrived within 30 seconds; the nodes may be overloaded.")?;
    }
    out!("\nEvery city now holds {} records.", cities[0].node().records_held())?;
    let folder = root.join(cities[1].city.folder);
    let binary = std::env::args().next().unwrap_or_else(|| "citymesh".to_owned());
    if !once {
        out!("\nThe nodes keep running. Open the cities' pages in a browser:")?;
        for running in &cities {
            let token = running.node().token().trim();
            out!(
                "    {:<22} http://{}/   (to publish, sign in with {token})",
                running.city.name,
                running.daemon.api_addr
            )?;
        }
        out!("Publish a note on one page (Publish) and watch it arrive on the others (Browse);")?;
        out!("each arrival is also printed here. Or, in another terminal, try:")?;
        out!("    {binary} --data-dir {} list", folder.display())?;
        out!("    {binary} --data-dir {} search compost", folder.display())?;
        out!("    {binary} --data-dir {} show community-composting --history", folder.display())?;
        let porto_alegre = root.join(cities[2].city.folder);
        out!("    {binary} --data-dir {} match composting-help", porto_alegre.display())?;
        out!("    {binary} --data-dir {} engagement list", folder.display())?;
        out!("The pages show it too: Needs and offers, Events, and the composting note's \"Taken up by\".")?;
        out!("Ctrl-C stops the demo.\n")?;
        let signal = crate::daemon::wait_for_signal();
        tokio::pin!(signal);
        loop {
            tokio::select! {
                _ = &mut signal => break,
                arrival = next_arrival(&mut arrivals) => match arrival {
                    Some((receiver, received)) => show(receiver, &received)?,
                    None => {
                        (&mut signal).await;
                        break;
                    }
                },
            }
        }
    }
    shutdown.cancel();
    for running in cities {
        running.daemon.stopped().await?;
    }
    out!("Stopped. The cities' data directories stay in {}; look around with:", root.display())?;
    out!("    {binary} --data-dir {} list", folder.display())?;
    Ok(())
}

async fn next_arrival(
    arrivals: &mut [(&'static str, broadcast::Receiver<Received>)],
) -> Option<(&'static str, Received)> {
    let waits = arrivals.iter_mut().map(|(name, receiver)| Box::pin(async move { (*name, receiver.recv().await) }));
    let ((name, received), _, _) = futures::future::select_all(waits).await;
    received.ok().map(|received| (name, received))
}

async fn first_address(running: &Running) -> Result<String> {
    for _ in 0..200 {
        let status = running.node().net_status().await?;
        if let Some(address) = status.listen_addrs.first() {
            return Ok(address.clone());
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    bail!("{}'s node did not start listening", running.city.name)
}

/// Waits until every node has joined the others in the gossip mesh (a few seconds at most).
async fn wait_for_mesh(cities: &[Running]) -> Result<()> {
    for _ in 0..400 {
        let mut ready = true;
        for running in cities {
            ready &= running.node().net_status().await?.mesh_peers + 1 >= cities.len();
        }
        if ready {
            return Ok(());
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    bail!("the demo's nodes did not connect to each other within 10 seconds")
}

async fn start(
    city: &'static City,
    root: &Path,
    bootstrap: Vec<String>,
    shutdown: CancellationToken,
) -> Result<Running> {
    let data = DataDir::new(root.join(city.folder));
    let profile = Profile {
        name: city.name.to_owned(),
        organisation_type: "local-government".to_owned(),
        place: Some(Place { country: city.country.to_owned(), name: city.place.to_owned(), ..Place::default() }),
        ..Profile::default()
    };
    drop(data.initialise(profile)?);
    let options = RunOptions {
        listen: vec!["/ip4/127.0.0.1/tcp/0".to_owned()],
        bootstrap,
        api_listen: Some(std::net::SocketAddr::from(([127, 0, 0, 1], 0))),
    };
    let daemon = Daemon::start(data, options, shutdown).await?;
    Ok(Running { city, daemon })
}

/// A kind's records in words, after "publishes".
fn describe(kind: crate::record::Kind) -> &'static str {
    use crate::record::Kind;
    match kind {
        Kind::Request => "a request",
        Kind::Offer => "an offer",
        Kind::Event => "an event",
        Kind::Engagement => "its side of an engagement",
        _ => "a record",
    }
}

/// Gossips the city's profile, then signs, stores and gossips its note.
async fn publish(running: &Running) -> Result<()> {
    let node = running.node();
    node.gossip_profile().await?;
    let published = node
        .publish(running.city.note.to_owned(), None)
        .await
        .with_context(|| format!("{} could not publish its note", running.city.name))?;
    let title = published.record.parse_body().map(|body| body.title()).unwrap_or_default();
    out!("{} publishes \"{title}\"", running.city.name)?;
    Ok(())
}
