//! The content API as a content tool and a Unity client meet it: every route, and
//! writes reaching the very next draw, on both backends.

use pairlink::db::Backend;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::content_client::*;
use crate::helpers::*;
use crate::on_both_backends;

on_both_backends!(
    lists_page_by_id_and_filter_by_difficulty,
    reads_one_row_or_answers_404,
    post_creates_with_the_next_id_or_the_given_one,
    a_created_quiz_is_drawn_by_the_next_difficulty_message,
    a_deleted_quiz_is_never_drawn,
    put_replaces_a_row_and_moves_it_between_difficulties,
    rows_the_seed_left_null_read_as_null_and_can_be_fixed,
    concurrent_writes_reach_the_catalogue_in_database_order,
);

async fn lists_page_by_id_and_filter_by_difficulty(backend: Backend) {
    // Difficulty d has quizzes 10d+1 ..= 10d+3 and action d.
    let app = spawn_with_token(backend, tagged_catalog([2, 1, 3], 3)).await;
    let api = Api::new(&app);

    let (status, page) = api.get("/api/quizzes").await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert_eq!(ids(&page["items"]), [11, 12, 13, 21, 22, 23, 31, 32, 33]);
    assert_eq!(
        (page["total"].as_i64(), page["limit"].as_i64(), page["offset"].as_i64()),
        (Some(9), Some(50), Some(0))
    );
    assert_eq!(
        page["items"][0],
        json!({"id": 11, "name": "quiz 1.1", "difficulty": 1, "lef_sel": "left", "rig_sel": "right", "detail": ""})
    );

    let (_, page) = api.get("/api/quizzes?limit=2&offset=3").await;
    assert_eq!(ids(&page["items"]), [21, 22]);
    assert_eq!(page["total"], 9);
    let (_, page) = api.get("/api/quizzes?difficulty=3&limit=2&offset=1").await;
    assert_eq!(ids(&page["items"]), [32, 33]);
    assert_eq!(page["total"], 3);
    let (_, page) = api.get("/api/quizzes?difficulty=4").await;
    assert_eq!((ids(&page["items"]), page["total"].as_i64()), (vec![], Some(0)));
    let (_, page) = api.get("/api/quizzes?offset=100").await;
    assert_eq!((ids(&page["items"]), page["total"].as_i64()), (vec![], Some(9)));

    let (status, page) = api.get("/api/actions?limit=500").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(ids(&page["items"]), [1, 2, 3]);
    assert!(page["items"][0].get("name").is_none(), "{page}");
}

async fn reads_one_row_or_answers_404(backend: Backend) {
    let app = spawn_with_token(backend, tagged_catalog([1], 1)).await;
    let api = Api::new(&app);
    let (status, row) = api.get("/api/quizzes/11").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(row["name"], "quiz 1.1");
    let (status, row) = api.get("/api/actions/1").await;
    assert_eq!((status, row["difficulty"].as_i64()), (StatusCode::OK, Some(1)));
    assert_error(
        &api.get("/api/quizzes/12").await,
        StatusCode::NOT_FOUND,
        "not_found",
        "no quiz with id 12",
    );
    assert_error(
        &api.get("/api/actions/2").await,
        StatusCode::NOT_FOUND,
        "not_found",
        "no action with id 2",
    );
}

async fn post_creates_with_the_next_id_or_the_given_one(backend: Backend) {
    let app = spawn_with_token(backend, tagged_catalog([1], 2)).await;
    let api = Api::new(&app);

    let (status, created) = api.write(Method::POST, "/api/quizzes", Some(quiz("New", 4))).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    assert_eq!(
        created,
        json!({"id": 13, "name": "New", "difficulty": 4, "lef_sel": "left", "rig_sel": "right", "detail": ""})
    );
    assert_eq!(api.get("/api/quizzes/13").await.1, created);

    let mut with_id = quiz("Forty", 4);
    with_id["id"] = json!(40);
    with_id["detail"] = json!("why");
    let response = reqwest::Client::new()
        .post(format!("http://{}/api/quizzes", app.addr))
        .bearer_auth(TOKEN)
        .json(&with_id)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
    assert_eq!(response.headers()["location"], "/api/quizzes/40");
    assert_eq!(response.json::<Value>().await.unwrap()["detail"], "why");
    let (_, next) = api.write(Method::POST, "/api/quizzes", Some(quiz("After", 4))).await;
    assert_eq!(next["id"], 41, "the next id is above the largest");

    let reply = api.write(Method::POST, "/api/quizzes", Some(with_id)).await;
    assert_error(&reply, StatusCode::CONFLICT, "id_taken", "quiz 40 exists already");
    let mut taken = action(1);
    taken["id"] = json!(1);
    let reply = api.write(Method::POST, "/api/actions", Some(taken)).await;
    assert_error(&reply, StatusCode::CONFLICT, "id_taken", "an action 1 exists already");
    let (status, created) = api.write(Method::POST, "/api/actions", Some(action(4))).await;
    assert_eq!((status, created["id"].as_i64()), (StatusCode::CREATED, Some(2)));
}

async fn a_created_quiz_is_drawn_by_the_next_difficulty_message(backend: Backend) {
    let app = spawn_with_token(backend, tagged_catalog([1], 3)).await;
    let api = Api::new(&app);
    assert_eq!(draw(&app, 7).await, Err("no_content".to_owned()));

    let (_, quiz) = api.write(Method::POST, "/api/quizzes", Some(quiz("Fresh", 7))).await;
    assert_eq!(draw(&app, 7).await, Err("no_content".to_owned()), "no action at 7 yet");
    let (_, action) = api.write(Method::POST, "/api/actions", Some(action(7))).await;

    let drawn = draw(&app, 7).await.unwrap();
    assert_eq!(drawn, json!({"quiz_id": [quiz["id"]], "action_id": action["id"]}));
}

async fn a_deleted_quiz_is_never_drawn(backend: Backend) {
    let app = spawn_with_token(backend, tagged_catalog([2], 4)).await;
    let api = Api::new(&app);
    let (status, body) = api.write(Method::DELETE, "/api/quizzes/22", None).await;
    assert_eq!((status, body), (StatusCode::NO_CONTENT, Value::Null));
    assert_error(
        &api.get("/api/quizzes/22").await,
        StatusCode::NOT_FOUND,
        "not_found",
        "",
    );
    assert_error(
        &api.write(Method::DELETE, "/api/quizzes/22", None).await,
        StatusCode::NOT_FOUND,
        "not_found",
        "no quiz with id 22",
    );
    // Three quizzes are left, and each draw takes three: every draw is exactly them.
    for _ in 0..5 {
        let mut drawn: Vec<i64> = draw(&app, 2).await.unwrap()["quiz_id"]
            .as_array()
            .unwrap()
            .iter()
            .map(|id| id.as_i64().unwrap())
            .collect();
        drawn.sort();
        assert_eq!(drawn, [21, 23, 24]);
    }
    let (status, _) = api.write(Method::DELETE, "/api/actions/2", None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(
        draw(&app, 2).await,
        Err("no_content".to_owned()),
        "the only action is gone"
    );
}

async fn put_replaces_a_row_and_moves_it_between_difficulties(backend: Backend) {
    let app = spawn_with_token(backend, tagged_catalog([1, 3], 1)).await;
    let api = Api::new(&app);
    let mut changed = quiz("Moved", 3);
    changed["detail"] = json!("now at 3");
    let (status, row) = api.write(Method::PUT, "/api/quizzes/11", Some(changed.clone())).await;
    assert_eq!(status, StatusCode::OK, "{row}");
    assert_eq!(
        row,
        json!({"id": 11, "name": "Moved", "difficulty": 3, "lef_sel": "left", "rig_sel": "right", "detail": "now at 3"})
    );
    assert_eq!(api.get("/api/quizzes/11").await.1, row);
    assert_eq!(
        draw(&app, 1).await,
        Err("no_content".to_owned()),
        "1 lost its only quiz"
    );
    let mut drawn = draw(&app, 3).await.unwrap()["quiz_id"].as_array().unwrap().clone();
    drawn.sort_by_key(|id| id.as_i64());
    assert_eq!(drawn, [json!(11), json!(31)]);

    let (status, row) = api.write(Method::PUT, "/api/actions/3", Some(action(1))).await;
    assert_eq!((status, row["difficulty"].as_i64()), (StatusCode::OK, Some(1)));
    assert_error(
        &api.write(Method::PUT, "/api/quizzes/99", Some(changed.clone())).await,
        StatusCode::NOT_FOUND,
        "not_found",
        "no quiz with id 99",
    );
    changed["id"] = json!(11);
    let reply = api.write(Method::PUT, "/api/quizzes/11", Some(changed)).await;
    assert_error(&reply, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed", "");
    assert_eq!(reply.1["fields"]["id"], "is not a field here: the URL names the row");
}

async fn rows_the_seed_left_null_read_as_null_and_can_be_fixed(backend: Backend) {
    let app = spawn_with_token(backend, tagged_catalog([1], 1)).await;
    let db = app.database.connect().await;
    sqlx::query("INSERT INTO quizzes (id, name) VALUES (50, 'half')")
        .execute(db.pool())
        .await
        .unwrap();
    let api = Api::new(&app);
    let (status, row) = api.get("/api/quizzes/50").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        row,
        json!({"id": 50, "name": "half", "difficulty": null, "lef_sel": null, "rig_sel": null, "detail": null})
    );
    let (status, _) = api.write(Method::PUT, "/api/quizzes/50", Some(quiz("whole", 1))).await;
    assert_eq!(status, StatusCode::OK);
    let mut drawn = draw(&app, 1).await.unwrap()["quiz_id"].as_array().unwrap().clone();
    drawn.sort_by_key(|id| id.as_i64());
    assert_eq!(
        drawn,
        [json!(11), json!(50)],
        "a row without difficulty became drawable"
    );
}

/// Many writers move one quiz between difficulties at once. The in-memory catalogue
/// must end where the database did: drawable at the stored difficulty only.
async fn concurrent_writes_reach_the_catalogue_in_database_order(backend: Backend) {
    // Difficulties 1–4 each have an action; quiz 11 is the only quiz.
    let app = spawn_with_token(backend, tagged_catalog([1, 2, 3, 4], 0)).await;
    let api = Api::new(&app);
    let (_, created) = api.write(Method::POST, "/api/quizzes", Some(quiz("Mover", 1))).await;
    let id = created["id"].as_i64().unwrap();
    let path = format!("/api/quizzes/{id}");
    let writes = (0..40).map(|i| {
        let api = &api;
        let path = &path;
        async move { api.write(Method::PUT, path, Some(quiz("Mover", 1 + i % 4))).await.0 }
    });
    for status in futures_util::future::join_all(writes).await {
        assert_eq!(status, StatusCode::OK);
    }
    let stored = api.get(&path).await.1["difficulty"].as_i64().unwrap() as i32;
    for difficulty in 1..=4 {
        let outcome = draw(&app, difficulty).await;
        if difficulty == stored {
            assert_eq!(outcome.unwrap()["quiz_id"], json!([id]));
        } else {
            assert_eq!(outcome, Err("no_content".to_owned()), "difficulty {difficulty}");
        }
    }
}
