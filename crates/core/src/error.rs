//! Typed errors, and the one place they map to HTTP statuses.
//!
//! Every message is written for the person who has to act on it: a CRM admin reading a webhook
//! delivery log, or an operator reading the function's logs.

use thiserror::Error;

/// What went wrong, as a caller can match on it.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The request's `Content-Type` is not one the endpoint accepts.
    #[error("unsupported content type {found:?}: send {expected}")]
    UnsupportedContentType {
        /// The content type the request carried (empty when it had none).
        found: String,
        /// What the endpoint accepts.
        expected: &'static str,
    },
    /// The request body is larger than the endpoint accepts.
    #[error("request body is larger than the {limit}-byte limit")]
    BodyTooLarge {
        /// The limit in bytes.
        limit: usize,
    },
    /// The body did not arrive within the time a sender has to send it.
    #[error("the request body was not received within {seconds} s")]
    BodyTimeout {
        /// The deadline, in seconds.
        seconds: u64,
    },
    /// The body is not valid JSON, or does not match the webhook schema.
    #[error("invalid webhook body at `{path}`: {message}")]
    InvalidBody {
        /// Where in the document the problem is (`events[0].record.id`), `.` for the root.
        path: String,
        /// What is wrong there.
        message: String,
    },
    /// A call transcript cannot be read: `at` names the line (`line 12`) or the JSON path
    /// (`transcript[3].sentences[0].start`).
    #[error("invalid {format} transcript at {at}: {message}")]
    InvalidTranscript {
        /// The format it was read as (`webvtt`).
        format: &'static str,
        /// Where: `line N`, or a JSON path.
        at: String,
        /// What is wrong there.
        message: String,
    },
    /// A call transcript larger than pipeline-guard reads.
    #[error("the transcript is {bytes} bytes; at most {limit} are read")]
    TranscriptTooLarge {
        /// Its size in bytes.
        bytes: usize,
        /// The limit in bytes.
        limit: usize,
    },
    /// A transcript format pipeline-guard does not read.
    #[error("unknown transcript format {found:?}: use one of {known}")]
    UnknownTranscriptFormat {
        /// The format asked for.
        found: String,
        /// The formats read.
        known: &'static str,
    },
    /// No speaker of the call is the rep: nothing is scored.
    #[error("no speaker matches the rep {rep:?}; the speakers are {}", speakers.join(", "))]
    RepNotInCall {
        /// The rep as given (a name or an email).
        rep: String,
        /// The speakers found in the transcript.
        speakers: Vec<String>,
    },
    /// A query parameter is unknown or its value cannot be used.
    #[error("invalid query parameter {0}")]
    InvalidQuery(String),
    /// A signature or credential header is missing.
    #[error(
        "missing {header} header: the request must be signed or carry the configured credentials"
    )]
    MissingSignature {
        /// The header that was expected.
        header: &'static str,
    },
    /// The signature does not match the body: tampered, or signed with another secret.
    #[error(
        "signature mismatch: the request (its body, method, path or URL) was changed, or signed with another secret"
    )]
    BadSignature,
    /// A link to a rep's page that is missing a part, expired, altered or signed with another
    /// key: refused without a word about any rep or deal.
    #[error(
        "this link does not open a page: it is incomplete, expired or altered; open the link in the latest notice pipeline-guard left you"
    )]
    RepLinkRefused,
    /// The request's credentials (a password or shared token) are not the configured ones.
    #[error("{what} does not match the one configured for this endpoint")]
    BadCredentials {
        /// What was checked (`the Basic auth user or password`).
        what: &'static str,
    },
    /// The delivery comes from a tenant (a HubSpot portal, a Salesforce org, a Pipedrive company)
    /// other than the ones the deployment is pinned to, or names none while it is pinned.
    #[error("{}", wrong_tenant(path, found.as_deref(), variable))]
    WrongTenant {
        /// Where the tenant is in the body (`[3].portalId`, `OrganizationId`, `meta.company_id`).
        path: String,
        /// The tenant the delivery names; `None` when it names none.
        found: Option<String>,
        /// The variable that lists the tenants served.
        variable: &'static str,
    },
    /// The signed timestamp is outside the replay window.
    #[error(
        "timestamp {timestamp} is {skew_seconds} s away from now; the window is {window_seconds} s"
    )]
    StaleTimestamp {
        /// The timestamp the sender signed (seconds since the epoch).
        timestamp: i64,
        /// How far it is from now, in seconds.
        skew_seconds: i64,
        /// The accepted window, in seconds.
        window_seconds: i64,
    },
    /// No route for this path.
    #[error("no endpoint at {path:?}; try {hint}")]
    NotFound {
        /// The path that was asked for.
        path: String,
        /// The endpoints that exist.
        hint: String,
    },
    /// The route exists but not for this method.
    #[error("method {method} is not allowed here; use {allowed}")]
    MethodNotAllowed {
        /// The method used.
        method: String,
        /// The methods the route accepts.
        allowed: &'static str,
    },
    /// The deployment is misconfigured (a variable or the playbook); the CRM should retry after
    /// an admin fixes it.
    #[error("configuration problem: {0}")]
    Config(String),
    /// The playbook failed validation; every problem is listed.
    #[error("the playbook is invalid:\n{}", .0.join("\n"))]
    InvalidPlaybook(Vec<String>),
    /// The CRM's API failed; nothing was recorded, so the CRM's retry will redo the work.
    #[error("CRM API call {call} failed: {reason}")]
    CrmUnavailable {
        /// The call that failed (`PATCH /records/deals/D-1`).
        call: String,
        /// What happened.
        reason: String,
    },
    /// The CRM's API refused a call for good (a 4xx other than 408 and 429), or answered with
    /// something that cannot be used (not JSON, a record without its data). Retrying the same
    /// call cannot help: the event is recorded as failed until an admin fixes the cause.
    #[error("CRM API call {call} was refused: {reason}")]
    CrmRejected {
        /// The call that was refused (`PATCH /records/deals/D-1`).
        call: String,
        /// What the CRM said, or what was wrong with its answer.
        reason: String,
    },
    /// The CRM's API refused the credential access to what this call reads or writes (403): a scope or
    /// permission an admin grants. Retried like [`ErrorKind::CrmUnavailable`] until it is granted,
    /// except for what a score can go without (a deal's activities, its company): those are then
    /// left out and the score says what to grant.
    #[error("CRM API call {call} was forbidden: {reason}")]
    CrmForbidden {
        /// The call that was refused.
        call: String,
        /// What the CRM said.
        reason: String,
    },
    /// The CRM's API asked to slow down (429).
    #[error("CRM API call {call} was rate-limited; retry after {retry_after_ms} ms")]
    CrmRateLimited {
        /// The call that was refused.
        call: String,
        /// How long the CRM asked to wait (its `Retry-After`), in milliseconds.
        retry_after_ms: u64,
    },
    /// The delivery's deadline passed before this work was done; the CRM's retry continues it.
    #[error(
        "not finished within the {deadline_ms} ms this CRM waits for an answer; its retry continues"
    )]
    DeadlineExceeded {
        /// The delivery's deadline, in milliseconds.
        deadline_ms: u64,
    },
    /// The CRM's API answered that the record does not exist (any more).
    #[error("CRM API call {call} found no such record")]
    CrmRecordGone {
        /// The call that found nothing.
        call: String,
    },
    /// The key-value store failed; nothing was recorded.
    #[error("key-value store failed: {0}")]
    Store(String),
}

/// A pipeline-guard error.
pub type Error = ErrorKind;

fn wrong_tenant(path: &str, found: Option<&str>, variable: &str) -> String {
    match found {
        Some(tenant) => format!(
            "`{path}` is {tenant:?}, a tenant this endpoint does not serve (variable `{variable}`): refused, nothing done"
        ),
        None => format!(
            "no `{path}` in the body: with `{variable}` set, a delivery must name its tenant; refused, nothing done"
        ),
    }
}

impl ErrorKind {
    /// A body that does not match the schema: `path` is where (`events[0].record.id`, `.` for
    /// the root), `message` what is wrong there.
    pub fn invalid_body(path: impl Into<String>, message: impl Into<String>) -> ErrorKind {
        ErrorKind::InvalidBody {
            path: path.into(),
            message: message.into(),
        }
    }

    /// A query parameter that cannot be used: `message` names it and says why.
    pub fn invalid_query(message: impl Into<String>) -> ErrorKind {
        ErrorKind::InvalidQuery(message.into())
    }

    /// The HTTP status this error answers with. Client mistakes are 4xx so the CRM's delivery
    /// log shows them; server-side failures are 5xx so the CRM retries the delivery.
    pub fn status(&self) -> u16 {
        match self {
            ErrorKind::UnsupportedContentType { .. } => 415,
            ErrorKind::BodyTooLarge { .. } => 413,
            ErrorKind::BodyTimeout { .. } => 408,
            ErrorKind::InvalidBody { .. }
            | ErrorKind::InvalidQuery(_)
            | ErrorKind::InvalidTranscript { .. }
            | ErrorKind::UnknownTranscriptFormat { .. } => 400,
            ErrorKind::TranscriptTooLarge { .. } => 413,
            ErrorKind::RepNotInCall { .. } => 422,
            ErrorKind::MissingSignature { .. }
            | ErrorKind::BadSignature
            | ErrorKind::RepLinkRefused
            | ErrorKind::BadCredentials { .. }
            | ErrorKind::StaleTimestamp { .. } => 401,
            ErrorKind::WrongTenant { .. } => 403,
            ErrorKind::NotFound { .. } => 404,
            ErrorKind::MethodNotAllowed { .. } => 405,
            ErrorKind::Config(_) | ErrorKind::InvalidPlaybook(_) | ErrorKind::Store(_) => 500,
            ErrorKind::CrmUnavailable { .. }
            | ErrorKind::CrmRejected { .. }
            | ErrorKind::CrmForbidden { .. }
            | ErrorKind::CrmRecordGone { .. } => 502,
            ErrorKind::CrmRateLimited { .. } | ErrorKind::DeadlineExceeded { .. } => 503,
        }
    }

    /// Whether the same work may succeed on a later delivery: a CRM or store that failed for
    /// now, a rate limit, the deadline, or the deployment's configuration (a refused credential,
    /// an empty variable), which an admin fixes for every event at once. Such failures leave the
    /// event unrecorded so the CRM's retry redoes it; the others, which concern one record, are
    /// recorded as failed.
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            ErrorKind::CrmUnavailable { .. }
                | ErrorKind::CrmForbidden { .. }
                | ErrorKind::CrmRateLimited { .. }
                | ErrorKind::DeadlineExceeded { .. }
                | ErrorKind::Store(_)
                | ErrorKind::Config(_)
        )
    }

    /// A stable, machine-readable code for the error (`invalid_body`, `bad_signature`, …).
    pub fn code(&self) -> &'static str {
        match self {
            ErrorKind::UnsupportedContentType { .. } => "unsupported_content_type",
            ErrorKind::BodyTooLarge { .. } => "body_too_large",
            ErrorKind::BodyTimeout { .. } => "body_timeout",
            ErrorKind::InvalidBody { .. } => "invalid_body",
            ErrorKind::InvalidQuery(_) => "invalid_query",
            ErrorKind::InvalidTranscript { .. } => "invalid_transcript",
            ErrorKind::TranscriptTooLarge { .. } => "transcript_too_large",
            ErrorKind::UnknownTranscriptFormat { .. } => "unknown_transcript_format",
            ErrorKind::RepNotInCall { .. } => "rep_not_in_call",
            ErrorKind::MissingSignature { .. } => "missing_signature",
            ErrorKind::BadSignature => "bad_signature",
            ErrorKind::RepLinkRefused => "rep_link_refused",
            ErrorKind::BadCredentials { .. } => "bad_credentials",
            ErrorKind::StaleTimestamp { .. } => "stale_timestamp",
            ErrorKind::WrongTenant { .. } => "wrong_tenant",
            ErrorKind::NotFound { .. } => "not_found",
            ErrorKind::MethodNotAllowed { .. } => "method_not_allowed",
            ErrorKind::Config(_) => "config",
            ErrorKind::InvalidPlaybook(_) => "invalid_playbook",
            ErrorKind::CrmUnavailable { .. } => "crm_unavailable",
            ErrorKind::CrmRejected { .. } => "crm_rejected",
            ErrorKind::CrmForbidden { .. } => "crm_forbidden",
            ErrorKind::CrmRateLimited { .. } => "crm_rate_limited",
            ErrorKind::DeadlineExceeded { .. } => "deadline_exceeded",
            ErrorKind::CrmRecordGone { .. } => "crm_record_gone",
            ErrorKind::Store(_) => "store",
        }
    }

    /// The JSON body an endpoint answers with for this error.
    pub fn to_json(&self) -> serde_json::Value {
        let mut error = serde_json::json!({
            "code": self.code(),
            "message": self.to_string(),
        });
        if let ErrorKind::InvalidBody { path, .. } | ErrorKind::WrongTenant { path, .. } = self {
            error["path"] = path.clone().into();
        }
        match self {
            ErrorKind::InvalidTranscript { at, .. } => error["path"] = at.clone().into(),
            ErrorKind::RepNotInCall { speakers, .. } => error["speakers"] = speakers.clone().into(),
            _ => {}
        }
        serde_json::json!({ "error": error })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_mistakes_are_4xx_and_server_failures_5xx() {
        assert_eq!(ErrorKind::BadSignature.status(), 401);
        let crm = ErrorKind::CrmUnavailable {
            call: "PATCH /x".into(),
            reason: "503".into(),
        };
        assert_eq!(crm.status(), 502);
    }

    #[test]
    fn invalid_body_names_the_field_path() {
        let err = ErrorKind::invalid_body("events[0].record.id", "missing field `id`");
        assert_eq!(
            err,
            ErrorKind::InvalidBody {
                path: "events[0].record.id".into(),
                message: "missing field `id`".into(),
            }
        );
        let json = err.to_json();
        assert_eq!(json["error"]["path"], "events[0].record.id");
        assert_eq!(json["error"]["code"], "invalid_body");
    }

    #[test]
    fn transcript_failures_answer_400_413_and_422_naming_what_to_fix() {
        let malformed = ErrorKind::InvalidTranscript {
            format: "webvtt",
            at: "line 7".into(),
            message: "expected a cue timing".into(),
        };
        assert_eq!(malformed.status(), 400);
        assert_eq!(malformed.to_json()["error"]["path"], "line 7");
        let large = ErrorKind::TranscriptTooLarge {
            bytes: 2_000_000,
            limit: 1 << 20,
        };
        assert_eq!(large.status(), 413);
        let unknown = ErrorKind::UnknownTranscriptFormat {
            found: "srt".into(),
            known: "webvtt, gong, text",
        };
        assert_eq!(unknown.status(), 400);
        assert!(
            unknown
                .to_string()
                .ends_with("use one of webvtt, gong, text")
        );
        let nobody = ErrorKind::RepNotInCall {
            rep: "Sam".into(),
            speakers: vec!["Dana Ruiz".into(), "Lee Park".into()],
        };
        assert_eq!(nobody.status(), 422);
        assert_eq!(
            nobody.to_json()["error"]["speakers"],
            serde_json::json!(["Dana Ruiz", "Lee Park"])
        );
    }

    #[test]
    fn a_wrong_tenant_is_403_naming_the_field_and_the_variable() {
        let err = ErrorKind::WrongTenant {
            path: "[1].portalId".into(),
            found: Some("99".into()),
            variable: "hubspot_portal_ids",
        };
        assert_eq!(err.status(), 403);
        let json = err.to_json();
        assert_eq!(json["error"]["code"], "wrong_tenant");
        assert_eq!(json["error"]["path"], "[1].portalId");
        let message = json["error"]["message"].as_str().unwrap();
        assert!(message.contains("\"99\"") && message.contains("hubspot_portal_ids"));
        let none = ErrorKind::WrongTenant {
            path: "OrganizationId".into(),
            found: None,
            variable: "salesforce_org_id",
        };
        assert!(
            none.to_string().starts_with("no `OrganizationId`"),
            "{none}"
        );
    }
}
