//! Forwards a plugin's `tracing` events to the host's log.
//!
//! A cdylib has its own copy of `tracing`'s global dispatcher, so the host's
//! subscriber never sees a plugin's events. The first activation installs,
//! once per loaded library, a subscriber whose layer sends each event to a
//! host frame: the one of the call the event happens in (activate, a job),
//! so that each instance of a plugin logs under its own id; else, for the
//! plugin's own threads, the last activated one, kept in a swappable slot
//! (the library is never unloaded, so the subscriber stays).

use std::cell::RefCell;
use std::fmt::Write as _;
use std::sync::{Mutex, Once};

use abi_stable::std_types::RStr;
use tracing::field::{Field, Visit};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::filter::LevelFilter;
use tracing_subscriber::layer::{Context as LayerContext, Layer, SubscriberExt};

use crate::abi::HostRef;
use crate::protocol::{HostMethod, Log, LogLevel, LogRecord};

static SINK: Mutex<Option<HostRef>> = Mutex::new(None);
static INSTALL: Once = Once::new();

thread_local! {
    /// The host frame of the call this thread is in.
    static CALL_SINK: RefCell<Option<HostRef>> = const { RefCell::new(None) };
}

/// Runs `f` with this thread's events going to `host`.
pub(crate) fn during<T>(host: &HostRef, f: impl FnOnce() -> T) -> T {
    let before = CALL_SINK.with(|c| c.replace(Some(host.clone())));
    let out = f();
    CALL_SINK.with(|c| *c.borrow_mut() = before);
    out
}

/// Sends this library's events to `host` from now on.
pub(crate) fn attach(host: HostRef) {
    INSTALL.call_once(|| {
        let subscriber = tracing_subscriber::registry()
            .with(HostLayer)
            .with(LevelFilter::INFO);
        // Another subscriber set by the plugin itself wins; its events then stay local.
        let _ = tracing::subscriber::set_global_default(subscriber);
    });
    *sink() = Some(host);
}

/// Stops forwarding; events are dropped until the next activation.
pub(crate) fn detach() {
    *sink() = None;
}

fn sink() -> std::sync::MutexGuard<'static, Option<HostRef>> {
    SINK.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

struct HostLayer;

impl<S: Subscriber> Layer<S> for HostLayer {
    fn on_event(&self, event: &Event<'_>, _ctx: LayerContext<'_, S>) {
        let Some(host) = CALL_SINK
            .with(|c| c.borrow().clone())
            .or_else(|| sink().clone())
        else {
            return;
        };
        let mut visitor = Fields::default();
        event.record(&mut visitor);
        let record = LogRecord {
            level: level(*event.metadata().level()),
            target: event.metadata().target().into(),
            message: visitor.message,
            fields: visitor.fields,
        };
        if let Ok(payload) = serde_json::to_string(&record) {
            let _ = host.call(RStr::from_str(Log::NAME), RStr::from_str(&payload));
        }
    }
}

fn level(level: Level) -> LogLevel {
    match level {
        Level::ERROR => LogLevel::Error,
        Level::WARN => LogLevel::Warn,
        Level::INFO => LogLevel::Info,
        Level::DEBUG => LogLevel::Debug,
        Level::TRACE => LogLevel::Trace,
    }
}

#[derive(Default)]
struct Fields {
    message: String,
    fields: Vec<(String, String)>,
}

impl Visit for Fields {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        if field.name() == "message" {
            let _ = write!(self.message, "{value:?}");
        } else {
            self.fields
                .push((field.name().into(), format!("{value:?}")));
        }
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            self.message.push_str(value);
        } else {
            self.fields.push((field.name().into(), value.into()));
        }
    }
}
