//! Talking to a running node: while `citymesh run` holds the data directory, the other commands
//! go through its HTTP API, which it announced in the data directory. Answers are read back
//! into the same typed views the node serves.

use std::time::Duration;

use anyhow::{Context, Result, anyhow};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::datadir::DataDir;

/// Largest answer read, in bytes.
const MAX_ANSWER: u64 = 1 << 30;

/// What the API answers when it refuses: `{"error": code, "detail": text}`.
#[derive(serde::Deserialize)]
#[serde(default)]
struct Refusal {
    detail: String,
}

impl Default for Refusal {
    fn default() -> Self {
        Refusal { detail: "the node refused without saying why".to_owned() }
    }
}

/// A running node's API.
pub(super) struct Remote {
    base: String,
    token: Option<String>,
    agent: ureq::Agent,
}

impl Remote {
    /// The node running on this data directory, if one answers.
    pub(super) fn discover(data: &DataDir) -> Result<Option<Remote>> {
        let Some(address) = data.api_addr() else { return Ok(None) };
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(600)))
            .timeout_connect(Some(Duration::from_secs(2)))
            .build()
            .into();
        let remote = Remote { base: format!("http://{address}"), token: data.existing_api_token()?, agent };
        // A node that crashed leaves its address behind; nothing answers there then.
        Ok(remote.get::<Value>("/api/v1/status", &[]).ok().map(|_| remote))
    }

    /// A GET with query parameters, encoded; the answer read as `T`.
    pub(super) fn get<T: DeserializeOwned>(&self, path: &str, query: &[(&str, String)]) -> Result<T> {
        let mut request = self.agent.get(format!("{}{path}", self.base));
        for (name, value) in query {
            request = request.query(*name, value);
        }
        self.answer(request.call(), path)
    }

    /// A GET whose answer is bytes (a record's envelope).
    pub(super) fn get_bytes(&self, path: &str) -> Result<Vec<u8>> {
        let mut response = self
            .agent
            .get(format!("{}{path}", self.base))
            .call()
            .with_context(|| format!("the running node did not answer {path}"))?;
        if !response.status().is_success() {
            return Err(anyhow!("the running node answered {path} with {}", response.status()));
        }
        response.body_mut().with_config().limit(MAX_ANSWER).read_to_vec().with_context(|| format!("cannot read {path}"))
    }

    /// Sends a write, with the token; the answer read as `T`.
    pub(super) fn post<T: DeserializeOwned>(&self, path: &str, body: &impl Serialize) -> Result<T> {
        let token =
            self.token.as_deref().context("the data directory has no api.token; cannot write through the API")?;
        let response = self
            .agent
            .post(format!("{}{path}", self.base))
            .header("Authorization", format!("Bearer {token}"))
            .send_json(body);
        self.answer(response, path)
    }

    fn answer<T: DeserializeOwned>(
        &self,
        response: Result<ureq::http::Response<ureq::Body>, ureq::Error>,
        path: &str,
    ) -> Result<T> {
        let mut response = response.with_context(|| format!("the running node did not answer {path}"))?;
        let status = response.status();
        let value: Value = response
            .body_mut()
            .with_config()
            .limit(MAX_ANSWER)
            .read_json()
            .with_context(|| format!("the running node's answer to {path} is not JSON"))?;
        if !status.is_success() {
            let refusal: Refusal = serde_json::from_value(value).unwrap_or_default();
            return Err(anyhow!("{}", refusal.detail));
        }
        serde_json::from_value(value)
            .with_context(|| format!("the running node's answer to {path} is not what this version reads"))
    }
}
