//! The content API's refusals: every error status with its JSON body and field errors,
//! the admin token, and the OpenAPI document that declares them, on both backends.

use pairlink::db::Backend;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::content_client::*;
use crate::helpers::*;
use crate::on_both_backends;

on_both_backends!(
    bad_query_parameters_and_ids_are_400_with_fields,
    invalid_bodies_get_field_errors,
    writes_need_the_admin_token,
    writes_are_refused_when_no_token_is_configured,
    a_new_row_cannot_be_numbered_past_the_largest_id,
);

async fn bad_query_parameters_and_ids_are_400_with_fields(backend: Backend) {
    let app = spawn_with_token(backend, tagged_catalog([1], 1)).await;
    let api = Api::new(&app);
    let reply = api
        .get("/api/quizzes?limit=0&offset=-1&difficulty=hard&colour=red")
        .await;
    assert_error(
        &reply,
        StatusCode::BAD_REQUEST,
        "invalid_query",
        "invalid query parameters",
    );
    let fields = &reply.1["fields"];
    assert_eq!(fields["limit"], "must be an integer from 1 to 500, got '0'");
    assert!(fields["offset"].as_str().unwrap().contains("got '-1'"), "{fields}");
    assert!(
        fields["difficulty"].as_str().unwrap().contains("got 'hard'"),
        "{fields}"
    );
    assert!(
        fields["colour"].as_str().unwrap().contains("not a query parameter"),
        "{fields}"
    );
    let reply = api.get("/api/actions?limit=501").await;
    assert_error(&reply, StatusCode::BAD_REQUEST, "invalid_query", "");
    assert!(reply.1["fields"]["limit"].as_str().unwrap().contains("1 to 500"));

    for bad in ["abc", "0", "-3", "2147483648", "1.5", "NaN", "inf"] {
        let reply = api.get(&format!("/api/quizzes/{bad}")).await;
        assert_error(&reply, StatusCode::BAD_REQUEST, "invalid_id", "ids are integers from 1");
        let reply = api.write(Method::DELETE, &format!("/api/actions/{bad}"), None).await;
        assert_error(&reply, StatusCode::BAD_REQUEST, "invalid_id", "is not an id");
    }
}

async fn invalid_bodies_get_field_errors(backend: Backend) {
    let app = spawn_with_token(backend, tagged_catalog([1], 1)).await;
    let api = Api::new(&app);
    let long = "x".repeat(256);
    let body = json!({"id": 0, "difficulty": -2, "lef_sel": "  ", "rig_sel": long, "detail": 3, "colour": "red"});
    let reply = api.write(Method::POST, "/api/quizzes", Some(body)).await;
    assert_error(
        &reply,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
        "see fields",
    );
    assert_eq!(
        reply.1["fields"],
        json!({
            "colour": "is not a field of a quiz",
            "id": "must be 1 or more, got 0",
            "name": "is required",
            "difficulty": "must be 0 or more, got -2",
            "lef_sel": "must not be empty",
            "rig_sel": "is 256 characters long; at most 255 fit",
            "detail": "must be a string, got 3",
        })
    );
    let reply = api
        .write(Method::PUT, "/api/actions/1", Some(json!({"difficulty": "1"})))
        .await;
    assert_eq!(
        reply.1["fields"],
        json!({"difficulty": "must be an integer, got \"1\"", "lef_sel": "is required", "rig_sel": "is required"})
    );
    let reply = api.write(Method::POST, "/api/actions", Some(json!([1, 2]))).await;
    assert_error(
        &reply,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
        "expected a JSON object (an action)",
    );

    let client = reqwest::Client::new();
    let url = format!("http://{}/api/quizzes", app.addr);
    let send = |content_type: &'static str, body: &'static str| {
        client
            .post(&url)
            .bearer_auth(TOKEN)
            .header("content-type", content_type)
            .body(body)
            .send()
    };
    let response = send("application/json", r#"{"name": "#).await.unwrap();
    let reply = (response.status(), response.json::<Value>().await.unwrap());
    assert_error(&reply, StatusCode::BAD_REQUEST, "malformed_json", "not valid JSON");
    let response = send("text/plain", r#"{"name":"a"}"#).await.unwrap();
    let reply = (response.status(), response.json::<Value>().await.unwrap());
    assert_error(
        &reply,
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "unsupported_media_type",
        "application/json",
    );
    let response = send(
        "application/json; charset=utf-8",
        r#"{"name":"a","difficulty":1,"lef_sel":"l","rig_sel":"r"}"#,
    )
    .await
    .unwrap();
    assert_eq!(response.status(), StatusCode::CREATED, "a charset parameter is fine");
    let response = client
        .post(&url)
        .bearer_auth(TOKEN)
        .header("content-type", "application/json")
        .body(vec![b' '; 3 * 1024 * 1024])
        .send()
        .await
        .unwrap();
    let reply = (response.status(), response.json::<Value>().await.unwrap());
    assert_error(&reply, StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large", "larger");
}

async fn writes_need_the_admin_token(backend: Backend) {
    let app = spawn_with_token(backend, tagged_catalog([1], 1)).await;
    let api = Api::new(&app);
    for (method, path, body) in [
        (Method::POST, "/api/quizzes", Some(quiz("x", 1))),
        (Method::PUT, "/api/quizzes/11", Some(quiz("x", 1))),
        (Method::DELETE, "/api/quizzes/11", None),
        (Method::POST, "/api/actions", Some(action(1))),
        (Method::PUT, "/api/actions/1", Some(action(1))),
        (Method::DELETE, "/api/actions/1", None),
    ] {
        for token in [None, Some("wrong"), Some("test-admin-toke"), Some("test-admin-token-")] {
            let reply = api.call(method.clone(), path, token, body.clone()).await;
            assert_error(
                &reply,
                StatusCode::UNAUTHORIZED,
                "unauthorized",
                "Authorization: Bearer",
            );
        }
        // Refused before the body is read: a bad body without the token is still a 401.
        let reply = api.call(method.clone(), path, None, Some(json!({"bad": true}))).await;
        assert_eq!(reply.0, StatusCode::UNAUTHORIZED, "{method} {path}");
    }
    let response = reqwest::Client::new()
        .delete(format!("http://{}/api/quizzes/11", app.addr))
        .send()
        .await
        .unwrap();
    assert_eq!(response.headers()["www-authenticate"], "Bearer realm=\"pairlink\"");
    let response = reqwest::Client::new()
        .delete(format!("http://{}/api/quizzes/11", app.addr))
        .header("authorization", format!("bearer {TOKEN}"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        response.status(),
        StatusCode::NO_CONTENT,
        "the scheme is case-insensitive"
    );
    assert_eq!(api.get("/api/actions/1").await.0, StatusCode::OK, "reads need no token");
}

async fn writes_are_refused_when_no_token_is_configured(backend: Backend) {
    let app = spawn(Setup::new(backend).catalog(tagged_catalog([1], 1))).await;
    let api = Api::new(&app);
    for (method, path) in [
        (Method::POST, "/api/quizzes"),
        (Method::PUT, "/api/actions/1"),
        (Method::DELETE, "/api/quizzes/11"),
    ] {
        let reply = api.call(method, path, Some(TOKEN), Some(quiz("x", 1))).await;
        assert_error(
            &reply,
            StatusCode::FORBIDDEN,
            "writes_disabled",
            "--admin-token or PAIRLINK_ADMIN_TOKEN",
        );
    }
    assert_eq!(api.get("/api/quizzes/11").await.0, StatusCode::OK);
}

async fn a_new_row_cannot_be_numbered_past_the_largest_id(backend: Backend) {
    let app = spawn_with_token(backend, tagged_catalog([1], 1)).await;
    let api = Api::new(&app);
    let mut last = action(1);
    last["id"] = json!(i32::MAX);
    assert_eq!(
        api.write(Method::POST, "/api/actions", Some(last)).await.0,
        StatusCode::CREATED
    );
    let reply = api.write(Method::POST, "/api/actions", Some(action(1))).await;
    assert_error(&reply, StatusCode::CONFLICT, "no_free_id", "2147483647, is taken");
    assert_eq!(api.get("/api/actions").await.1["total"], 2, "nothing was added");
}

/// The document is generated from the code and lists every route with its errors.
#[tokio::test]
async fn the_openapi_document_describes_every_route() {
    let app = spawn_default(Backend::Sqlite).await;
    let (status, document) = Api::new(&app).get("/api/openapi.json").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(document["openapi"], "3.1.0");
    let paths = document["paths"].as_object().unwrap();
    let mut routes: Vec<String> = paths
        .iter()
        .flat_map(|(path, item)| {
            item.as_object()
                .unwrap()
                .keys()
                .map(move |method| format!("{method} {path}"))
        })
        .collect();
    routes.sort();
    assert_eq!(
        routes,
        [
            "delete /api/actions/{id}",
            "delete /api/quizzes/{id}",
            "get /api/actions",
            "get /api/actions/{id}",
            "get /api/quizzes",
            "get /api/quizzes/{id}",
            "post /api/actions",
            "post /api/quizzes",
            "put /api/actions/{id}",
            "put /api/quizzes/{id}",
        ]
    );
    let post = &paths["/api/quizzes"]["post"];
    for status in ["201", "400", "401", "403", "409", "413", "415", "422"] {
        assert!(post["responses"].get(status).is_some(), "POST lacks {status}");
    }
    assert_eq!(post["security"], json!([{"admin_token": []}]));
    assert_eq!(
        document["components"]["securitySchemes"]["admin_token"]["scheme"],
        "bearer"
    );
    let put_body = &paths["/api/quizzes/{id}"]["put"]["requestBody"]["content"]["application/json"]["schema"];
    assert!(put_body["properties"].get("id").is_none(), "{put_body}");
    assert_eq!(
        document["components"]["schemas"]["QuizRow"]["properties"]["name"]["maxLength"],
        255
    );
}
