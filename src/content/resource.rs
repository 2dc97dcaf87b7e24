//! One catalogue table as a REST resource: `/api/{table}` and `/api/{table}/{id}`, the
//! same five routes for quizzes and actions, with their SQL.
//!
//! Writes hold the content API's writer lock from the database write until the in-memory
//! catalogue has the change, so the catalogue applies changes in the order the database
//! made them (two updates of one row must not land in memory the other way round). A
//! write changes one row of the catalogue; it never reloads the whole of it.

use axum::extract::State;
use axum::http::StatusCode;
use axum::http::header::LOCATION;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::{Json, Router};
use serde::Serialize;
use sqlx::Any;
use utoipa::ToSchema;

use super::ContentApi;
use super::auth::Admin;
use super::error::ApiError;
use super::extract::{JsonFields, JsonRow, ListParams, RowId};
use crate::backplane::CatalogChange;
use crate::catalog::rows::Content;
use crate::catalog::store;

/// One page of a table, by id.
#[derive(Debug, Serialize, ToSchema)]
pub struct Page<T> {
    pub items: Vec<T>,
    /// Rows that match the filter, on every page together.
    pub total: i64,
    pub limit: i64,
    pub offset: i64,
}

/// The routes of `T`'s table.
pub fn router<T: Content>() -> Router<ContentApi> {
    let base = collection_path::<T>();
    Router::new().route(&base, get(list::<T>).post(create::<T>)).route(
        &format!("{base}/{{id}}"),
        get(read::<T>).put(replace::<T>).delete(remove::<T>),
    )
}

/// `/api/quizzes` or `/api/actions`.
pub fn collection_path<T: Content>() -> String {
    format!("/api/{}", T::TABLE.name())
}

fn not_found<T: Content>(id: i32) -> ApiError {
    ApiError::NotFound { table: T::TABLE, id }
}

/// The stored row `id`, if there is one.
async fn fetch<'c, T: Content>(
    executor: impl sqlx::Executor<'c, Database = Any>,
    id: i32,
) -> Result<Option<T::Stored>, sqlx::Error> {
    let sql = format!("SELECT {} FROM {} WHERE id = $1", T::column_list(), T::TABLE.name());
    sqlx::query_as::<_, T::Stored>(&sql)
        .bind(id)
        .fetch_optional(executor)
        .await
}

/// `GET /api/{table}?difficulty=&limit=&offset=`.
async fn list<T: Content>(
    State(app): State<ContentApi>,
    params: ListParams,
) -> Result<Json<Page<T::Stored>>, ApiError> {
    let pool = app.db.pool();
    let table = T::TABLE.name();
    let filter = if params.difficulty.is_some() {
        "WHERE difficulty = $1"
    } else {
        ""
    };
    let next = if params.difficulty.is_some() { 2 } else { 1 };
    let sql = format!(
        "SELECT {} FROM {table} {filter} ORDER BY id LIMIT ${next} OFFSET ${}",
        T::column_list(),
        next + 1
    );
    let count_sql = format!("SELECT COUNT(*) FROM {table} {filter}");
    let mut items = sqlx::query_as::<_, T::Stored>(&sql);
    let mut total = sqlx::query_scalar::<_, i64>(&count_sql);
    if let Some(difficulty) = params.difficulty {
        items = items.bind(difficulty);
        total = total.bind(difficulty);
    }
    let items = items.bind(params.limit).bind(params.offset).fetch_all(pool).await?;
    Ok(Json(Page {
        items,
        total: total.fetch_one(pool).await?,
        limit: params.limit,
        offset: params.offset,
    }))
}

/// `GET /api/{table}/{id}`.
async fn read<T: Content>(State(app): State<ContentApi>, RowId(id): RowId) -> Result<Json<T::Stored>, ApiError> {
    let row = fetch::<T>(app.db.pool(), id).await?;
    row.map(Json).ok_or_else(|| not_found::<T>(id))
}

/// `POST /api/{table}`: 201 with the stored row; 409 when the given id exists.
async fn create<T: Content>(
    State(app): State<ContentApi>,
    _: Admin,
    JsonRow(row): JsonRow<T>,
) -> Result<impl IntoResponse, ApiError> {
    let content = &app;
    let _writing = content.writer.lock().await;
    let mut tx = content.db.pool().begin().await?;
    let id = match store::insert(&mut tx, &row).await {
        Ok(Some(id)) => id,
        Ok(None) => return Err(ApiError::NoFreeId { table: T::TABLE }),
        Err(err) if is_unique_violation(&err) => {
            return Err(ApiError::IdTaken {
                table: T::TABLE,
                id: row.id().unwrap_or_default(),
            });
        }
        Err(err) => return Err(err.into()),
    };
    store::resync_ids::<T>(&mut tx, content.db.backend()).await?;
    let stored = fetch::<T>(&mut *tx, id).await?.ok_or_else(|| not_found::<T>(id))?;
    tx.commit().await?;
    let to = Some(row.difficulty());
    changed::<T>(&app, id, None, to).await;
    let location = format!("{}/{id}", collection_path::<T>());
    Ok((StatusCode::CREATED, [(LOCATION, location)], Json(stored)))
}

/// Applies a write to this node's catalogue at once and tells the other nodes.
async fn changed<T: Content>(app: &ContentApi, id: i32, from: Option<i32>, to: Option<i32>) {
    app.catalog.apply(T::TABLE, id, from, to);
    let change = CatalogChange {
        table: T::TABLE,
        id,
        from,
        to,
    };
    app.backplane.catalog_changed(change).await;
}

fn is_unique_violation(err: &sqlx::Error) -> bool {
    err.as_database_error().is_some_and(|db| db.is_unique_violation())
}

/// `PUT /api/{table}/{id}`: replaces every field but the id of an existing row (404
/// otherwise: a PUT never creates, so a mistyped id cannot add a row).
async fn replace<T: Content>(
    State(app): State<ContentApi>,
    _: Admin,
    RowId(id): RowId,
    JsonFields(row): JsonFields<T>,
) -> Result<Json<T::Stored>, ApiError> {
    let content = &app;
    let table = T::TABLE.name();
    let _writing = content.writer.lock().await;
    let mut tx = content.db.pool().begin().await?;
    let before: Option<Option<i32>> = sqlx::query_scalar(&format!("SELECT difficulty FROM {table} WHERE id = $1"))
        .bind(id)
        .fetch_optional(&mut *tx)
        .await?;
    let Some(before) = before else {
        return Err(not_found::<T>(id));
    };
    let fields = &T::COLUMNS[1..];
    let sets: Vec<String> = fields
        .iter()
        .enumerate()
        .map(|(i, column)| format!("{} = ${}", column.name, i + 1))
        .collect();
    let sql = format!(
        "UPDATE {table} SET {} WHERE id = ${}",
        sets.join(", "),
        fields.len() + 1
    );
    row.bind_fields(sqlx::query(&sql)).bind(id).execute(&mut *tx).await?;
    let stored = fetch::<T>(&mut *tx, id).await?.ok_or_else(|| not_found::<T>(id))?;
    tx.commit().await?;
    let to = Some(row.difficulty());
    changed::<T>(&app, id, before, to).await;
    Ok(Json(stored))
}

/// `DELETE /api/{table}/{id}`: 204; the row is never drawn again.
async fn remove<T: Content>(State(app): State<ContentApi>, _: Admin, RowId(id): RowId) -> Result<StatusCode, ApiError> {
    let content = &app;
    let _writing = content.writer.lock().await;
    let sql = format!("DELETE FROM {} WHERE id = $1 RETURNING difficulty", T::TABLE.name());
    let before: Option<Option<i32>> = sqlx::query_scalar(&sql)
        .bind(id)
        .fetch_optional(content.db.pool())
        .await?;
    let Some(before) = before else {
        return Err(not_found::<T>(id));
    };
    changed::<T>(&app, id, before, None).await;
    Ok(StatusCode::NO_CONTENT)
}
