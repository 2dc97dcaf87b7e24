//! A small client of the content API for the tests, and the rows and draws they use.

use pairlink::db::Backend;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::*;

pub const TOKEN: &str = "test-admin-token";
const UUID: &str = "0b6a1b7e-4c1e-4f0e-8f61-3c1a2b3c4d5e";

/// A client of one server's content API.
pub struct Api {
    base: String,
    client: reqwest::Client,
}

impl Api {
    pub fn new(app: &TestApp) -> Self {
        Self {
            base: format!("http://{}", app.addr),
            client: reqwest::Client::new(),
        }
    }

    /// Sends a request with the admin token (when given) and returns the status and JSON
    /// body (`null` when empty), checking that any body is JSON.
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut request = self.client.request(method, format!("{}{path}", self.base));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.expect("the server answers");
        let status = response.status();
        let text = response.text().await.unwrap();
        let body = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or_else(|_| panic!("{status}: not JSON: {text}"))
        };
        (status, body)
    }

    pub async fn get(&self, path: &str) -> (StatusCode, Value) {
        self.call(Method::GET, path, None, None).await
    }

    pub async fn write(&self, method: Method, path: &str, body: Option<Value>) -> (StatusCode, Value) {
        self.call(method, path, Some(TOKEN), body).await
    }
}

/// A server with the admin token and `catalog` imported.
pub async fn spawn_with_token(backend: Backend, catalog: String) -> TestApp {
    spawn(
        Setup::new(backend)
            .catalog(catalog)
            .config(|config| config.admin_token = Some(TOKEN.parse().unwrap())),
    )
    .await
}

/// Asserts an error body: its status, code, and that `message` contains `needle`.
pub fn assert_error(reply: &(StatusCode, Value), status: StatusCode, code: &str, needle: &str) {
    let (got, body) = reply;
    assert_eq!(*got, status, "{body}");
    assert_eq!(body["status"], "error", "{body}");
    assert_eq!(body["code"], code, "{body}");
    assert!(body["message"].as_str().unwrap().contains(needle), "{body}");
}

pub fn quiz(name: &str, difficulty: i32) -> Value {
    json!({"name": name, "difficulty": difficulty, "lef_sel": "left", "rig_sel": "right"})
}

pub fn action(difficulty: i32) -> Value {
    json!({"difficulty": difficulty, "lef_sel": "left", "rig_sel": "right"})
}

/// What a controller's `{"difficulty":d}` brings: the display's draw, or the
/// controller's error code.
pub async fn draw(app: &TestApp, difficulty: i32) -> Result<Value, String> {
    let mut display = app.display(UUID).await;
    let mut controller = app.controller(UUID).await;
    send_text(&mut controller, &format!(r#"{{"difficulty":{difficulty}}}"#)).await;
    let reply = next_json(&mut controller).await;
    if reply["status"] == "received" {
        Ok(next_json(&mut display).await)
    } else {
        Err(reply["code"].as_str().unwrap().to_owned())
    }
}

pub fn ids(items: &Value) -> Vec<i64> {
    items
        .as_array()
        .unwrap()
        .iter()
        .map(|row| row["id"].as_i64().unwrap())
        .collect()
}
