//! Text in the contract says what the server reads: no string holds a NUL character
//! (the extractors refuse it, naming the field, since PostgreSQL cannot store it). Every
//! string schema without a pattern of its own gets one that says so.

use utoipa::openapi::schema::{Schema, Type};
use utoipa::openapi::{OpenApi as Document, RefOr};

const NO_NUL: &str = "^[^\\x00]*$";

pub struct NoNul;

impl utoipa::Modify for NoNul {
    fn modify(&self, openapi: &mut Document) {
        if let Some(components) = openapi.components.as_mut() {
            for schema in components.schemas.values_mut() {
                forbid_nul(schema);
            }
        }
        for item in openapi.paths.paths.values_mut() {
            for operation in [
                &mut item.get,
                &mut item.post,
                &mut item.put,
                &mut item.patch,
                &mut item.delete,
            ]
            .into_iter()
            .flatten()
            {
                for parameter in operation.parameters.iter_mut().flatten() {
                    if let RefOr::T(parameter) = parameter
                        && let Some(schema) = parameter.schema.as_mut()
                    {
                        forbid_nul(schema);
                    }
                }
                if let Some(RefOr::T(body)) = operation.request_body.as_mut() {
                    for content in body.content.values_mut() {
                        if let RefOr::T(content) = content
                            && let Some(schema) = content.schema.as_mut()
                        {
                            forbid_nul(schema);
                        }
                    }
                }
            }
        }
    }
}

fn forbid_nul(schema: &mut RefOr<Schema>) {
    let RefOr::T(schema) = schema else {
        return;
    };
    match schema {
        Schema::Object(object) => {
            let is_text = match &object.schema_type {
                utoipa::openapi::schema::SchemaType::Type(Type::String) => true,
                utoipa::openapi::schema::SchemaType::Array(types) => types.contains(&Type::String),
                _ => false,
            };
            if is_text
                && object.pattern.is_none()
                && object.enum_values.is_none()
                && object.format.is_none()
            {
                object.pattern = Some(NO_NUL.to_owned());
            }
            for property in object.properties.values_mut() {
                forbid_nul(property);
            }
        }
        Schema::Array(array) => {
            if let utoipa::openapi::schema::ArrayItems::RefOrSchema(items) = &mut array.items {
                forbid_nul(items);
            }
        }
        Schema::OneOf(one_of) => one_of.items.iter_mut().for_each(forbid_nul),
        Schema::AllOf(all_of) => all_of.items.iter_mut().for_each(forbid_nul),
        Schema::AnyOf(any_of) => any_of.items.iter_mut().for_each(forbid_nul),
        _ => {}
    }
}
