//! The audit log page, for admins alone (the guard refuses everyone else):
//! who changed what, newest first, filtered by user, action and a range of
//! dates (UTC, as the times are shown), a page of [`PAGE`] lines at a time.

use axum::Extension;
use axum::extract::Query;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use intellitrack_db::AuditFilter;
use maud::html;

use super::guard::Viewer;
use super::layout::{Failure, frame, message};
use super::{State, blocking};
use crate::cli::format_time;

/// How many lines a page of the log shows.
const PAGE: u32 = 50;

/// The filters and page as the page's GET form sends them.
#[derive(Clone, Debug, Default, serde::Deserialize, serde::Serialize)]
pub struct Wanted {
    #[serde(default)]
    user: String,
    #[serde(default)]
    action: String,
    /// The first date shown, `YYYY-MM-DD`.
    #[serde(default)]
    from: String,
    /// The last date shown, `YYYY-MM-DD`.
    #[serde(default)]
    to: String,
    #[serde(default)]
    page: u32,
}

/// The database filter `wanted` asks for, or why a date is refused.
fn filter(wanted: &Wanted) -> Result<AuditFilter, String> {
    let day_start = |raw: &str, field: &str, days: i64| -> Result<Option<i64>, String> {
        let raw = raw.trim();
        if raw.is_empty() {
            return Ok(None);
        }
        let date: jiff::civil::Date = raw
            .parse()
            .map_err(|_| format!("{field} {raw:?} is not a date (YYYY-MM-DD)"))?;
        let start = date
            .checked_add(jiff::Span::new().days(days))
            .and_then(|d| {
                jiff::tz::TimeZone::UTC
                    .to_ambiguous_timestamp(d.to_datetime(jiff::civil::Time::midnight()))
                    .compatible()
            })
            .map_err(|_| format!("{field} {raw:?} is out of range"))?;
        Ok(Some(start.as_millisecond()))
    };
    let some = |s: &str| (!s.is_empty()).then(|| s.to_owned());
    Ok(AuditFilter {
        user: some(&wanted.user),
        action: some(&wanted.action),
        from_ms: day_start(&wanted.from, "from", 0)?,
        until_ms: day_start(&wanted.to, "to", 1)?,
    })
}

pub async fn log(
    axum::extract::State(page): State,
    Extension(viewer): Extension<Viewer>,
    Query(wanted): Query<Wanted>,
) -> Result<Response, Failure> {
    let chosen = filter(&wanted);
    let host = page.host.clone();
    let query = chosen.clone().unwrap_or_default();
    let offset = wanted.page.saturating_mul(PAGE);
    let ((users, actions), mut rows) = blocking(move || {
        let db = &host.core.db;
        // One line more than a page, to know whether a next page exists.
        Ok::<_, intellitrack_db::DbError>((
            db.audit_names()?,
            db.audit_lines(&query, offset, PAGE + 1)?,
        ))
    })
    .await?
    .map_err(Failure::from_db)?;
    let more = rows.len() > PAGE as usize;
    rows.truncate(PAGE as usize);
    let link = |page: u32| {
        let wanted = Wanted {
            page,
            ..wanted.clone()
        };
        format!(
            "/audit?{}",
            serde_urlencoded::to_string(&wanted).unwrap_or_default()
        )
    };
    let body = html! {
        @if let Err(why) = &chosen { (message(why, false)) }
        form method="get" action="/audit" id="audit-filter" class="filters" {
            label { "User " select name="user" id="filter-user" {
                option value="" { "(everyone)" }
                @for u in &users { option value=(u) selected[*u == wanted.user] { (u) } }
            } }
            label { "Action " select name="action" id="filter-action" {
                option value="" { "(every action)" }
                @for a in &actions { option value=(a) selected[*a == wanted.action] { (a) } }
            } }
            label { "From " input type="date" name="from" id="filter-from" value=(wanted.from); }
            label { "To " input type="date" name="to" id="filter-to" value=(wanted.to); }
            button type="submit" id="filter" { "Show" }
        }
        p { "Dates and times are UTC. Newest first." }
        @if rows.is_empty() { p id="no-audit" { "Nothing recorded matches." } }
        @else {
            table id="audit" {
                thead { tr { th { "When" } th { "Who" } th { "Action" } th { "Target" } th { "Detail" } } }
                tbody {
                    @for r in &rows {
                        tr {
                            td { (format_time(r.at_ms)) } td class="who" { (r.user) } td class="action" { (r.action) }
                            td class="target" { (r.target) } td { (r.detail) }
                        }
                    }
                }
            }
        }
        p class="paging" {
            @if wanted.page > 0 { a href=(link(wanted.page - 1)) id="newer" { "Newer" } " " }
            "Page " (wanted.page + 1)
            @if more { " " a href=(link(wanted.page + 1)) id="older" { "Older" } }
        }
    };
    let status = if chosen.is_ok() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    Ok((status, frame("Audit log", Some(&viewer), body)).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_become_a_range_of_whole_utc_days_and_bad_ones_are_refused() {
        let wanted = Wanted {
            user: "web:ann".into(),
            from: "2026-12-01".into(),
            to: "2026-12-01".into(),
            ..Wanted::default()
        };
        let f = filter(&wanted).unwrap();
        assert_eq!(f.user.as_deref(), Some("web:ann"));
        assert_eq!(f.action, None);
        let day = 24 * 3600 * 1000;
        assert_eq!(f.until_ms.unwrap() - f.from_ms.unwrap(), day);
        assert_eq!(
            f.from_ms,
            Some(
                "2026-12-01T00:00:00Z"
                    .parse::<jiff::Timestamp>()
                    .unwrap()
                    .as_millisecond()
            )
        );
        let bad = Wanted {
            from: "yesterday".into(),
            ..Wanted::default()
        };
        assert!(filter(&bad).unwrap_err().contains("not a date"));
    }
}
