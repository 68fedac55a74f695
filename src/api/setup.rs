//! First run without a terminal, as Syncthing does it: `citymesh run` on a data directory that
//! does not exist yet serves a set-up page on the loopback address (organisation name, type,
//! country and place). Once it is sent, the directory is made as `citymesh init` makes it, the
//! page shows the sign-in token once, and only then does the node start and join the network.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use askama::Template;
use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use tokio_util::sync::CancellationToken;

use crate::datadir::DataDir;
use crate::vocab::Words;
use crate::wire::{Place, Profile};

use super::web::{Chrome, html};

/// What the set-up server shares between its requests.
struct Setup {
    data: DataDir,
    /// The value the form carries and its post must return, so that no other site can post it.
    form_value: String,
    /// Cancelled once the directory is made.
    done: CancellationToken,
    /// Set-up happens once, even if two posts race.
    making: Mutex<()>,
}

#[derive(Template)]
#[template(path = "setup.html")]
struct SetupPage {
    chrome: Chrome,
    title: String,
    form_value: String,
    name: String,
    organisation_type: String,
    country: String,
    place: String,
    errors: Problems,
    organisation_types: Vec<(&'static str, String)>,
    countries: Vec<(&'static str, String)>,
}

#[derive(Template)]
#[template(path = "setup_done.html")]
struct DonePage {
    chrome: Chrome,
    title: String,
    name: String,
    token: String,
    token_path: String,
}

fn chrome() -> Chrome {
    Chrome { node_name: "New node".to_owned(), section: "setup", signed_in: false, csrf: String::new(), notice: None }
}

fn words(words: Words) -> Vec<(&'static str, String)> {
    words.choices().into_iter().map(|(code, label)| (code, label.into_owned())).collect()
}

fn form(setup: &Setup, typed: [String; 4], errors: Problems) -> SetupPage {
    let [name, organisation_type, country, place] = typed;
    SetupPage {
        chrome: chrome(),
        title: "Set up this node".to_owned(),
        form_value: setup.form_value.clone(),
        name,
        organisation_type: if organisation_type.is_empty() { "local-government".to_owned() } else { organisation_type },
        country,
        place,
        errors,
        organisation_types: words(Words::OrganisationType),
        countries: words(Words::Country),
    }
}

async fn show_form(State(setup): State<Arc<Setup>>) -> Response {
    html(StatusCode::OK, &form(&setup, Default::default(), Vec::new()))
}

/// Problems with the form, by input: `(input name, message naming it as the form labels it)`.
type Problems = Vec<(&'static str, String)>;

/// Reads the posted form (name, type, country, place, as typed): every problem at once.
fn profile_of(pairs: &[(String, String)]) -> ([String; 4], Result<Profile, Problems>) {
    let value = |name: &str| {
        pairs.iter().find(|(key, _)| key == name).map(|(_, value)| value.trim().to_owned()).unwrap_or_default()
    };
    let typed = [value("name"), value("organisation_type"), value("country"), value("place")];
    let [name, organisation_type, country, place] = typed.clone();
    let mut errors = Vec::new();
    match name.chars().count() {
        0 => errors.push(("name", "Name of your organisation is required".to_owned())),
        n if n > 200 => errors.push(("name", format!("Name of your organisation is {n} characters; at most 200"))),
        _ => {}
    }
    if !crate::vocab::is_organisation_type(&organisation_type) {
        errors.push(("organisation_type", "Type of organisation: choose one".to_owned()));
    }
    if !crate::vocab::is_country(&country) {
        errors.push(("country", "Country is required".to_owned()));
    }
    if !errors.is_empty() {
        return (typed, Err(errors));
    }
    let place = Some(Place { country, name: place, ..Place::default() });
    (typed, Ok(Profile { name, organisation_type, place, ..Profile::default() }))
}

async fn set_up(State(setup): State<Arc<Setup>>, body: Bytes) -> Response {
    let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(&body).unwrap_or_default();
    let sent = pairs.iter().find(|(key, _)| key == "form").map(|(_, value)| value.as_str()).unwrap_or_default();
    if sent != setup.form_value {
        let refusal = "this form is out of date or came from another site; reload the page and send it again";
        return (StatusCode::FORBIDDEN, refusal).into_response();
    }
    let (typed, profile) = profile_of(&pairs);
    let profile = match profile {
        Ok(profile) => profile,
        Err(errors) => return html(StatusCode::BAD_REQUEST, &form(&setup, typed, errors)),
    };
    let _making = setup.making.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    if setup.data.is_initialised() {
        return (StatusCode::CONFLICT, "this node is set up already; reload the page").into_response();
    }
    let name = profile.name.clone();
    let made = setup.data.initialise(profile).and_then(|(_, store)| {
        drop(store);
        setup.data.api_token()
    });
    match made {
        Ok(token) => {
            tracing::info!(name, "the node was set up from its web page");
            setup.done.cancel();
            let token_path = setup.data.token_path().display().to_string();
            let page = DonePage { chrome: chrome(), title: "Your node is ready".to_owned(), name, token, token_path };
            let mut response = html(StatusCode::OK, &page);
            // The token is shown once: no cache may keep the page.
            response.headers_mut().insert(header::CACHE_CONTROL, header::HeaderValue::from_static("no-store"));
            response
        }
        Err(error) => {
            tracing::error!(error = format!("{error:#}"), "set-up failed");
            let errors = vec![("name", format!("The node could not be set up: {error:#}"))];
            html(StatusCode::INTERNAL_SERVER_ERROR, &form(&setup, typed, errors))
        }
    }
}

/// Serves the set-up page on `address` (a loopback one) until the data directory is made, or
/// until `shutdown`; answers the address it served on once the directory is made (`None`: it
/// was stopped first), for the node's page to follow on.
pub async fn first_run(
    data: DataDir,
    address: SocketAddr,
    shutdown: CancellationToken,
) -> anyhow::Result<Option<SocketAddr>> {
    use anyhow::Context;
    let listener = tokio::net::TcpListener::bind(address)
        .await
        .with_context(|| format!("cannot listen for the set-up page on {address}; set api.listen or pass --api"))?;
    let address = listener.local_addr()?;
    let done = CancellationToken::new();
    let form_value = crate::hex::to_hex(&rand::random::<[u8; 16]>());
    let setup = Arc::new(Setup { data, form_value, done: done.clone(), making: Mutex::new(()) });
    let app = Router::new()
        .route("/", get(show_form))
        .route("/setup", get(show_form).post(set_up))
        .route("/static/style.css", get(super::web::style))
        .fallback(|| async { super::web::redirect("/") })
        .with_state(setup)
        .layer(axum::middleware::from_fn(super::finish));
    eprintln!(
        "This data directory is new. Set up the node in a browser on this computer: http://{address}/\n\
         (Or stop with Ctrl-C and run `citymesh init --name ...` instead.)"
    );
    let stop = CancellationToken::new();
    let stopping = stop.clone();
    let (finished, interrupted) = (done.clone(), shutdown.clone());
    tokio::spawn(async move {
        tokio::select! {
            _ = finished.cancelled() => {}
            _ = interrupted.cancelled() => {}
        }
        stopping.cancel();
    });
    axum::serve(listener, app).with_graceful_shutdown(stop.cancelled_owned()).await?;
    Ok(done.is_cancelled().then_some(address))
}
