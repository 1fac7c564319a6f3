//! Spin's `{{ variable }}` templates and the rules for variable names.
//!
//! Component variable values and `allowed_outbound_hosts` entries in
//! `spin.toml` may contain expressions in double curly braces that name an
//! application variable, e.g. `"Bearer {{ hubspot_token }}"`. Spin only allows
//! bare variable names inside the braces (surrounding whitespace is trimmed).

use std::collections::BTreeMap;
use std::fmt;

/// One piece of a [`Template`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Part {
    /// Literal text, copied as is.
    Lit(String),
    /// The name of an application variable, replaced by its value.
    Var(String),
}

/// A parsed template string.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template {
    parts: Vec<Part>,
}

/// Why a template or a variable name was rejected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TemplateError {
    /// A `{{` without a matching `}}`.
    Unmatched(String),
    /// A variable name that breaks Spin's naming rules.
    InvalidName(String),
    /// A template names a variable that the application does not declare.
    UnknownVariable(String),
}

impl fmt::Display for TemplateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Unmatched(t) => write!(f, "invalid variable template {t:?}: unmatched '{{{{'"),
            Self::InvalidName(msg) => write!(f, "invalid variable name: {msg}"),
            Self::UnknownVariable(name) => {
                write!(f, "invalid variable template: unknown variable {name:?}")
            }
        }
    }
}

impl std::error::Error for TemplateError {}

impl Template {
    /// Parses `text`, splitting it into literals and `{{ name }}` expressions.
    pub fn parse(text: &str) -> Result<Self, TemplateError> {
        let mut parts = Vec::new();
        let mut rest = text;
        while !rest.is_empty() {
            if let Some(after_open) = rest.strip_prefix("{{") {
                let Some((expr, after)) = after_open.split_once("}}") else {
                    return Err(TemplateError::Unmatched(text.to_string()));
                };
                parts.push(Part::Var(expr.trim().to_string()));
                rest = after;
            } else {
                let end = rest.find("{{").unwrap_or(rest.len());
                parts.push(Part::Lit(rest[..end].to_string()));
                rest = &rest[end..];
            }
        }
        Ok(Self { parts })
    }

    /// True when the template has no `{{ }}` expression.
    pub fn is_literal(&self) -> bool {
        self.parts.iter().all(|p| matches!(p, Part::Lit(_)))
    }

    /// The variable names the template refers to, in order.
    pub fn variables(&self) -> impl Iterator<Item = &str> {
        self.parts.iter().filter_map(|p| match p {
            Part::Var(name) => Some(name.as_str()),
            Part::Lit(_) => None,
        })
    }

    /// Substitutes every expression with its value from `values`.
    pub fn render(&self, values: &BTreeMap<String, String>) -> Result<String, TemplateError> {
        let mut out = String::new();
        for part in &self.parts {
            match part {
                Part::Lit(lit) => out.push_str(lit),
                Part::Var(name) => out.push_str(
                    values
                        .get(name)
                        .ok_or_else(|| TemplateError::UnknownVariable(name.clone()))?,
                ),
            }
        }
        Ok(out)
    }
}

/// Checks a variable name against Spin's rules: lower-case ASCII letters,
/// digits and single underscores, starting with a letter and not ending with
/// an underscore.
pub fn validate_variable_name(name: &str) -> Result<(), TemplateError> {
    let reason = if name.is_empty() {
        Some("must not be empty".to_string())
    } else if let Some(c) = name
        .chars()
        .find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '_'))
    {
        Some(format!(
            "invalid character {c:?}. Variable names may contain only lower-case letters, numbers, and underscores."
        ))
    } else if !name.starts_with(|c: char| c.is_ascii_lowercase()) {
        Some("must start with a lowercase ASCII letter".to_string())
    } else if !name.ends_with(|c: char| c.is_ascii_alphanumeric()) {
        Some("must end with a lowercase ASCII letter or digit".to_string())
    } else if name.contains("__") {
        Some("must not contain multiple consecutive underscores".to_string())
    } else {
        None
    };
    match reason {
        Some(reason) => Err(TemplateError::InvalidName(format!("{name:?}: {reason}"))),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_literals_and_expressions() {
        let t = Template::parse("a-{{ x }}-b{{y}}").expect("valid template");
        assert_eq!(
            t.parts,
            vec![
                Part::Lit("a-".into()),
                Part::Var("x".into()),
                Part::Lit("-b".into()),
                Part::Var("y".into()),
            ]
        );
        assert!(!t.is_literal());
        assert_eq!(t.variables().collect::<Vec<_>>(), ["x", "y"]);
        assert!(Template::parse("").expect("empty").is_literal());
        assert!(Template::parse("plain").expect("plain").is_literal());
    }

    #[test]
    fn rejects_unmatched_braces() {
        assert!(matches!(
            Template::parse("{{ ok }} {{ broken"),
            Err(TemplateError::Unmatched(_))
        ));
    }

    #[test]
    fn renders_with_values() {
        let values = BTreeMap::from([("token".to_string(), "s3cret".to_string())]);
        let t = Template::parse("Bearer {{ token }}").expect("valid");
        assert_eq!(t.render(&values).expect("renders"), "Bearer s3cret");
        let missing = Template::parse("{{ nope }}").expect("valid");
        assert_eq!(
            missing.render(&values),
            Err(TemplateError::UnknownVariable("nope".into()))
        );
    }

    #[test]
    fn variable_names_follow_spin_rules() {
        for ok in ["a", "crm_api_url", "x1", "a_b_c"] {
            assert!(validate_variable_name(ok).is_ok(), "{ok}");
        }
        for bad in ["", "A", "1a", "a-b", "a__b", "a_", "_a", "Token"] {
            assert!(validate_variable_name(bad).is_err(), "{bad}");
        }
    }
}
