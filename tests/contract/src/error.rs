//! What a contract check reports: a call outside the vendor's description ([`Violation`]), or a
//! description that could not be read ([`LoadError`]).

use std::path::PathBuf;

/// A CRM call (or the fake's answer to it) that the vendor's API description does not allow.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{operation}: {kind}")]
pub struct Violation {
    /// The operation as the description names it (`HubSpot batch-read`), or the call itself
    /// (`HubSpot GET /crm/v3/…`) when no operation matched.
    pub operation: String,
    /// What is outside the description.
    pub kind: ViolationKind,
}

/// What part of a call a [`Violation`] is about.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ViolationKind {
    /// No operation in the description has this method and path.
    #[error("no operation in the vendor's description has this method and path")]
    NoOperation,
    /// A query parameter the operation does not take.
    #[error("query parameter `{0}` is not in the description")]
    QueryParameter(String),
    /// A request body field (a path such as `inputs[0].idProperty`) the operation does not take.
    #[error("request field `{0}` is not in the description")]
    RequestField(String),
    /// An answer field the operation never returns: the fake answers something the CRM does not.
    #[error("answer field `{0}` is not in the description")]
    AnswerField(String),
    /// A Salesforce field that is neither a standard field of the object nor custom (`__c`).
    #[error("`{object}.{field}` is not a standard field of {object} (custom fields end in `__c`)")]
    SalesforceField {
        /// The object (`Opportunity`).
        object: String,
        /// The field or relationship path as written (`Account.Industry`).
        field: String,
    },
    /// A SOQL query this check cannot read.
    #[error("unreadable SOQL ({reason}): {soql}")]
    Soql {
        /// What the parser expected.
        reason: String,
        /// The query.
        soql: String,
    },
    /// An incoming webhook body unlike the vendor's documented payload.
    #[error("webhook field `{0}`: {1}")]
    Webhook(String, String),
}

/// A vendor description that is installed but could not be read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LoadError {
    /// A file could not be read.
    #[error("{}: {source}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// An OpenAPI document is not valid OpenAPI 3.0 JSON.
    #[error("{}: {source}", path.display())]
    OpenApi {
        /// The document.
        path: PathBuf,
        /// Why.
        source: serde_json::Error,
    },
    /// An SDK's generated sources are not in the shape this check reads.
    #[error("{}: {reason}", path.display())]
    Sdk {
        /// The file.
        path: PathBuf,
        /// What was expected.
        reason: String,
    },
    /// The specs are missing and `PIPELINE_GUARD_CONTRACT=required`.
    #[error(
        "PIPELINE_GUARD_CONTRACT=required, but the vendor specs are not installed (missing {0}): run `npm ci --prefix tests/contract`"
    )]
    Missing(String),
}
