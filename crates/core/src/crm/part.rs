//! A part of a deal read beside it for the score's secondary parts: its activities
//! ([`crate::engagement::ACTIVITIES`]) and its company ([`crate::fit::COMPANY`]). Read, it is
//! used; refused for good (a scope not granted, a query the org refuses), the score goes on
//! without it and says why ([`Record::not_read`]); failed for now (a `5xx`, a `429`), the event
//! fails and waits for the CRM's retry.

use crate::{Error, model::Record};

/// What `read` gives `record`'s `part`: `Some` when it was read; `None` when it was refused for
/// good, said in [`Record::not_read`] with `grant` (what an admin grants, `grant the app the
/// activities:read scope`) when the CRM refused the credential; the error when a retry may read
/// it.
pub(crate) fn read_or_say<T>(
    record: &mut Record,
    part: &str,
    read: Result<T, Error>,
    grant: &str,
) -> Result<Option<T>, Error> {
    match read {
        Ok(read) => Ok(Some(read)),
        Err(e @ Error::CrmForbidden { .. }) => {
            record
                .not_read
                .insert(part.to_owned(), format!("{e}; {grant}"));
            Ok(None)
        }
        Err(e) if e.is_transient() => Err(e),
        Err(e) => {
            record.not_read.insert(part.to_owned(), e.to_string());
            Ok(None)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_part_refused_for_good_is_said_and_one_failed_for_now_fails_the_event() {
        let mut record = Record::new_deal("D");
        let forbidden = Error::CrmForbidden {
            call: "GET /api/v2/activities?deal_id=7".into(),
            reason: "the CRM answered 403 Forbidden".into(),
        };
        let read: Option<u8> = read_or_say(
            &mut record,
            "activities",
            Err(forbidden),
            "grant activities:read",
        )
        .unwrap();
        assert_eq!(read, None);
        assert!(
            record.not_read["activities"].ends_with("403 Forbidden; grant activities:read"),
            "{:?}",
            record.not_read
        );
        let refused = Error::CrmRejected {
            call: "GET /query".into(),
            reason: "INVALID_TYPE".into(),
        };
        assert_eq!(
            read_or_say::<u8>(&mut record, "company", Err(refused), "x").unwrap(),
            None
        );
        assert!(record.not_read["company"].contains("INVALID_TYPE"));
        let later = Error::CrmUnavailable {
            call: "GET /query".into(),
            reason: "503".into(),
        };
        assert!(read_or_say::<u8>(&mut record, "company", Err(later), "x").is_err());
        assert_eq!(
            read_or_say(&mut record, "company", Ok(3), "x").unwrap(),
            Some(3)
        );
    }
}
