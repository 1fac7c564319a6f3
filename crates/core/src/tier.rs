//! Tiers (hot, warm, cold, disqualified): a score band plus requirements on dimensions.

use serde::{Deserialize, Serialize};

use crate::score::{DimensionScore, Status};

/// One tier, as the playbook defines it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Tier {
    /// The tier's name (`hot`).
    pub name: String,
    /// The lowest total that reaches it.
    pub min_score: u8,
    /// Dimensions (by key) that must be green, whatever the total.
    #[serde(default)]
    pub requires_green: Vec<String>,
    /// Dimensions (by key) that must not be red.
    #[serde(default)]
    pub requires_not_red: Vec<String>,
}

/// The tier a record lands in, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Placement {
    /// The tier's name.
    pub tier: String,
    /// Why: which higher tier it missed and what that tier needs.
    pub reason: String,
}

/// Place a total and its dimensions in the first tier (highest first) they qualify for.
///
/// A validated playbook always ends with a tier at 0 without requirements, so every record lands.
pub fn place(tiers: &[Tier], total: u8, dimensions: &[DimensionScore]) -> Placement {
    let mut missed: Vec<String> = Vec::new();
    for tier in tiers {
        if total < tier.min_score {
            continue;
        }
        let unmet: Vec<String> = tier
            .requires_green
            .iter()
            .filter_map(|key| unmet(dimensions, key, |s| s == Status::Green, "green"))
            .chain(
                tier.requires_not_red
                    .iter()
                    .filter_map(|key| unmet(dimensions, key, |s| s != Status::Red, "not red")),
            )
            .collect();
        if unmet.is_empty() {
            let mut reason = format!("{total}/100 reaches {} ({}+)", tier.name, tier.min_score);
            if !missed.is_empty() {
                reason.push_str(&format!("; {}", missed.join("; ")));
            }
            return Placement {
                tier: tier.name.clone(),
                reason,
            };
        }
        missed.push(format!("not {}: it needs {}", tier.name, unmet.join(", ")));
    }
    Placement {
        tier: tiers.last().map(|t| t.name.clone()).unwrap_or_default(),
        reason: missed.join("; "),
    }
}

fn unmet(
    dimensions: &[DimensionScore],
    key: &str,
    ok: impl Fn(Status) -> bool,
    wanted: &str,
) -> Option<String> {
    let d = dimensions.iter().find(|d| d.key == key)?;
    (!ok(d.status)).then(|| format!("{} {wanted} (it is {})", d.name, d.status))
}

/// Problems with the tier list, each with its path.
pub fn problems(tiers: &[Tier], dimension_keys: &[&str]) -> Vec<String> {
    let mut problems = Vec::new();
    if tiers.is_empty() {
        problems.push("tiers: define at least one [[tiers]] table".to_owned());
        return problems;
    }
    for (i, tier) in tiers.iter().enumerate() {
        let at = format!("tiers[{i}]");
        if tier.name.trim().is_empty() {
            problems.push(format!("{at}.name: must not be empty"));
        }
        if tier.min_score > 100 {
            problems.push(format!(
                "{at}.min_score: must be within 0..=100 (found {})",
                tier.min_score
            ));
        }
        if i > 0 && tier.min_score >= tiers[i - 1].min_score {
            problems.push(format!(
                "{at}.min_score: tiers go from highest to lowest; {} is not below {}'s {}",
                tier.min_score,
                tiers[i - 1].name,
                tiers[i - 1].min_score
            ));
        }
        for (list, keys) in [
            ("requires_green", &tier.requires_green),
            ("requires_not_red", &tier.requires_not_red),
        ] {
            for (j, key) in keys.iter().enumerate() {
                if !dimension_keys.contains(&key.as_str()) {
                    problems.push(format!(
                        "{at}.{list}[{j}]: unknown dimension {key:?}; known: {}",
                        dimension_keys.join(", ")
                    ));
                }
            }
        }
    }
    if let Some(last) = tiers.last()
        && (last.min_score != 0
            || !last.requires_green.is_empty()
            || !last.requires_not_red.is_empty())
    {
        problems.push(format!(
            "tiers[{}]: the last tier must have min_score = 0 and no requirements, so every record gets a tier",
            tiers.len() - 1
        ));
    }
    problems
}
