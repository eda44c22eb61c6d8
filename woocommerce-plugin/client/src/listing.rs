//! Walking a collection: page 1, then the remaining pages concurrently (as
//! many as the client's limit lets through), each record decoded on its own.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};

use jiff::Timestamp;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::decode::{SkippedRecord, decode_record, page_records};
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
    /// When the store served page 1 (its `Date` header), by the store's
    /// clock: every record was read at or after it.
    pub started_at: Option<Timestamp>,
}

/// How many listing pages a client has read, and how many it knows it
/// will read (each listing adds its page count once page 1 tells it).
#[derive(Debug, Default)]
pub struct PageProgress {
    done: AtomicU64,
    planned: AtomicU64,
}

impl PageProgress {
    /// `(pages read, pages known so far)`.
    pub fn get(&self) -> (u64, u64) {
        let done = self.done.load(Ordering::Relaxed);
        (done, self.planned.load(Ordering::Relaxed).max(done))
    }
}

/// Walks beyond the first are made only when records moved while pages
/// were read; this bounds them.
const MAX_WALKS: u32 = 3;

/// Turns each record into what the caller keeps of it, as its page
/// arrives (in the task that fetched it), so a caller that needs a little of
/// each record never holds whole records for a whole listing.
pub type RecordMap<T, U> = Arc<dyn Fn(T) -> U + Send + Sync>;

/// The map that keeps records as they are.
pub fn as_is<T>() -> RecordMap<T, T> {
    Arc::new(|record| record)
}

/// A listing's fixed parts; each page is built and signed from them.
pub struct Collection {
    pub route: String,
    pub filters: Vec<(String, String)>,
    pub fields: &'static str,
    pub scope: Scope,
}

/// One record of a page, decoded where it was fetched: its id and
/// modification time are kept apart for merging walks and ordering.
struct Entry<T> {
    id: Option<u64>,
    modified: Option<Timestamp>,
    record: Result<T, SkippedRecord>,
}

impl<U> Entry<U> {
    fn decode<T: DeserializeOwned>(value: Value, map: &RecordMap<T, U>) -> Self {
        let id = value.get("id").and_then(Value::as_u64);
        let modified = value
            .get("date_modified_gmt")
            .and_then(Value::as_str)
            .and_then(parse_gmt);
        Self {
            id,
            modified,
            record: decode_record(value).map(|record| map(record)),
        }
    }
}

struct Walk<T> {
    entries: Vec<Entry<T>>,
    total: Option<u64>,
    pages: u32,
    served_at: Option<Timestamp>,
    /// Some record was modified after page 1 was served, so offsets may have
    /// shifted under the walk.
    disturbed: bool,
}

pub async fn list<T: DeserializeOwned + 'static, U: Send + 'static>(
    transport: &Arc<Transport>,
    collection: Collection,
    map: RecordMap<T, U>,
) -> Result<Listing<U>, Error> {
    let collection = Arc::new(collection);
    let mut merged: Vec<Entry<U>> = Vec::new();
    let mut position: HashMap<u64, usize> = HashMap::new();
    let mut total = None;
    let mut pages = 0;
    let mut started_at = None;
    for walk_number in 1..=MAX_WALKS {
        let walk = walk(transport, &collection, &map).await?;
        pages += walk.pages;
        total = total.or(walk.total);
        started_at = started_at.or(walk.served_at);
        for entry in walk.entries {
            match entry.id {
                Some(id) => match position.get(&id) {
                    Some(&at) => merged[at] = entry,
                    None => {
                        position.insert(id, merged.len());
                        merged.push(entry);
                    }
                },
                None => merged.push(entry),
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
        merged.sort_by_key(|entry| (entry.modified, entry.id));
    }
    let mut records = Vec::with_capacity(merged.len());
    let mut skipped = Vec::new();
    for entry in merged {
        match entry.record {
            Ok(record) => records.push(record),
            Err(reason) => skipped.push(reason),
        }
    }
    Ok(Listing {
        records,
        skipped,
        total,
        pages,
        started_at,
    })
}

async fn walk<T: DeserializeOwned + 'static, U: Send + 'static>(
    transport: &Arc<Transport>,
    collection: &Arc<Collection>,
    map: &RecordMap<T, U>,
) -> Result<Walk<U>, Error> {
    let first = fetch_page(transport, collection, 1, map).await?;
    let served_at = first.served_at;
    let info = first.info;
    let mut pages = vec![(1, first.entries)];
    let plan = plan_after_first(&info, pages[0].1.len());
    let planned = match &plan {
        Plan::Pages(range) => u64::from(*range.end()),
        Plan::Done | Plan::UntilShortPage => 1,
    };
    transport
        .pages()
        .planned
        .fetch_add(planned, Ordering::Relaxed);
    match plan {
        Plan::Done => {}
        Plan::Pages(range) => {
            pages.extend(
                fetch_concurrently(transport, collection, map, *range.start(), *range.end())
                    .await?,
            );
        }
        Plan::UntilShortPage => {
            let mut number = 2;
            loop {
                let page = fetch_page(transport, collection, number, map).await?;
                let short = page.entries.len() < PER_PAGE as usize;
                pages.push((number, page.entries));
                if short {
                    break;
                }
                number += 1;
            }
        }
    }
    pages.sort_by_key(|(number, _)| *number);
    let page_count = pages.len() as u32;
    let entries: Vec<Entry<U>> = pages.into_iter().flat_map(|(_, e)| e).collect();
    let disturbed = match (collection.scope, served_at) {
        (Scope::ModifiedAfter(_), Some(served_at)) => entries
            .iter()
            .any(|e| e.modified.is_some_and(|modified| modified >= served_at)),
        _ => false,
    };
    Ok(Walk {
        entries,
        total: info.total,
        pages: page_count,
        served_at,
        disturbed,
    })
}

async fn fetch_concurrently<T: DeserializeOwned + 'static, U: Send + 'static>(
    transport: &Arc<Transport>,
    collection: &Arc<Collection>,
    map: &RecordMap<T, U>,
    from: u32,
    to: u32,
) -> Result<Vec<(u32, Vec<Entry<U>>)>, Error> {
    let next = Arc::new(AtomicU32::new(from));
    let workers = transport
        .config()
        .concurrency
        .ceiling()
        .min((to - from + 1) as usize);
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..workers {
        let next = Arc::clone(&next);
        let transport = Arc::clone(transport);
        let collection = Arc::clone(collection);
        let map = Arc::clone(map);
        tasks.spawn(async move {
            let mut fetched = Vec::new();
            loop {
                let number = next.fetch_add(1, Ordering::Relaxed);
                if number > to {
                    return Ok::<_, Error>(fetched);
                }
                let page = fetch_page(&transport, &collection, number, &map).await?;
                fetched.push((number, page.entries));
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

struct Page<T> {
    info: crate::paging::PageInfo,
    served_at: Option<Timestamp>,
    entries: Vec<Entry<T>>,
}

async fn fetch_page<T: DeserializeOwned, U>(
    transport: &Transport,
    collection: &Collection,
    number: u32,
    map: &RecordMap<T, U>,
) -> Result<Page<U>, Error> {
    let query = page_query(
        &collection.scope,
        collection.fields,
        &collection.filters,
        number,
    );
    let answer = transport
        .send(&Call::get(collection.route.clone(), query))
        .await?;
    transport.pages().done.fetch_add(1, Ordering::Relaxed);
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
        entries: records
            .into_iter()
            .map(|value| Entry::decode(value, map))
            .collect(),
    })
}
