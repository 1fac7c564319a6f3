//! Reads an OpenAPI 3.0 document (HubSpot's, Pipedrive v1's) into an [`Api`].

use std::collections::BTreeSet;
use std::path::Path;

use openapiv3::{
    AdditionalProperties, OpenAPI, Parameter, ReferenceOr, Schema, SchemaKind, StatusCode, Type,
};

use crate::error::LoadError;
use crate::operation::{Api, Operation, template};
use crate::shape::{Schemas, Shape};

/// Reads the document at `path`. Its paths are mounted under `mount` when given (Pipedrive's
/// document says `/v1` where its API answers on `/api/v1`), else under its first server's path.
pub(crate) fn load(path: &Path, mount: Option<&str>) -> Result<Api, LoadError> {
    let text = std::fs::read_to_string(path).map_err(|source| LoadError::Read {
        path: path.to_owned(),
        source,
    })?;
    let doc: OpenAPI = serde_json::from_str(&text).map_err(|source| LoadError::OpenApi {
        path: path.to_owned(),
        source,
    })?;
    Ok(api(&doc, mount))
}

fn api(doc: &OpenAPI, mount: Option<&str>) -> Api {
    let mount = mount.map_or_else(|| server_path(doc), str::to_owned);
    let mut operations = Vec::new();
    for (path, item) in &doc.paths.paths {
        let Some(item) = item.as_item() else { continue };
        for (method, operation) in item.iter() {
            let query = item
                .parameters
                .iter()
                .chain(&operation.parameters)
                .filter_map(|parameter| resolve_parameter(doc, parameter))
                .filter_map(|parameter| match parameter {
                    Parameter::Query { parameter_data, .. } => Some(parameter_data.name.clone()),
                    _ => None,
                })
                .collect::<BTreeSet<_>>();
            let request = operation
                .request_body
                .as_ref()
                .and_then(|body| match body {
                    ReferenceOr::Item(body) => Some(body),
                    ReferenceOr::Reference { reference } => doc
                        .components
                        .as_ref()?
                        .request_bodies
                        .get(component_name(reference))?
                        .as_item(),
                })
                .and_then(|body| json_schema(&body.content));
            let answers: Vec<Shape> = operation
                .responses
                .responses
                .iter()
                .filter(|(status, _)| match status {
                    StatusCode::Code(code) => (200..300).contains(code),
                    StatusCode::Range(range) => *range == 2,
                })
                .filter_map(|(_, response)| match response {
                    ReferenceOr::Item(response) => Some(response),
                    ReferenceOr::Reference { reference } => doc
                        .components
                        .as_ref()?
                        .responses
                        .get(component_name(reference))?
                        .as_item(),
                })
                .filter_map(|response| json_schema(&response.content))
                .collect();
            operations.push(Operation {
                id: operation
                    .operation_id
                    .clone()
                    .unwrap_or_else(|| format!("{} {path}", method.to_uppercase())),
                method: method.to_uppercase(),
                template: template(&format!("{mount}{path}")),
                query,
                request,
                response: (!answers.is_empty()).then_some(Shape::Union(answers)),
            });
        }
    }
    let schemas = doc
        .components
        .iter()
        .flat_map(|components| &components.schemas)
        .map(|(name, schema)| (name.clone(), shape(schema)))
        .collect();
    Api {
        title: doc.info.title.clone(),
        operations,
        schemas: Schemas(schemas),
    }
}

/// The path of the document's first server (`https://api.hubapi.com/crm/v4/associations`).
fn server_path(doc: &OpenAPI) -> String {
    doc.servers
        .first()
        .and_then(|server| url::Url::parse(&server.url).ok())
        .map(|url| url.path().trim_end_matches('/').to_owned())
        .unwrap_or_default()
}

fn component_name(reference: &str) -> &str {
    reference.rsplit('/').next().unwrap_or(reference)
}

fn resolve_parameter<'a>(
    doc: &'a OpenAPI,
    parameter: &'a ReferenceOr<Parameter>,
) -> Option<&'a Parameter> {
    match parameter {
        ReferenceOr::Item(parameter) => Some(parameter),
        ReferenceOr::Reference { reference } => doc
            .components
            .as_ref()?
            .parameters
            .get(component_name(reference))?
            .as_item(),
    }
}

/// The JSON schema among a body's content types.
fn json_schema(content: &indexmap::IndexMap<String, openapiv3::MediaType>) -> Option<Shape> {
    content
        .iter()
        .find(|(kind, _)| kind.contains("json") || kind.as_str() == "*/*")
        .and_then(|(_, media)| media.schema.as_ref())
        .map(shape)
}

fn shape(schema: &ReferenceOr<Schema>) -> Shape {
    match schema {
        ReferenceOr::Reference { reference } => Shape::Ref(component_name(reference).to_owned()),
        ReferenceOr::Item(schema) => item(schema),
    }
}

fn boxed(schema: &ReferenceOr<Box<Schema>>) -> Shape {
    match schema {
        ReferenceOr::Reference { reference } => Shape::Ref(component_name(reference).to_owned()),
        ReferenceOr::Item(schema) => item(schema),
    }
}

fn item(schema: &Schema) -> Shape {
    match &schema.schema_kind {
        SchemaKind::Type(Type::Object(object)) => {
            properties(&object.properties, object.additional_properties.as_ref())
        }
        SchemaKind::Type(Type::Array(array)) => {
            Shape::Array(Box::new(array.items.as_ref().map_or(Shape::Any, boxed)))
        }
        SchemaKind::OneOf { one_of: members }
        | SchemaKind::AllOf { all_of: members }
        | SchemaKind::AnyOf { any_of: members } => {
            Shape::Union(members.iter().map(shape).collect())
        }
        SchemaKind::Any(any) => {
            let mut members: Vec<Shape> = any
                .all_of
                .iter()
                .chain(&any.one_of)
                .chain(&any.any_of)
                .map(shape)
                .collect();
            if !any.properties.is_empty() || any.additional_properties.is_some() {
                members.push(properties(
                    &any.properties,
                    any.additional_properties.as_ref(),
                ));
            }
            if let Some(items) = &any.items {
                members.push(Shape::Array(Box::new(boxed(items))));
            }
            match members.len() {
                0 => Shape::Any,
                1 => members.remove(0),
                _ => Shape::Union(members),
            }
        }
        SchemaKind::Type(_) | SchemaKind::Not { .. } => Shape::Any,
    }
}

/// An object with `listed` properties. Without `additionalProperties` an object that lists
/// properties is held to them (the check is about names a CRM does not know), one that lists
/// none is free.
fn properties(
    listed: &indexmap::IndexMap<String, ReferenceOr<Box<Schema>>>,
    additional: Option<&AdditionalProperties>,
) -> Shape {
    let additional = match additional {
        None if listed.is_empty() => return Shape::Any,
        None | Some(AdditionalProperties::Any(false)) => None,
        Some(AdditionalProperties::Any(true)) => Some(Box::new(Shape::Any)),
        Some(AdditionalProperties::Schema(schema)) => Some(Box::new(shape(schema))),
    };
    Shape::Object {
        properties: listed
            .iter()
            .map(|(name, schema)| (name.clone(), boxed(schema)))
            .collect(),
        additional,
    }
}
