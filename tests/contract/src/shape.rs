//! [`Shape`]: what field names a JSON value may have, as an API description says, whatever the
//! description was written in (an OpenAPI schema, a TypeScript model). Only names are checked:
//! a call outside the description is one that sends or expects a field the CRM does not know.

use std::collections::{BTreeMap, HashMap};

use serde_json::Value;

/// The fields a value may have.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Shape {
    /// Anything: a primitive, or an object the description leaves free.
    Any,
    /// An object with these properties; `additional` is what other keys hold, `None` when the
    /// description allows no others.
    Object {
        properties: BTreeMap<String, Shape>,
        additional: Option<Box<Shape>>,
    },
    /// An array of these.
    Array(Box<Shape>),
    /// A named shape in [`Schemas`].
    Ref(String),
    /// Any of these (`allOf`, `oneOf`, `anyOf`, TypeScript `&` and `|`): a field is known when
    /// one of them knows it.
    Union(Vec<Shape>),
}

/// Named shapes a [`Shape::Ref`] points into.
#[derive(Debug, Default)]
pub(crate) struct Schemas(pub HashMap<String, Shape>);

/// How deep references may nest before a shape counts as [`Shape::Any`] (a self-referencing
/// union would otherwise never end).
const MAX_DEPTH: usize = 32;

impl Schemas {
    /// The path of the first field of `value` that `shape` does not know (`inputs[0].idProperty`),
    /// or `None` when every field is known.
    pub(crate) fn unknown_field(&self, value: &Value, shape: &Shape) -> Option<String> {
        self.first_unknown(value, &[shape], "")
    }

    fn first_unknown(&self, value: &Value, shapes: &[&Shape], at: &str) -> Option<String> {
        let mut flat = Vec::new();
        for shape in shapes {
            self.flatten(shape, &mut flat, 0);
        }
        if flat.iter().any(|shape| matches!(shape, Shape::Any)) {
            return None;
        }
        match value {
            Value::Object(map) => {
                let objects: Vec<_> = flat
                    .iter()
                    .filter_map(|shape| match shape {
                        Shape::Object {
                            properties,
                            additional,
                        } => Some((properties, additional)),
                        _ => None,
                    })
                    .collect();
                if objects.is_empty() {
                    return None;
                }
                for (key, field) in map {
                    let next: Vec<&Shape> = objects
                        .iter()
                        .filter_map(|(properties, additional)| {
                            properties.get(key).or(additional.as_deref())
                        })
                        .collect();
                    let path = if at.is_empty() {
                        key.clone()
                    } else {
                        format!("{at}.{key}")
                    };
                    if next.is_empty() {
                        return Some(path);
                    }
                    if let Some(unknown) = self.first_unknown(field, &next, &path) {
                        return Some(unknown);
                    }
                }
                None
            }
            Value::Array(items) => {
                let next: Vec<&Shape> = flat
                    .iter()
                    .filter_map(|shape| match shape {
                        Shape::Array(item) => Some(item.as_ref()),
                        _ => None,
                    })
                    .collect();
                if next.is_empty() {
                    return None;
                }
                items.iter().enumerate().find_map(|(index, item)| {
                    self.first_unknown(item, &next, &format!("{at}[{index}]"))
                })
            }
            _ => None,
        }
    }

    /// `shape` with its references followed and its unions spread out.
    fn flatten<'a>(&'a self, shape: &'a Shape, into: &mut Vec<&'a Shape>, depth: usize) {
        if depth > MAX_DEPTH {
            into.push(&Shape::Any);
            return;
        }
        match shape {
            Shape::Ref(name) => match self.0.get(name) {
                Some(named) => self.flatten(named, into, depth + 1),
                // A reference the description does not resolve says nothing about names.
                None => into.push(&Shape::Any),
            },
            Shape::Union(members) => {
                for member in members {
                    self.flatten(member, into, depth + 1);
                }
            }
            other => into.push(other),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn object(properties: &[(&str, Shape)]) -> Shape {
        Shape::Object {
            properties: properties
                .iter()
                .map(|(name, shape)| ((*name).to_owned(), shape.clone()))
                .collect(),
            additional: None,
        }
    }

    #[test]
    fn names_the_first_unknown_field_by_its_path() {
        let mut schemas = Schemas::default();
        schemas
            .0
            .insert("Input".into(), object(&[("id", Shape::Any)]));
        let batch = object(&[("inputs", Shape::Array(Box::new(Shape::Ref("Input".into()))))]);
        assert_eq!(
            schemas.unknown_field(&json!({"inputs": [{"id": "1"}]}), &batch),
            None
        );
        assert_eq!(
            schemas.unknown_field(&json!({"inputs": [{"id": "1", "idProperty": "x"}]}), &batch),
            Some("inputs[0].idProperty".into())
        );
    }

    #[test]
    fn a_union_knows_what_any_member_knows() {
        let schemas = Schemas::default();
        let both = Shape::Union(vec![
            object(&[("success", Shape::Any)]),
            object(&[("data", Shape::Any)]),
        ]);
        assert_eq!(
            schemas.unknown_field(&json!({"success": true, "data": {}}), &both),
            None
        );
        assert_eq!(
            schemas.unknown_field(&json!({"succes": true}), &both),
            Some("succes".into())
        );
    }

    #[test]
    fn additional_properties_take_any_name() {
        let map = Shape::Object {
            properties: BTreeMap::new(),
            additional: Some(Box::new(Shape::Any)),
        };
        assert_eq!(
            Schemas::default().unknown_field(&json!({"pg_score": "3"}), &map),
            None
        );
    }
}
