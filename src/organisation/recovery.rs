//! Recovery as officers do it: the recovery key as 24 words to print and lock away (BIP 39's
//! English list, whose checksum catches a mistyped word), and the revision it signs when the
//! governance keys are lost (applied by nodes after the contest window, `crate::identity`).

use super::{OrganisationError, governance_keys};
use crate::author::AuthorError;
use crate::record::{self, Body, Draft, IDENTITY_SLUG, Kind, PublisherKey, Record};

/// A recovery of `organisation`'s identity signed by its recovery key: the next revision with
/// these governance keys and threshold, for any node to take in (`identity submit`); it takes
/// effect [`RECOVERY_WINDOW_MS`](crate::identity::RECOVERY_WINDOW_MS) after a node first
/// receives it, unless the current governance keys sign a revision before then.
///
/// `head` is the identity's newest revision, as a node holds it.
pub fn recovery(
    head: &Record,
    recovery_key: &PublisherKey,
    governance: &[String],
    threshold: u32,
    now_ms: i64,
) -> Result<Record, OrganisationError> {
    let Some(mut body) = head.identity() else { return Err(OrganisationError::NoRecovery) };
    if body.recovery_commitment.is_empty() {
        return Err(OrganisationError::NoRecovery);
    }
    if body.recovery_commitment != crate::identity::recovery_commitment(&recovery_key.publisher()) {
        return Err(OrganisationError::NotRecoveryKey);
    }
    let organisation = head.publisher();
    body.previous = head.id().0.to_vec();
    body.governance = governance_keys(governance, threshold)?;
    body.threshold = threshold;
    let draft = Draft {
        kind: Kind::Identity,
        slug: IDENTITY_SLUG.to_owned(),
        revision: head.revision() + 1,
        timestamp_ms: now_ms,
        body: Body::Identity(body),
    };
    Ok(record::sign_for(organisation, recovery_key, draft).map_err(AuthorError::from)?)
}

/// Words in a recovery phrase: 256 bits and an 8-bit checksum, BIP 39's English list.
pub const PHRASE_WORDS: usize = 24;

/// The recovery key as [`PHRASE_WORDS`] words to print and lock away.
pub fn recovery_words(key: &PublisherKey) -> String {
    let phrase = bip39::Mnemonic::from_entropy(&key.seed()).expect("32 bytes are a valid amount of entropy");
    phrase.words().collect::<Vec<_>>().join(" ")
}

/// The recovery key its words name; a mistyped or missing word is named as such.
pub fn recovery_key_from_words(text: &str) -> Result<PublisherKey, OrganisationError> {
    let words: Vec<String> = text.split_whitespace().map(str::to_lowercase).collect();
    if words.len() != PHRASE_WORDS {
        let problem = format!("it is {PHRASE_WORDS} words; this one has {}", words.len());
        return Err(OrganisationError::Phrase(problem));
    }
    match bip39::Mnemonic::parse_in_normalized(bip39::Language::English, &words.join(" ")) {
        Ok(phrase) => {
            let seed: [u8; 32] = phrase.to_entropy().try_into().map_err(|_| {
                OrganisationError::Phrase(format!(
                    "it is {PHRASE_WORDS} words of a recovery key, not of another secret"
                ))
            })?;
            Ok(PublisherKey::from_seed(seed))
        }
        Err(bip39::Error::UnknownWord(index)) => Err(OrganisationError::Phrase(format!(
            "word {} ({:?}) is not a recovery word: check it against the printed copy for a typo",
            index + 1,
            words.get(index).map_or("", String::as_str)
        ))),
        Err(bip39::Error::InvalidChecksum) => Err(OrganisationError::Phrase(
            "the words do not check out: one of them is mistyped as another recovery word, or two are swapped; \
             compare them with the printed copy"
                .to_owned(),
        )),
        Err(other) => Err(OrganisationError::Phrase(other.to_string())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refusal(words: &str) -> String {
        match recovery_key_from_words(words) {
            Ok(_) => panic!("{words:?} was taken"),
            Err(error) => error.to_string(),
        }
    }

    #[test]
    fn a_recovery_phrase_round_trips_and_a_typo_is_named() {
        let key = PublisherKey::from_seed([61; 32]);
        let words = recovery_words(&key);
        assert_eq!(words.split(' ').count(), PHRASE_WORDS);
        let again = recovery_key_from_words(&format!("  {}\n", words.to_uppercase())).unwrap();
        assert_eq!(again.publisher(), key.publisher());
        let mut typo: Vec<&str> = words.split(' ').collect();
        typo[2] = "zzzz";
        let error = refusal(&typo.join(" "));
        assert!(error.contains("word 3 (\"zzzz\") is not a recovery word"), "{error}");
        let short = words.split(' ').take(23).collect::<Vec<_>>().join(" ");
        assert!(refusal(&short).contains("this one has 23"));
        // Another real word in the last place keeps the key's bits but breaks the checksum.
        let mut swapped: Vec<&str> = words.split(' ').collect();
        let last = swapped[23];
        let list = bip39::Language::English.word_list();
        let index = list.iter().position(|word| *word == last).unwrap();
        swapped[23] = list[index ^ 1];
        let error = refusal(&swapped.join(" "));
        assert!(error.contains("do not check out"), "{error}");
    }
}
