//! The OpenAPI 3.1 document served at `/api/openapi.json`, generated from the code: the
//! schemas are derived from the row types (whose rules they state), and the operations
//! are built by the same generic function for both tables, just as the routes are.
//! `scripts/schemathesis.sh` checks the running server against it.

use std::sync::LazyLock;

use utoipa::openapi::path::{HttpMethod, OperationBuilder, ParameterBuilder, ParameterIn};
use utoipa::openapi::request_body::RequestBodyBuilder;
use utoipa::openapi::schema::{ObjectBuilder, Type};
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityRequirement, SecurityScheme};
use utoipa::openapi::{
    ComponentsBuilder, ContentBuilder, Header, InfoBuilder, OpenApi, OpenApiBuilder, Paths, Ref, RefOr, Required,
    ResponseBuilder, Schema,
};
use utoipa::{PartialSchema, ToSchema};

use super::error::{ApiErrorCode, ErrorBody};
use super::extract::{DEFAULT_LIMIT, MAX_LIMIT, MAX_OFFSET};
use super::resource::{Page, collection_path};
use crate::catalog::rows::{ActionRow, Content, QuizRow};

/// The document, serialised once.
pub static DOCUMENT: LazyLock<String> =
    LazyLock::new(|| serde_json::to_string_pretty(&document()).expect("the OpenAPI document serialises"));

const SECURITY: &str = "admin_token";

pub fn document() -> OpenApi {
    let mut paths = Paths::new();
    add_table::<QuizRow>(&mut paths);
    add_table::<ActionRow>(&mut paths);
    let components = ComponentsBuilder::new()
        .schema_from::<QuizRow>()
        .schema_from::<ActionRow>()
        .schema_from::<<QuizRow as Content>::Stored>()
        .schema_from::<<ActionRow as Content>::Stored>()
        .schema_from::<ErrorBody>()
        .schema_from::<ApiErrorCode>()
        .security_scheme(SECURITY, SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)))
        .build();
    OpenApiBuilder::new()
        .info(
            InfoBuilder::new()
                .title("pairlink content API")
                .version(env!("CARGO_PKG_VERSION"))
                .description(Some(
                    "The quiz and action catalogue. Reads are open; writes need \
                     `Authorization: Bearer <admin token>`. See docs/content-api.md.",
                ))
                .build(),
        )
        .paths(paths)
        .components(Some(components))
        .build()
}

/// The five operations of `T`'s table.
fn add_table<T: Content>(paths: &mut Paths) {
    let table = T::TABLE.name();
    let noun = T::TABLE.noun();
    let collection = collection_path::<T>();
    let item = format!("{collection}/{{id}}");
    let row = || Ref::from_schema_name(T::name());
    let stored = || Ref::from_schema_name(T::Stored::name());

    let list = operation(&format!("list_{table}"), table, &format!("A page of {table}, by id"))
        .parameters(Some([
            query("difficulty", "Only rows of this difficulty", 0, i64::from(i32::MAX)),
            query(
                "limit",
                &format!("Rows per page (default {DEFAULT_LIMIT})"),
                1,
                MAX_LIMIT,
            ),
            query("offset", "Rows to skip", 0, MAX_OFFSET),
        ]))
        .response("200", json_response("The page", Page::<T::Stored>::schema()))
        .response("400", error("A query parameter is invalid (`invalid_query`)"));
    let create = write(operation(
        &format!("create_{noun}"),
        table,
        &format!("Add {}", T::TABLE.with_article()),
    ));
    let create = with_body(
        create,
        row(),
        "A field breaks a rule (`validation_failed`, see `fields`)",
    )
    .response(
        "201",
        json_response("Created; `Location` is its URL", stored())
            .header("Location", Header::new(ObjectBuilder::new().schema_type(Type::String))),
    )
    .response("400", error("The body is not JSON (`malformed_json`)"))
    .response(
        "409",
        error("A row with the given id exists (`id_taken`, `no_free_id`)"),
    );
    let read = operation(&format!("get_{noun}"), table, &format!("One {noun}"))
        .parameter(id_parameter())
        .response("200", json_response(&format!("The {noun}"), stored()))
        .response("400", error("The id is not an integer from 1 up (`invalid_id`)"))
        .response("404", error(&format!("No {noun} has this id (`not_found`)")));
    let replace = write(operation(
        &format!("replace_{noun}"),
        table,
        &format!("Replace every field of a {noun}"),
    ))
    .parameter(id_parameter());
    let replace = with_body(
        replace,
        without_id(T::schema()),
        "A field breaks a rule, or the body has an `id` (`validation_failed`)",
    )
    .response("200", json_response(&format!("The {noun} as stored now"), stored()))
    .response(
        "400",
        error("The id or the body is not valid (`invalid_id`, `malformed_json`)"),
    )
    .response("404", error(&format!("No {noun} has this id (`not_found`)")));
    let delete = write(operation(&format!("delete_{noun}"), table, &format!("Delete a {noun}")))
        .parameter(id_parameter())
        .response("204", ResponseBuilder::new().description("Deleted").build())
        .response("400", error("The id is not an integer from 1 up (`invalid_id`)"))
        .response("404", error(&format!("No {noun} has this id (`not_found`)")));

    paths.add_path_operation(&collection, vec![HttpMethod::Get], list.build());
    paths.add_path_operation(&collection, vec![HttpMethod::Post], create.build());
    paths.add_path_operation(&item, vec![HttpMethod::Get], read.build());
    paths.add_path_operation(&item, vec![HttpMethod::Put], replace.build());
    paths.add_path_operation(&item, vec![HttpMethod::Delete], delete.build());
}

fn operation(id: &str, tag: &str, summary: &str) -> OperationBuilder {
    OperationBuilder::new()
        .operation_id(Some(id))
        .tag(tag)
        .summary(Some(summary))
}

/// Marks a write: it needs the admin token, and says what happens without it.
fn write(operation: OperationBuilder) -> OperationBuilder {
    operation
        .security(SecurityRequirement::new(SECURITY, Vec::<String>::new()))
        .response("401", error("The admin token is missing or wrong (`unauthorized`)"))
        .response(
            "403",
            error("The server has no admin token, so writes are disabled (`writes_disabled`)"),
        )
}

fn json_response(description: &str, schema: impl Into<RefOr<Schema>>) -> ResponseBuilder {
    ResponseBuilder::new()
        .description(description)
        .content("application/json", ContentBuilder::new().schema(Some(schema)).build())
}

fn error(description: &str) -> utoipa::openapi::Response {
    json_response(description, Ref::from_schema_name(ErrorBody::name())).build()
}

/// Adds a JSON request body and the answers to a body the server cannot take.
fn with_body(operation: OperationBuilder, schema: impl Into<RefOr<Schema>>, invalid: &str) -> OperationBuilder {
    let body = RequestBodyBuilder::new()
        .required(Some(Required::True))
        .content("application/json", ContentBuilder::new().schema(Some(schema)).build())
        .build();
    operation
        .request_body(Some(body))
        .response("413", error("The body is too large (`payload_too_large`)"))
        .response(
            "415",
            error("The body is not `application/json` (`unsupported_media_type`)"),
        )
        .response("422", error(invalid))
}

/// A row's schema without `id`: a PUT's body, whose row the URL names.
fn without_id(schema: RefOr<Schema>) -> RefOr<Schema> {
    match schema {
        RefOr::T(Schema::Object(mut object)) => {
            object.properties.remove("id");
            object.required.retain(|field| field != "id");
            RefOr::T(Schema::Object(object))
        }
        other => other,
    }
}

fn integer(min: i64, max: i64) -> ObjectBuilder {
    let (min, max) = (min as isize, max as isize);
    ObjectBuilder::new()
        .schema_type(Type::Integer)
        .minimum(Some(min))
        .maximum(Some(max))
}

fn query(name: &str, description: &str, min: i64, max: i64) -> utoipa::openapi::path::Parameter {
    ParameterBuilder::new()
        .name(name)
        .parameter_in(ParameterIn::Query)
        .required(Required::False)
        .description(Some(description))
        .schema(Some(integer(min, max)))
        .build()
}

fn id_parameter() -> utoipa::openapi::path::Parameter {
    ParameterBuilder::new()
        .name("id")
        .parameter_in(ParameterIn::Path)
        .required(Required::True)
        .schema(Some(integer(1, i64::from(i32::MAX))))
        .build()
}
