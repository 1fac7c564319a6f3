//! Calls outside a vendor's description that the vendor documents elsewhere:
//! `tests/contract/allowed.tsv`, one `operation<TAB>field<TAB>vendor document` a line.

use crate::error::{Violation, ViolationKind};

const ALLOWED: &str = include_str!("../allowed.tsv");

/// Whether `violation` is a known gap in the description.
pub(crate) fn allows(violation: &Violation) -> bool {
    let field = match &violation.kind {
        ViolationKind::QueryParameter(field)
        | ViolationKind::RequestField(field)
        | ViolationKind::AnswerField(field) => field.clone(),
        ViolationKind::SalesforceField { object, field } => format!("{object}.{field}"),
        _ => return false,
    };
    ALLOWED
        .lines()
        .filter(|line| !line.starts_with('#'))
        .filter_map(|line| {
            let mut columns = line.split('\t');
            Some((columns.next()?, columns.next()?))
        })
        .any(|(operation, allowed)| {
            operation == violation.operation && field_matches(allowed, &field)
        })
}

/// `allowed` names a field path; `[]` in it stands for any index (`results[].from`).
fn field_matches(allowed: &str, field: &str) -> bool {
    let mut without_indexes = String::with_capacity(field.len());
    let mut in_index = false;
    for c in field.chars() {
        match c {
            '[' => {
                in_index = true;
                without_indexes.push('[');
            }
            ']' => {
                in_index = false;
                without_indexes.push(']');
            }
            _ if in_index => {}
            c => without_indexes.push(c),
        }
    }
    allowed == without_indexes
}
