//! Talking to a running node: while `citymesh run` holds the data directory, the other commands
//! go through its HTTP API, which it announced in the data directory.

use std::time::Duration;

use anyhow::{Context, Result, anyhow};
use serde_json::Value;

use crate::datadir::DataDir;

/// Largest answer read, in bytes.
const MAX_ANSWER: u64 = 1 << 30;

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
        Ok(remote.get("/api/v1/status").ok().map(|_| remote))
    }

    pub(super) fn get(&self, path: &str) -> Result<Value> {
        let response = self.agent.get(format!("{}{path}", self.base)).call();
        self.answer(response, path)
    }

    /// A GET with query parameters, encoded.
    pub(super) fn get_with(&self, path: &str, query: &[(&str, String)]) -> Result<Value> {
        let mut request = self.agent.get(format!("{}{path}", self.base));
        for (name, value) in query {
            request = request.query(*name, value);
        }
        self.answer(request.call(), path)
    }

    /// Every row of `GET /api/v1/records` with these query parameters (`kind=practice`, say),
    /// reading page after page.
    pub(super) fn records(&self, query: &str) -> Result<Value> {
        let mut rows = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let mut path = format!("/api/v1/records?limit=1000&{query}");
            if let Some(cursor) = &cursor {
                path.push_str(&format!("&cursor={cursor}"));
            }
            let page = self.get(&path)?;
            rows.extend(page["records"].as_array().cloned().unwrap_or_default());
            match page["next_cursor"].as_str() {
                Some(next) => cursor = Some(next.to_owned()),
                None => return Ok(Value::Array(rows)),
            }
        }
    }

    /// Sends a write, with the token.
    pub(super) fn post(&self, path: &str, body: &Value) -> Result<Value> {
        let token =
            self.token.as_deref().context("the data directory has no api.token; cannot write through the API")?;
        let response = self
            .agent
            .post(format!("{}{path}", self.base))
            .header("Authorization", format!("Bearer {token}"))
            .send_json(body);
        self.answer(response, path)
    }

    fn answer(&self, response: Result<ureq::http::Response<ureq::Body>, ureq::Error>, path: &str) -> Result<Value> {
        let mut response = response.with_context(|| format!("the running node did not answer {path}"))?;
        let status = response.status();
        let value: Value = response
            .body_mut()
            .with_config()
            .limit(MAX_ANSWER)
            .read_json()
            .with_context(|| format!("the running node's answer to {path} is not JSON"))?;
        if status.is_success() {
            Ok(value)
        } else {
            let detail = value["detail"].as_str().unwrap_or("no detail").to_owned();
            Err(anyhow!("{detail}"))
        }
    }
}
