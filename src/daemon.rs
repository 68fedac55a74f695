//! `citymesh run`: a node and its HTTP server (the API and the web page) on one data
//! directory, started together and stopped together. The address the API listens on is
//! written into the data directory, so that the CLI finds the running node.

use std::net::SocketAddr;

use anyhow::{Context, Result};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::datadir::DataDir;
use crate::node::{NetOptions, NodeHandle, RunningNode};

/// Overrides from the command line.
#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    pub listen: Vec<String>,
    pub bootstrap: Vec<String>,
    /// The API's address instead of `api.listen` (port 0 picks a free one).
    pub api_listen: Option<SocketAddr>,
}

/// A running node with its HTTP server.
pub struct Daemon {
    pub node: NodeHandle,
    /// Where the API and the web page are served.
    pub api_addr: SocketAddr,
    running: RunningNode,
    server: JoinHandle<()>,
}

impl Daemon {
    /// Starts the node and serves the API. Everything stops when `shutdown` is cancelled;
    /// then call [`Daemon::stopped`].
    pub async fn start(data: DataDir, options: RunOptions, shutdown: CancellationToken) -> Result<Daemon> {
        data.require_initialised()?;
        let config = data.config()?;
        let api_listen = options.api_listen.unwrap_or(config.api.listen);
        if !api_listen.ip().is_loopback() && !config.api.allow_non_loopback {
            anyhow::bail!(
                "--api {api_listen} is not a loopback address: anyone who can reach it could read the node's pages \
                 and try its token; set api.allow_non_loopback = true in config.toml to allow it"
            );
        }
        let listener = tokio::net::TcpListener::bind(api_listen).await.with_context(|| {
            format!("cannot listen for the API on {api_listen}: another program (or node) uses it; set api.listen or pass --api")
        })?;
        let api_addr = listener.local_addr()?;
        let options = NetOptions { listen: options.listen, bootstrap: options.bootstrap };
        let running = RunningNode::start_with(data, config, options, shutdown.clone()).await?;
        let node = running.node.clone();
        let server = tokio::spawn(crate::api::serve(listener, node.clone(), shutdown));
        node.data().write_api_addr(api_addr)?;
        tracing::debug!(api = %api_addr, "serving the API and the web page");
        Ok(Daemon { node, api_addr, running, server })
    }

    /// Waits for the server and the node to stop after shutdown, then closes the store.
    pub async fn stopped(self) -> Result<()> {
        let Daemon { node, running, server, .. } = self;
        let _ = server.await;
        node.data().remove_api_addr();
        drop(node);
        running.stopped().await
    }
}

/// Runs a node until Ctrl-C or SIGTERM.
pub async fn run(data: DataDir, mut options: RunOptions) -> Result<()> {
    let shutdown = CancellationToken::new();
    if !data.is_initialised() {
        match first_run(&data, &options, &shutdown).await? {
            Some(address) => options.api_listen = Some(address),
            None => return Ok(()),
        }
    }
    let daemon = Daemon::start(data, options, shutdown.clone()).await?;
    let token_file = daemon.node.data().token_path();
    let listening = daemon.node.net_status().await.map(|net| net.listen_addrs).unwrap_or_default();
    eprintln!(
        "citymesh is running for {}.\n  Web page: http://{}/  (to publish, sign in with the token in {})\n  API:      http://{}/api/v1/status\n  Partners reach it at: {}\n  Ctrl-C stops it.",
        daemon.node.name().await,
        daemon.api_addr,
        token_file.display(),
        daemon.api_addr,
        if listening.is_empty() { "(starting)".to_owned() } else { listening.join(", ") }
    );
    wait_for_signal().await;
    tracing::info!("stopping");
    shutdown.cancel();
    daemon.stopped().await
}

/// Sets a new data directory up from the web page (see [`crate::api::first_run`]), on the
/// API's address made loopback; answers the address it was served on (`None`: the node was
/// stopped first).
async fn first_run(data: &DataDir, options: &RunOptions, shutdown: &CancellationToken) -> Result<Option<SocketAddr>> {
    let settings = data.config().map(|config| config.api.listen);
    let configured = options.api_listen.unwrap_or(settings.unwrap_or(crate::config::Config::default().api.listen));
    let address = SocketAddr::from(([127, 0, 0, 1], configured.port()));
    let interrupted = shutdown.clone();
    let signal = tokio::spawn(async move {
        wait_for_signal().await;
        interrupted.cancel();
    });
    let made = crate::api::first_run(data.clone(), address, shutdown.clone()).await;
    signal.abort();
    made
}

/// Waits for Ctrl-C or SIGTERM.
pub async fn wait_for_signal() {
    let mut terminate = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = async { match terminate.as_mut() { Some(signal) => { signal.recv().await; } None => std::future::pending().await } } => {}
    }
}
