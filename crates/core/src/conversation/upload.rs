//! A call as the upload endpoint will receive it (`POST /score-lead/<crm>/calls`, not built
//! yet): `{call_id, record: {kind, id}, started_at, rep: {id, name?, email?}, format,
//! transcript}`, at most 1 MiB. Read here so the endpoint only hands the body over.

use serde::Deserialize;
use time::OffsetDateTime;

use super::{Format, MAX_TRANSCRIPT_BYTES, Signals, rep::RepRef};
use crate::{Error, model::RecordKind, playbook::Playbook};

/// The largest upload read, in bytes.
pub const MAX_UPLOAD_BYTES: usize = MAX_TRANSCRIPT_BYTES;

/// The CRM record a call belongs to.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecordRef {
    /// Lead or deal.
    pub kind: RecordKind,
    /// The CRM's id for it.
    pub id: String,
}

/// One uploaded call.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CallUpload {
    /// The recorder's id for the call.
    pub call_id: String,
    /// The record it belongs to.
    pub record: RecordRef,
    /// When it began (RFC 3339).
    #[serde(with = "time::serde::rfc3339")]
    pub started_at: OffsetDateTime,
    /// The rep: matched to a speaker by name or email.
    pub rep: RepRef,
    /// The transcript's format (`webvtt`, `gong`, `text`).
    #[serde(deserialize_with = "format")]
    pub format: Format,
    /// The transcript, as the recorder exported it (Gong's JSON as a string).
    pub transcript: String,
}

/// A format by name, refused naming the formats read.
fn format<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<Format, D::Error> {
    let name = String::deserialize(deserializer)?;
    name.parse().map_err(|e: Error| serde::de::Error::custom(e))
}

impl CallUpload {
    /// Read an upload's body: over [`MAX_UPLOAD_BYTES`] is [`Error::BodyTooLarge`] (413);
    /// anything that is not the upload is [`Error::InvalidBody`] naming the JSON path (400).
    pub fn from_json(body: &[u8]) -> Result<CallUpload, Error> {
        if body.len() > MAX_UPLOAD_BYTES {
            return Err(Error::BodyTooLarge {
                limit: MAX_UPLOAD_BYTES,
            });
        }
        let mut deserializer = serde_json::Deserializer::from_slice(body);
        let upload: CallUpload = serde_path_to_error::deserialize(&mut deserializer)
            .map_err(|e| Error::invalid_body(e.path().to_string(), e.into_inner().to_string()))?;
        deserializer
            .end()
            .map_err(|e| Error::invalid_body(".", e.to_string()))?;
        Ok(upload)
    }

    /// The call's signals against `playbook`: the transcript read in its format, the rep found.
    pub fn analyse(&self, playbook: &Playbook) -> Result<Signals, Error> {
        super::analyse(
            self.format,
            self.transcript.as_bytes(),
            &self.rep,
            playbook,
            self.started_at,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const UPLOAD: &str = r#"{"call_id": "c-1", "record": {"kind": "deal", "id": "D-7"},
        "started_at": "2026-12-07T15:00:00Z", "rep": {"id": "u-3", "email": "sam@seller.io"},
        "format": "text", "transcript": "Sam Rivera: What is broken?\nDana: Nine days of close."}"#;

    #[test]
    fn an_upload_is_read_and_analysed() {
        let upload = CallUpload::from_json(UPLOAD.as_bytes()).unwrap();
        assert_eq!(upload.record.kind, RecordKind::Deal);
        assert_eq!(upload.format, Format::Text);
        // The rep is named by email; a plain transcript has none: 422 naming the speakers.
        let err = upload.analyse(&Playbook::default_playbook()).unwrap_err();
        assert_eq!(err.status(), 422);
        let named = UPLOAD.replace(r#""email": "sam@seller.io""#, r#""name": "Sam Rivera""#);
        let upload = CallUpload::from_json(named.as_bytes()).unwrap();
        let signals = upload.analyse(&Playbook::default_playbook()).unwrap();
        assert_eq!(signals.rep_questions.count, 1);
    }

    #[test]
    fn a_bad_upload_is_refused_naming_its_path_and_a_large_one_by_size() {
        let srt = UPLOAD.replace(r#""format": "text""#, r#""format": "srt""#);
        let Err(Error::InvalidBody { path, message }) = CallUpload::from_json(srt.as_bytes())
        else {
            panic!("an unknown format was read");
        };
        assert_eq!(path, "format");
        assert!(
            message.contains("use one of webvtt, gong, text"),
            "{message}"
        );
        let kind = UPLOAD.replace(r#""kind": "deal""#, r#""kind": "account""#);
        let Err(Error::InvalidBody { path, .. }) = CallUpload::from_json(kind.as_bytes()) else {
            panic!("an unknown record kind was read");
        };
        assert_eq!(path, "record.kind");
        let huge = vec![b' '; MAX_UPLOAD_BYTES + 1];
        assert_eq!(CallUpload::from_json(&huge).unwrap_err().status(), 413);
    }
}
