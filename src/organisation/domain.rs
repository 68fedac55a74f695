//! Binding an identity to the city's website (DESIGN.md §9, `proto/README.md` §21): the
//! identity names a domain, the city serves its organisation key at
//! `https://DOMAIN/.well-known/citymesh`, and a node that finds it there (over HTTPS, the
//! certificate checked) shows the identity as "domain verified". Nothing is accepted or refused
//! for it: it tells a reader that whoever governs the identity also runs the city's website.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::OrganisationError;
use crate::record::PublisherId;

/// Where the city serves its key.
pub const WELL_KNOWN_PATH: &str = "/.well-known/citymesh";
/// Longest domain name (RFC 1035).
const MAX_DOMAIN: usize = 253;
/// Most of the file read: its first line is the key.
const MAX_FILE_BYTES: u64 = 4096;

/// What a node found when it last checked an identity's domain.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DomainCheck {
    pub domain: String,
    /// The identity revision whose domain was checked.
    pub revision: u64,
    pub verified: bool,
    pub checked_ms: i64,
    /// Why it is not verified, in words; empty when it is.
    pub problem: String,
}

/// The domain an officer typed, as a lowercase DNS name ("Surabaya.go.id." is
/// "surabaya.go.id"); empty removes it.
pub fn domain_name(text: &str) -> Result<String, OrganisationError> {
    let domain = text.trim().trim_end_matches('.').to_ascii_lowercase();
    let label_ok = |label: &str| {
        !label.is_empty()
            && label.len() <= 63
            && !label.starts_with('-')
            && !label.ends_with('-')
            && label.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
    };
    if domain.is_empty() || (domain.len() <= MAX_DOMAIN && domain.split('.').all(label_ok)) {
        return Ok(domain);
    }
    Err(OrganisationError::BadDomain(text.to_owned()))
}

/// What is known of an identity's domain, in words.
pub fn domain_status(view: &super::IdentityView) -> String {
    match &view.domain_check {
        Some(check) if check.verified => format!(
            "domain verified on {}: the website serves this organisation's key at https://{}{WELL_KNOWN_PATH}",
            crate::view::format_time(check.checked_ms),
            check.domain
        ),
        Some(check) => {
            format!("not verified (checked {}): {}", crate::view::format_time(check.checked_ms), check.problem)
        }
        None => "not checked yet: a running node checks it soon after it is set".to_owned(),
    }
}

/// Checks domains over HTTPS.
pub struct DomainChecker {
    agent: ureq::Agent,
    port: u16,
}

impl DomainChecker {
    /// A checker trusting the public certificate authorities, or only those in `ca_file` (PEM)
    /// when one is given (a private CA); `port` is where HTTPS is reached (443).
    pub fn new(ca_file: Option<&Path>, port: u16) -> Result<DomainChecker, String> {
        let mut config = ureq::Agent::config_builder()
            .timeout_global(Some(Duration::from_secs(10)))
            .http_status_as_error(false)
            .max_redirects(0);
        if let Some(file) = ca_file {
            let pem = std::fs::read(file).map_err(|error| format!("cannot read {}: {error}", file.display()))?;
            let mut certificates = Vec::new();
            for item in ureq::tls::parse_pem(&pem) {
                match item {
                    Ok(ureq::tls::PemItem::Certificate(certificate)) => certificates.push(certificate.to_owned()),
                    Ok(_) => {}
                    Err(error) => return Err(format!("{} is not PEM certificates: {error}", file.display())),
                }
            }
            if certificates.is_empty() {
                return Err(format!("{} holds no PEM certificate", file.display()));
            }
            let roots = ureq::tls::RootCerts::Specific(Arc::new(certificates));
            config = config.tls_config(ureq::tls::TlsConfig::builder().root_certs(roots).build());
        }
        Ok(DomainChecker { agent: config.build().into(), port })
    }

    /// Whether `https://DOMAIN/.well-known/citymesh` names `organisation` on its first line.
    pub fn check(&self, organisation: &PublisherId, domain: &str, revision: u64, now_ms: i64) -> DomainCheck {
        let problem = self.problem(organisation, domain).err().unwrap_or_default();
        DomainCheck { domain: domain.to_owned(), revision, verified: problem.is_empty(), checked_ms: now_ms, problem }
    }

    fn problem(&self, organisation: &PublisherId, domain: &str) -> Result<(), String> {
        let url = match self.port {
            443 => format!("https://{domain}{WELL_KNOWN_PATH}"),
            port => format!("https://{domain}:{port}{WELL_KNOWN_PATH}"),
        };
        let mut response = self.agent.get(&url).call().map_err(|error| format!("cannot fetch {url}: {error}"))?;
        if response.status() != 200 {
            return Err(format!("{url} answered HTTP {}", response.status().as_u16()));
        }
        let text = response
            .body_mut()
            .with_config()
            .limit(MAX_FILE_BYTES)
            .read_to_string()
            .map_err(|error| format!("cannot read {url}: {error}"))?;
        match text.lines().map(str::trim).find(|line| !line.is_empty()) {
            Some(line) if line.eq_ignore_ascii_case(&organisation.to_string()) => Ok(()),
            Some(_) => Err(format!("{url} names another key, not this organisation's")),
            None => Err(format!("{url} is empty; it should hold the organisation's key")),
        }
    }
}
