//! The users page, for admins alone (the guard refuses everyone else): every
//! user with their roles; adding one, changing a user's role, resetting a
//! password and removing a user, through [`admin`] as `plugin-host users`
//! does, so the rules are the CLI's (password strength; never the last
//! admin) and each change is in the audit log as `web:NAME`. A user whose
//! password changes or who is removed is logged out everywhere: the guard
//! keeps a session only while its user's password hash is the one it
//! started with.

use std::collections::HashMap;
use std::sync::Arc;

use axum::Extension;
use axum::extract::Path;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use maud::{Markup, html};

use super::form::Form;
use super::guard::Viewer;
use super::layout::{Failure, csrf, frame, message};
use super::{Page, State, blocking};
use crate::cli::users::weakness;
use crate::service::admin;

/// What the page shows besides the users: a note, and a refused add
/// form's values (never its password) with each field's error.
#[derive(Default)]
struct UsersView {
    note: Option<(String, bool)>,
    typed: HashMap<&'static str, String>,
    errors: HashMap<&'static str, String>,
}

pub async fn list(
    axum::extract::State(page): State,
    Extension(viewer): Extension<Viewer>,
) -> Result<Response, Failure> {
    users_page(page, viewer, UsersView::default()).await
}

async fn users_page(page: Arc<Page>, viewer: Viewer, view: UsersView) -> Result<Response, Failure> {
    let host = page.host.clone();
    let (users, roles) = blocking(move || {
        let db = &host.core.db;
        Ok::<_, intellitrack_db::DbError>((db.users()?, db.roles()?))
    })
    .await?
    .map_err(Failure::from_db)?;
    let roles: Vec<String> = roles.into_iter().map(|r| r.name).collect();
    let status = match (&view.note, view.errors.is_empty()) {
        (Some((_, false)), _) | (_, false) => StatusCode::UNPROCESSABLE_ENTITY,
        _ => StatusCode::OK,
    };
    let typed = |field: &str| {
        view.typed
            .get(field)
            .map(String::as_str)
            .unwrap_or_default()
    };
    let body = html! {
        @if let Some((text, ok)) = &view.note { (message(text, *ok)) }
        table id="users" {
            thead { tr { th { "User" } th { "Roles" } th { "State" } th { "Change role" } th { "Reset password" } th {} } }
            tbody {
                @for u in &users {
                    tr id=(format!("user-{}", u.name)) {
                        td { (u.name) @if u.name == viewer.user { " (you)" } }
                        td class="roles" { (u.roles.join(", ")) }
                        td { @if u.active { "active" } @else { "inactive" } }
                        td {
                            form method="post" action=(format!("/users/{}/role", u.name)) {
                                (csrf(&viewer))
                                (role_choice(&format!("role-{}", u.name), &roles, u.roles.first().map(String::as_str).unwrap_or_default()))
                                button type="submit" id=(format!("change-role-{}", u.name)) { "Change role" }
                            }
                        }
                        td {
                            form method="post" action=(format!("/users/{}/password", u.name)) {
                                (csrf(&viewer))
                                input type="password" name="password" id=(format!("password-{}", u.name))
                                    autocomplete="new-password" placeholder="new password";
                                button type="submit" id=(format!("reset-password-{}", u.name)) { "Reset password" }
                            }
                        }
                        td {
                            form method="post" action=(format!("/users/{}/remove", u.name)) {
                                (csrf(&viewer))
                                button type="submit" id=(format!("remove-{}", u.name)) { "Remove" }
                            }
                        }
                    }
                }
            }
        }
        p { "A new password ends every session of its user; so does removing a user. The last admin cannot be removed or given a role without the admin page's edit access." }
        h2 { "Add a user" }
        form method="post" action="/users" id="add-user" {
            (csrf(&viewer))
            div class="field" {
                label for="new-name" { "Name (letters, digits and . _ - @)" }
                input type="text" id="new-name" name="name" value=(typed("name"));
                (field_error(&view, "name"))
            }
            div class="field" {
                label for="new-role" { "Role" }
                (role_choice("new-role", &roles, typed("role")))
                (field_error(&view, "role"))
            }
            div class="field" {
                label for="new-password" { "Password (at least 12 characters, not containing the name)" }
                input type="password" id="new-password" name="password" autocomplete="new-password";
                (field_error(&view, "password"))
            }
            button type="submit" id="add" { "Add user" }
        }
        p { a href="/audit" id="audit-link" { "The audit log" } }
    };
    Ok((status, frame("Users", Some(&viewer), body)).into_response())
}

fn role_choice(id: &str, roles: &[String], chosen: &str) -> Markup {
    html! {
        select name="role" id=(id) {
            @for r in roles { option value=(r) selected[r == chosen] { (r) } }
        }
    }
}

fn field_error(view: &UsersView, field: &str) -> Markup {
    html! {
        @if let Some(e) = view.errors.get(field) {
            strong class="field-error" id=(format!("error-{field}")) { (e) }
        }
    }
}

/// The field of the add form a refusal is about.
fn refused_field(reason: &str) -> &'static str {
    if reason.contains("password") {
        "password"
    } else if reason.contains("role") {
        "role"
    } else {
        "name"
    }
}

pub async fn add(
    axum::extract::State(page): State,
    Extension(viewer): Extension<Viewer>,
    Extension(form): Extension<Form>,
) -> Result<Response, Failure> {
    let name = form.field("name").unwrap_or_default().trim().to_owned();
    let role = form.field("role").unwrap_or_default().to_owned();
    let password = form.field("password").unwrap_or_default().to_owned();
    let mut view = UsersView {
        typed: HashMap::from([("name", name.clone()), ("role", role.clone())]),
        ..UsersView::default()
    };
    for refusal in &form.refused {
        let field = refused_field(&refusal.field);
        view.errors
            .insert(field, format!("{} {}", refusal.field, refusal.reason));
    }
    if name.is_empty() {
        view.errors.insert("name", "a user needs a name".into());
    }
    if let Some(why) = weakness(&name, &password).filter(|_| !view.errors.contains_key("password"))
    {
        view.errors.insert("password", why.into());
    }
    if view.errors.is_empty() {
        let host = page.host.clone();
        let (user, actor) = (name.clone(), viewer.actor());
        let now = page.host.core.clock.now_ms();
        let added =
            blocking(move || admin::add_user(&host.core.db, &user, &role, &password, &actor, now))
                .await?;
        match added {
            Ok(()) => {
                let note = Some((format!("{name} added."), true));
                return users_page(
                    page,
                    viewer,
                    UsersView {
                        note,
                        ..UsersView::default()
                    },
                )
                .await;
            }
            Err(e) => {
                let reason = format!("{e:#}");
                view.errors.insert(refused_field(&reason), reason);
            }
        }
    }
    view.note = Some(("Nobody was added; see the fields below.".into(), false));
    users_page(page, viewer, view).await
}

/// Runs one change of user `name` and shows the page with its outcome.
async fn change_user(
    page: Arc<Page>,
    viewer: Viewer,
    form: &Form,
    done: String,
    change: impl FnOnce(&intellitrack_db::Db, &str, i64) -> anyhow::Result<()> + Send + 'static,
) -> Result<Response, Failure> {
    let note = if form.refused.is_empty() {
        let host = page.host.clone();
        let actor = viewer.actor();
        let now = page.host.core.clock.now_ms();
        match blocking(move || change(&host.core.db, &actor, now)).await? {
            Ok(()) => (done, true),
            Err(e) => (format!("Nothing was changed: {e:#}"), false),
        }
    } else {
        (format!("Nothing was changed: {}", form.refusals()), false)
    };
    users_page(
        page,
        viewer,
        UsersView {
            note: Some(note),
            ..UsersView::default()
        },
    )
    .await
}

pub async fn change_role(
    axum::extract::State(page): State,
    Extension(viewer): Extension<Viewer>,
    Path(name): Path<String>,
    Extension(form): Extension<Form>,
) -> Result<Response, Failure> {
    let role = form.field("role").unwrap_or_default().to_owned();
    let done = format!("{name} now has the role {role}.");
    change_user(page, viewer, &form, done, move |db, actor, now| {
        admin::change_role(db, &name, &role, actor, now)
    })
    .await
}

pub async fn reset_password(
    axum::extract::State(page): State,
    Extension(viewer): Extension<Viewer>,
    Path(name): Path<String>,
    Extension(form): Extension<Form>,
) -> Result<Response, Failure> {
    let password = form.field("password").unwrap_or_default().to_owned();
    let done = format!("{name}'s password is changed; their sessions have ended.");
    change_user(page, viewer, &form, done, move |db, actor, now| {
        admin::change_password(db, &name, &password, actor, now)
    })
    .await
}

pub async fn remove(
    axum::extract::State(page): State,
    Extension(viewer): Extension<Viewer>,
    Path(name): Path<String>,
    Extension(form): Extension<Form>,
) -> Result<Response, Failure> {
    let done = format!("{name} is removed; their sessions have ended.");
    change_user(page, viewer, &form, done, move |db, actor, now| {
        admin::remove_user(db, &name, actor, now)
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refusal_is_shown_beside_the_field_it_is_about() {
        assert_eq!(refused_field("the password is empty"), "password");
        assert_eq!(
            refused_field("unknown role \"x\"; see `plugin-host roles list`"),
            "role"
        );
        assert_eq!(refused_field("user \"ann\" exists already"), "name");
    }
}
