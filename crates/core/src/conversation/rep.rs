//! Which speaker is the rep: the one whose name or email is the rep's. When none is, nothing
//! is scored, and the answer names the speakers found so the caller can say who the rep was.

use serde::{Deserialize, Serialize};

use super::transcript::Transcript;
use crate::Error;

/// The rep as an upload or the command line names them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RepRef {
    /// The CRM's id for the rep (not matched: transcripts do not carry it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// Their name as the recorder shows it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Their email.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
}

impl RepRef {
    /// A rep known by `name`, or by email when it holds an `@`.
    pub fn named(name_or_email: &str) -> RepRef {
        let given = Some(name_or_email.trim().to_owned());
        if name_or_email.contains('@') {
            RepRef {
                email: given,
                ..RepRef::default()
            }
        } else {
            RepRef {
                name: given,
                ..RepRef::default()
            }
        }
    }

    /// The rep's speaker in `transcript`: names compared without case and extra spaces, emails
    /// without case. [`Error::RepNotInCall`] names the speakers when none matches.
    pub fn find_in(&self, transcript: &Transcript) -> Result<usize, Error> {
        let name = self.name.as_deref().map(normal);
        let email = self.email.as_deref().map(|e| e.trim().to_lowercase());
        transcript
            .speakers
            .iter()
            .position(|speaker| {
                name.as_deref()
                    .is_some_and(|n| !n.is_empty() && normal(&speaker.name) == n)
                    || email.as_deref().is_some_and(|e| {
                        !e.is_empty()
                            && speaker
                                .email
                                .as_deref()
                                .is_some_and(|s| s.trim().to_lowercase() == e)
                    })
            })
            .ok_or_else(|| Error::RepNotInCall {
                rep: self.name.clone().or(self.email.clone()).unwrap_or_default(),
                speakers: transcript.speaker_names(),
            })
    }
}

fn normal(name: &str) -> String {
    name.split_whitespace()
        .map(str::to_lowercase)
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::conversation::transcript::{Affiliation, Speaker};

    fn call() -> Transcript {
        let mut t = Transcript::default();
        t.speaker("Dana Ruiz");
        t.add_speaker(Speaker {
            name: "Sam  Rivera".into(),
            email: Some("Sam@Seller.io".into()),
            affiliation: Affiliation::Internal,
        });
        t
    }

    #[test]
    fn the_rep_is_found_by_name_or_email() {
        assert_eq!(RepRef::named("sam rivera").find_in(&call()), Ok(1));
        assert_eq!(RepRef::named("sam@seller.io").find_in(&call()), Ok(1));
    }

    #[test]
    fn no_match_names_the_speakers_found() {
        let err = RepRef::named("Alex").find_in(&call()).unwrap_err();
        assert_eq!(err.status(), 422);
        assert_eq!(
            err.to_string(),
            "no speaker matches the rep \"Alex\"; the speakers are Dana Ruiz, Sam  Rivera"
        );
    }
}
