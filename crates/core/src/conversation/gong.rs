//! Gong's transcript JSON: `parties[]` (`speakerId`, `name`, `emailAddress`, `affiliation`
//! `Internal | External | Unknown`, as `/v2/calls/extensive` gives them) next to `transcript[]`
//! (`speakerId`, `topic`, `sentences[]` with `start` and `end` in milliseconds from the call's
//! start and `text`, as `/v2/calls/transcript` gives it). Other fields are ignored. A speaker
//! missing from `parties` is named by its id; a sentence without `start` or `end` has no time.

use serde::Deserialize;

use super::transcript::{Affiliation, Format, Speaker, Transcript};
use crate::Error;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Call {
    #[serde(default)]
    parties: Vec<Party>,
    transcript: Vec<Monologue>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Party {
    speaker_id: Option<SpeakerId>,
    name: Option<String>,
    email_address: Option<String>,
    #[serde(default)]
    affiliation: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Monologue {
    speaker_id: SpeakerId,
    sentences: Vec<Sentence>,
}

#[derive(Deserialize)]
struct Sentence {
    start: Option<u64>,
    end: Option<u64>,
    text: String,
}

/// Gong's ids are strings of digits; a number is taken too.
#[derive(Deserialize, PartialEq, Eq, Hash, Clone)]
#[serde(untagged)]
enum SpeakerId {
    Text(String),
    Number(u64),
}

impl SpeakerId {
    fn key(&self) -> String {
        match self {
            SpeakerId::Text(id) => id.clone(),
            SpeakerId::Number(id) => id.to_string(),
        }
    }
}

/// Read a Gong transcript.
pub fn parse(source: &[u8]) -> Result<Transcript, Error> {
    let mut deserializer = serde_json::Deserializer::from_slice(source);
    let call: Call = serde_path_to_error::deserialize(&mut deserializer).map_err(|e| {
        let at = e.path().to_string();
        invalid(at, e.into_inner().to_string())
    })?;
    deserializer
        .end()
        .map_err(|e| invalid(".".to_owned(), e.to_string()))?;
    let mut transcript = Transcript::default();
    let mut by_id = std::collections::HashMap::new();
    for party in &call.parties {
        let Some(id) = &party.speaker_id else {
            continue;
        };
        let name = party
            .name
            .clone()
            .filter(|n| !n.trim().is_empty())
            .or_else(|| party.email_address.clone())
            .unwrap_or_else(|| format!("speaker {}", id.key()));
        let affiliation = match party.affiliation.as_deref() {
            Some("Internal") => Affiliation::Internal,
            Some("External") => Affiliation::External,
            _ => Affiliation::Unknown,
        };
        let index = transcript.add_speaker(Speaker {
            name,
            email: party.email_address.clone(),
            affiliation,
        });
        by_id.insert(id.clone(), index);
    }
    for (i, monologue) in call.transcript.iter().enumerate() {
        let speaker = match by_id.get(&monologue.speaker_id) {
            Some(&index) => index,
            None => {
                let index = transcript.speaker(&format!("speaker {}", monologue.speaker_id.key()));
                by_id.insert(monologue.speaker_id.clone(), index);
                index
            }
        };
        for (j, sentence) in monologue.sentences.iter().enumerate() {
            if let (Some(start), Some(end)) = (sentence.start, sentence.end)
                && end < start
            {
                return Err(invalid(
                    format!("transcript[{i}].sentences[{j}].end"),
                    format!("the sentence ends ({end} ms) before it starts ({start} ms)"),
                ));
            }
            transcript.push(speaker, sentence.start, sentence.end, &sentence.text);
        }
    }
    Ok(transcript)
}

fn invalid(at: String, message: String) -> Error {
    Error::InvalidTranscript {
        format: Format::Gong.name(),
        at,
        message,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parties_name_the_speakers_and_sentences_keep_their_times() {
        let json = br#"{"parties": [{"speakerId": "11", "name": "Sam Rivera", "emailAddress": "sam@seller.io", "affiliation": "Internal"}],
            "transcript": [{"speakerId": "11", "topic": "Intro", "sentences": [{"start": 0, "end": 2500, "text": "Hi Dana."}]},
                           {"speakerId": 22, "sentences": [{"text": "Hello."}]}]}"#;
        let t = parse(json).unwrap();
        assert_eq!(t.speakers[0].email.as_deref(), Some("sam@seller.io"));
        assert_eq!(t.speakers[0].affiliation, Affiliation::Internal);
        assert_eq!(t.speakers[1].name, "speaker 22");
        assert_eq!(
            (t.turns[0].start_ms, t.turns[0].end_ms),
            (Some(0), Some(2500))
        );
        assert_eq!(t.turns[1].start_ms, None);
    }

    #[test]
    fn malformed_json_is_refused_naming_its_path() {
        for (json, at) in [
            (&br#"{"transcript": [{"speakerId": "1", "sentences": [{"start": "x", "end": 1, "text": ""}]}]}"#[..], "transcript[0].sentences[0].start"),
            (br#"{"parties": []}"#, "."),
            (br#"{"transcript": [{"speakerId": "1", "sentences": [{"start": 9, "end": 1, "text": "a"}]}]}"#, "transcript[0].sentences[0].end"),
            (br#"{"transcript": []} trailing"#, "."),
        ] {
            let Err(Error::InvalidTranscript { at: found, .. }) = parse(json) else {
                panic!("{} was read", String::from_utf8_lossy(json));
            };
            assert_eq!(found, at);
        }
    }
}
