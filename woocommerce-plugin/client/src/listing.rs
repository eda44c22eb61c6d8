//! Walking a collection: page 1, then the remaining pages concurrently (up
//! to the concurrency setting), each record decoded on its own.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use jiff::Timestamp;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::decode::{SkippedRecord, decode_records, page_records};
use crate::error::{Endpoint, Error, TransportKind};
use crate::model::lenient::parse_gmt;
use crate::paging::{PER_PAGE, Plan, Scope, page_query, plan_after_first};
use crate::request::Call;
use crate::transport::Transport;

/// The records of one listing.
#[derive(Debug, Clone, PartialEq)]
pub struct Listing<T> {
    /// In the listing's order (by id, or by modification), each id once.
    pub records: Vec<T>,
    /// Records that could not be decoded, with their ids and reasons.
    pub skipped: Vec<SkippedRecord>,
    /// `X-WP-Total` of page 1.
    pub total: Option<u64>,
    /// Pages fetched (retries not counted).
    pub pages: u32,
}

/// Walks beyond the first are made only when records moved while pages
/// were read; this bounds them.
const MAX_WALKS: u32 = 3;

/// A listing's fixed parts; each page is built and signed from them.
pub struct Collection {
    pub route: String,
    pub filters: Vec<(String, String)>,
    pub fields: &'static str,
    pub scope: Scope,
}

struct Walk {
    records: Vec<Value>,
    total: Option<u64>,
    pages: u32,
    /// Some record was modified after page 1 was served, so offsets may have
    /// shifted under the walk.
    disturbed: bool,
}

pub async fn list<T: DeserializeOwned>(
    transport: &Arc<Transport>,
    collection: Collection,
) -> Result<Listing<T>, Error> {
    let collection = Arc::new(collection);
    let mut merged: Vec<Value> = Vec::new();
    let mut position: HashMap<u64, usize> = HashMap::new();
    let mut total = None;
    let mut pages = 0;
    for walk_number in 1..=MAX_WALKS {
        let walk = walk(transport, &collection).await?;
        pages += walk.pages;
        total = total.or(walk.total);
        for record in walk.records {
            match record.get("id").and_then(Value::as_u64) {
                Some(id) => match position.get(&id) {
                    Some(&at) => merged[at] = record,
                    None => {
                        position.insert(id, merged.len());
                        merged.push(record);
                    }
                },
                None => merged.push(record),
            }
        }
        if !walk.disturbed {
            break;
        }
        tracing::debug!(
            walk_number,
            "records changed during the listing; walking again"
        );
    }
    if matches!(collection.scope, Scope::ModifiedAfter(_)) {
        merged.sort_by_key(|r| {
            (
                r.get("date_modified_gmt")
                    .and_then(Value::as_str)
                    .and_then(parse_gmt),
                r.get("id").and_then(Value::as_u64),
            )
        });
    }
    let (records, skipped) = decode_records(merged);
    Ok(Listing {
        records,
        skipped,
        total,
        pages,
    })
}

async fn walk(transport: &Arc<Transport>, collection: &Arc<Collection>) -> Result<Walk, Error> {
    let first = fetch_page(transport, collection, 1).await?;
    let served_at = first.served_at;
    let mut pages = vec![(1, first.records)];
    match plan_after_first(&first.info, pages[0].1.len()) {
        Plan::Done => {}
        Plan::Pages(range) => {
            pages.extend(
                fetch_concurrently(transport, collection, *range.start(), *range.end()).await?,
            );
        }
        Plan::UntilShortPage => {
            let mut number = 2;
            loop {
                let page = fetch_page(transport, collection, number).await?;
                let short = page.records.len() < PER_PAGE as usize;
                pages.push((number, page.records));
                if short {
                    break;
                }
                number += 1;
            }
        }
    }
    pages.sort_by_key(|(number, _)| *number);
    let page_count = pages.len() as u32;
    let records: Vec<Value> = pages.into_iter().flat_map(|(_, r)| r).collect();
    let disturbed = match (collection.scope, served_at) {
        (Scope::ModifiedAfter(_), Some(served_at)) => records.iter().any(|r| {
            r.get("date_modified_gmt")
                .and_then(Value::as_str)
                .and_then(parse_gmt)
                .is_some_and(|modified| modified >= served_at)
        }),
        _ => false,
    };
    Ok(Walk {
        records,
        total: first.info.total,
        pages: page_count,
        disturbed,
    })
}

async fn fetch_concurrently(
    transport: &Arc<Transport>,
    collection: &Arc<Collection>,
    from: u32,
    to: u32,
) -> Result<Vec<(u32, Vec<Value>)>, Error> {
    let next = Arc::new(AtomicU32::new(from));
    let workers = transport.config().concurrency.min((to - from + 1) as usize);
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..workers {
        let next = Arc::clone(&next);
        let transport = Arc::clone(transport);
        let collection = Arc::clone(collection);
        tasks.spawn(async move {
            let mut fetched = Vec::new();
            loop {
                let number = next.fetch_add(1, Ordering::Relaxed);
                if number > to {
                    return Ok::<_, Error>(fetched);
                }
                let page = fetch_page(&transport, &collection, number).await?;
                fetched.push((number, page.records));
            }
        });
    }
    let mut pages = Vec::new();
    while let Some(joined) = tasks.join_next().await {
        let fetched = joined.map_err(|e| Error::Transport {
            endpoint: Endpoint {
                method: "GET",
                path: collection.route.clone(),
            },
            kind: TransportKind::Other,
            detail: format!("page task ended abnormally: {e}"),
            attempts: 1,
        })??;
        pages.extend(fetched);
    }
    Ok(pages)
}

struct Page {
    info: crate::paging::PageInfo,
    served_at: Option<Timestamp>,
    records: Vec<Value>,
}

async fn fetch_page(
    transport: &Transport,
    collection: &Collection,
    number: u32,
) -> Result<Page, Error> {
    let query = page_query(
        &collection.scope,
        collection.fields,
        &collection.filters,
        number,
    );
    let answer = transport
        .send(&Call::get(collection.route.clone(), query))
        .await?;
    let records = page_records(answer.body).map_err(|detail| Error::Body {
        endpoint: Endpoint {
            method: "GET",
            path: collection.route.clone(),
        },
        status: answer.status,
        detail: format!("page {number}: {detail}"),
    })?;
    Ok(Page {
        info: answer.page,
        served_at: answer.date,
        records,
    })
}
