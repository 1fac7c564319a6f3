//! [`StandardFields`]: the Salesforce standard objects' fields and relationships, from the table
//! `tests/contract/salesforce/standard-fields.tsv` (its header names its sources).

use std::collections::HashMap;

/// What a name on an object is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Member {
    /// A field.
    Field,
    /// A lookup's relationship name (`Account` on Opportunity), reaching this object.
    Parent(String),
    /// A child relationship (`Tasks` on Opportunity), listing these objects.
    Children(String),
}

/// Every object's members, by lower-case object and name (Salesforce compares them so).
#[derive(Debug)]
pub(crate) struct StandardFields(HashMap<(String, String), Member>);

const TABLE: &str = include_str!("../../salesforce/standard-fields.tsv");

impl StandardFields {
    /// The table in the repository.
    pub(crate) fn table() -> Self {
        let mut members = HashMap::new();
        for line in TABLE
            .lines()
            .filter(|line| !line.starts_with('#') && !line.is_empty())
        {
            let mut columns = line.split('\t');
            let (Some(object), Some(name), Some(kind)) =
                (columns.next(), columns.next(), columns.next())
            else {
                continue;
            };
            let member = match kind.split_once(' ') {
                Some(("parent", target)) => Member::Parent(target.to_owned()),
                Some(("children", target)) => Member::Children(target.to_owned()),
                _ => Member::Field,
            };
            members.insert(
                (object.to_ascii_lowercase(), name.to_ascii_lowercase()),
                member,
            );
        }
        Self(members)
    }

    /// What `name` is on `object`; custom fields (`__c`) and custom relationships (`__r`) are
    /// fields of any object.
    pub(crate) fn member(&self, object: &str, name: &str) -> Option<Member> {
        let lower = name.to_ascii_lowercase();
        if lower.ends_with("__c") || lower.ends_with("__r") {
            return Some(Member::Field);
        }
        self.0.get(&(object.to_ascii_lowercase(), lower)).cloned()
    }

    /// Whether `name` is a field of `object` (standard, or custom).
    pub(crate) fn is_field(&self, object: &str, name: &str) -> bool {
        self.member(object, name) == Some(Member::Field)
    }

    /// Whether a dotted `path` (`Account.Industry`) resolves from `object` to a field.
    pub(crate) fn resolves(&self, object: &str, path: &str) -> bool {
        let mut current = object.to_owned();
        let mut segments = path.split('.').peekable();
        while let Some(segment) = segments.next() {
            match self.member(&current, segment) {
                // A custom relationship's target is not in the table.
                Some(Member::Field) if segment.to_ascii_lowercase().ends_with("__r") => {
                    return true;
                }
                Some(Member::Field) => return segments.peek().is_none(),
                Some(Member::Parent(target)) if segments.peek().is_some() => current = target,
                _ => return false,
            }
        }
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolves_relationship_paths_and_custom_fields() {
        let table = StandardFields::table();
        assert!(table.resolves("Opportunity", "StageName"));
        assert!(table.resolves("Opportunity", "Account.NumberOfEmployees"));
        assert!(table.resolves("OpportunityContactRole", "Contact.Email"));
        assert!(table.resolves("Opportunity", "pg_score__c"));
        assert!(!table.resolves("Opportunity", "Employees"));
        assert!(!table.resolves("Opportunity", "Account"));
        assert_eq!(
            table.member("Opportunity", "Tasks"),
            Some(Member::Children("Task".into()))
        );
    }
}
