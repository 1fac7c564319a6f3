//! An export's columns mapped to the canonical record: by label, with a default per CRM (the
//! labels its deal export or report uses, and the playbook's dimensions by name, key and
//! `crm_fields`), changed by an override file; columns that feed nothing are named with the
//! canonical field they may be.
//!
//! The override file (TOML):
//! ```toml
//! [columns]
//! "Business pain" = "pain"      # a playbook field
//! "Internal notes" = "-"        # ignored, and not listed as unknown
//! [stages]
//! won = ["Contract signed"]     # stage (or status) labels that mean closed won
//! lost = ["Disqualified"]       # … closed lost
//! ```

use std::collections::BTreeMap;

use pipeline_guard_core::{audit::UnknownColumn, evidence::EvidenceRule, playbook::Playbook};
use serde::Deserialize;

/// The CRM whose export is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ExportCrm {
    /// HubSpot's deal export (property labels as headers).
    Hubspot,
    /// Pipedrive's deal export (`Deal - Title`, …).
    Pipedrive,
    /// A Salesforce opportunity report exported as CSV.
    Salesforce,
    /// JSON Lines, one canonical record per line.
    Generic,
}

impl ExportCrm {
    /// Its name.
    pub fn name(self) -> &'static str {
        match self {
            ExportCrm::Hubspot => "hubspot",
            ExportCrm::Pipedrive => "pipedrive",
            ExportCrm::Salesforce => "salesforce",
            ExportCrm::Generic => "generic",
        }
    }
}

/// What a column feeds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// The deal's id.
    Id,
    /// Its name.
    Name,
    /// Its owner.
    Owner,
    /// Its stage (and, for HubSpot and Salesforce, won or lost by its label).
    Stage,
    /// Open, won or lost.
    Status,
    /// Salesforce's `Won` (true / false).
    Won,
    /// Salesforce's `Closed` (true / false).
    Closed,
    /// Its value.
    Amount,
    /// Its expected close date.
    CloseDate,
    /// Its pipeline.
    Pipeline,
    /// Its last activity's date.
    LastActivity,
    /// Its next activity's date.
    NextActivity,
    /// A contact's name.
    ContactName,
    /// A contact's job title.
    ContactTitle,
    /// A contact's buying role.
    ContactRole,
    /// A field by canonical name (`pain`, `lost_reason`).
    Field(String),
    /// Read by nothing, on purpose.
    Ignore,
}

impl Target {
    /// A target as the override file names it.
    pub fn parse(name: &str) -> Target {
        match name.trim() {
            "id" => Target::Id,
            "name" => Target::Name,
            "owner" => Target::Owner,
            "stage" => Target::Stage,
            "status" => Target::Status,
            "won" => Target::Won,
            "closed" => Target::Closed,
            "amount" => Target::Amount,
            "close_date" => Target::CloseDate,
            "pipeline" => Target::Pipeline,
            "last_activity_at" => Target::LastActivity,
            "next_activity_at" => Target::NextActivity,
            "contact.name" => Target::ContactName,
            "contact.title" => Target::ContactTitle,
            "contact.role" => Target::ContactRole,
            "-" | "" => Target::Ignore,
            field => Target::Field(field.to_owned()),
        }
    }
}

/// The override file.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Overrides {
    /// Column label → target.
    #[serde(default)]
    pub columns: BTreeMap<String, String>,
    /// Labels meaning closed won and closed lost.
    #[serde(default)]
    pub stages: StageLabels,
}

/// Stage or status labels meaning closed won and closed lost, besides the CRM's defaults.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StageLabels {
    /// Closed won.
    #[serde(default)]
    pub won: Vec<String>,
    /// Closed lost.
    #[serde(default)]
    pub lost: Vec<String>,
}

/// Each CRM's built-in column labels (lower case).
fn defaults(crm: ExportCrm) -> &'static [(&'static str, &'static str)] {
    match crm {
        ExportCrm::Hubspot => &[
            ("record id", "id"),
            ("deal name", "name"),
            ("deal owner", "owner"),
            ("deal stage", "stage"),
            ("amount", "amount"),
            ("close date", "close_date"),
            ("pipeline", "pipeline"),
            ("last activity date", "last_activity_at"),
            ("next activity date", "next_activity_at"),
            ("next step", "next_step"),
            ("closed lost reason", "lost_reason"),
            ("associated contact", "contact.name"),
            ("create date", "-"),
            ("last modified date", "-"),
            ("deal type", "-"),
            ("associated company", "-"),
            ("forecast category", "-"),
        ],
        ExportCrm::Pipedrive => &[
            ("deal - id", "id"),
            ("deal - title", "name"),
            ("deal - owner", "owner"),
            ("deal - stage", "stage"),
            ("deal - status", "status"),
            ("deal - value", "amount"),
            ("deal - expected close date", "close_date"),
            ("deal - pipeline", "pipeline"),
            ("deal - last activity date", "last_activity_at"),
            ("deal - next activity date", "next_activity_at"),
            ("deal - lost reason", "lost_reason"),
            ("person - name", "contact.name"),
            ("person - job title", "contact.title"),
            ("deal - currency", "-"),
            ("deal - deal created", "-"),
            ("deal - update time", "-"),
            ("deal - won time", "-"),
            ("deal - lost time", "-"),
            ("organization - name", "-"),
        ],
        ExportCrm::Salesforce => &[
            ("opportunity id", "id"),
            ("opportunity name", "name"),
            ("opportunity owner", "owner"),
            ("stage", "stage"),
            ("won", "won"),
            ("closed", "closed"),
            ("amount", "amount"),
            ("close date", "close_date"),
            ("next step", "next_step"),
            ("loss reason", "lost_reason"),
            ("last activity", "last_activity_at"),
            ("contact: full name", "contact.name"),
            ("contact: title", "contact.title"),
            ("account name", "-"),
            ("probability (%)", "-"),
            ("fiscal period", "-"),
            ("type", "-"),
            ("lead source", "-"),
            ("created date", "-"),
        ],
        ExportCrm::Generic => &[],
    }
}

/// Stage labels each CRM's exports use for closed won and closed lost (lower case).
const WON: &[&str] = &["closed won", "won"];
const LOST: &[&str] = &["closed lost", "lost"];

/// The columns of one export, mapped.
#[derive(Debug, Clone)]
pub struct ColumnMap {
    /// Each column's target, in the header's order.
    pub targets: Vec<Target>,
    /// Labels (lower case) meaning closed won.
    pub won: Vec<String>,
    /// Labels (lower case) meaning closed lost.
    pub lost: Vec<String>,
    /// The columns that feed nothing.
    pub unknown: Vec<UnknownColumn>,
}

fn key(label: &str) -> String {
    label.trim().to_lowercase()
}

impl ColumnMap {
    /// Map `headers` of a `crm` export for `playbook`, `overrides` first.
    pub fn new(
        headers: &[String],
        crm: ExportCrm,
        playbook: &Playbook,
        overrides: &Overrides,
    ) -> ColumnMap {
        let mut known: BTreeMap<String, Target> = defaults(crm)
            .iter()
            .map(|(label, target)| ((*label).to_owned(), Target::parse(target)))
            .collect();
        for d in &playbook.dimensions {
            if matches!(d.evidence, EvidenceRule::Contact { .. }) {
                continue;
            }
            let field = Target::Field(d.field().to_owned());
            let mut labels = vec![d.name.clone(), d.key.clone(), d.field().to_owned()];
            labels.extend(d.crm_fields.get(crm.name()).cloned());
            if crm == ExportCrm::Pipedrive {
                labels.push(format!("Deal - {}", d.name));
            }
            for label in labels {
                known.entry(key(&label)).or_insert_with(|| field.clone());
            }
        }
        for (label, target) in &overrides.columns {
            known.insert(key(label), Target::parse(target));
        }
        let mut unknown = Vec::new();
        let targets = headers
            .iter()
            .map(|header| {
                known.get(&key(header)).cloned().unwrap_or_else(|| {
                    unknown.push(UnknownColumn {
                        column: header.clone(),
                        suggestion: suggest(header, playbook),
                    });
                    Target::Ignore
                })
            })
            .collect();
        let labels = |defaults: &[&str], more: &[String]| -> Vec<String> {
            defaults
                .iter()
                .map(|s| (*s).to_owned())
                .chain(more.iter().map(|s| key(s)))
                .collect()
        };
        ColumnMap {
            targets,
            won: labels(WON, &overrides.stages.won),
            lost: labels(LOST, &overrides.stages.lost),
            unknown,
        }
    }

    /// The first column feeding `target`.
    pub fn position(&self, target: &Target) -> Option<usize> {
        self.targets.iter().position(|t| t == target)
    }
}

/// The canonical field an unknown column may be: a playbook field or built-in whose name is in
/// the label, or close to it.
fn suggest(label: &str, playbook: &Playbook) -> Option<String> {
    let label = normal(label);
    let mut candidates: Vec<(String, String)> = [
        "id",
        "name",
        "owner",
        "stage",
        "status",
        "amount",
        "close_date",
        "pipeline",
        "last_activity_at",
        "next_activity_at",
        "lost_reason",
        "contact.name",
        "contact.title",
        "contact.role",
    ]
    .iter()
    .map(|t| (normal(t), (*t).to_owned()))
    .collect();
    for d in &playbook.dimensions {
        candidates.push((normal(&d.name), d.field().to_owned()));
        candidates.push((normal(d.field()), d.field().to_owned()));
    }
    candidates
        .into_iter()
        .map(|(name, target)| {
            let similar = strsim::jaro_winkler(&label, &name);
            let within = name.len() >= 4 && label.contains(&name);
            (if within { similar.max(0.9) } else { similar }, target)
        })
        .filter(|(similar, _)| *similar >= 0.85)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, target)| target)
}

/// Lower case letters and digits, words by one space, without a `Deal - ` prefix.
fn normal(label: &str) -> String {
    let label = label.to_lowercase();
    let label = label.strip_prefix("deal - ").unwrap_or(&label);
    label
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(labels: &[&str]) -> Vec<String> {
        labels.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn a_hubspot_export_maps_by_label_and_the_playbooks_dimension_names() {
        let playbook = Playbook::default_playbook();
        let map = ColumnMap::new(
            &headers(&[
                "Record ID",
                "Deal Stage",
                "Pain",
                "pg_impact",
                "Business pain point",
            ]),
            ExportCrm::Hubspot,
            &playbook,
            &Overrides::default(),
        );
        assert_eq!(map.targets[0], Target::Id);
        assert_eq!(map.targets[1], Target::Stage);
        assert_eq!(map.targets[2], Target::Field("pain".into()));
        assert_eq!(map.targets[3], Target::Field("impact".into()), "crm_fields");
        assert_eq!(map.unknown.len(), 1);
        assert_eq!(map.unknown[0].suggestion.as_deref(), Some("pain"));
    }

    #[test]
    fn the_override_file_maps_and_ignores_columns_and_names_stages() {
        let playbook = Playbook::default_playbook();
        let overrides: Overrides = toml::from_str(
            "[columns]\n\"Business pain point\" = \"pain\"\n\"Notes\" = \"-\"\n[stages]\nwon = [\"Signed\"]\n",
        )
        .unwrap();
        let map = ColumnMap::new(
            &headers(&["Business pain point", "Notes"]),
            ExportCrm::Hubspot,
            &playbook,
            &overrides,
        );
        assert_eq!(map.targets, [Target::Field("pain".into()), Target::Ignore]);
        assert!(map.unknown.is_empty());
        assert!(map.won.contains(&"signed".to_owned()));
    }
}
