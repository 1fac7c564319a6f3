//! What every webhook signature check shares: the replay window, and shared credentials for CRMs
//! that do not sign ([`credentials`]). Each CRM's own signing scheme lives in its folder
//! (`crm/<crm>/signature.rs`).
//!
//! Every comparison of a signature is constant-time, and every scheme with a timestamp refuses
//! one outside [`REPLAY_WINDOW_SECONDS`].

use time::OffsetDateTime;

use crate::Error;

pub mod credentials;

/// How far a signed timestamp may be from now, either way (HubSpot's five minutes).
pub const REPLAY_WINDOW_SECONDS: i64 = 300;

/// Refuse a signing time (seconds since the epoch) outside the replay window around `now`.
pub(crate) fn within_window(timestamp: i64, now: OffsetDateTime) -> Result<(), Error> {
    let skew_seconds = now
        .unix_timestamp()
        .saturating_sub(timestamp)
        .saturating_abs();
    if skew_seconds > REPLAY_WINDOW_SECONDS {
        return Err(Error::StaleTimestamp {
            timestamp,
            skew_seconds,
            window_seconds: REPLAY_WINDOW_SECONDS,
        });
    }
    Ok(())
}
