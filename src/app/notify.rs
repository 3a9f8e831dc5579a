//! Notifications: errors, warnings and results shown as toasts and kept in a log, never panics.

use std::time::{Duration, Instant};

/// How serious a notification is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    /// A result or status.
    Info,
    /// Something the user should look at.
    Warning,
    /// Something failed.
    Error,
}

/// One notification.
#[derive(Debug, Clone)]
pub struct Note {
    /// Severity.
    pub level: Level,
    /// Text (names the file and the problem for errors).
    pub text: String,
    /// When it was raised.
    pub at: Instant,
    /// Dismissed from the toasts (kept in the log).
    pub dismissed: bool,
}

/// The notification log.
#[derive(Debug, Default)]
pub struct Notifications {
    /// All notifications, oldest first.
    pub log: Vec<Note>,
}

/// How long info toasts stay up; warnings and errors stay until dismissed.
const INFO_TTL: Duration = Duration::from_secs(8);

impl Notifications {
    /// Adds a notification.
    pub fn push(&mut self, level: Level, text: impl Into<String>) {
        let text = text.into();
        if level == Level::Error {
            eprintln!("error: {text}");
        }
        self.log.push(Note {
            level,
            text,
            at: Instant::now(),
            dismissed: false,
        });
        // Keep the log bounded: a long session must not grow memory without end.
        if self.log.len() > 500 {
            self.log.drain(..100);
        }
    }

    /// Info.
    pub fn info(&mut self, text: impl Into<String>) {
        self.push(Level::Info, text);
    }

    /// Warning.
    pub fn warn(&mut self, text: impl Into<String>) {
        self.push(Level::Warning, text);
    }

    /// Error.
    pub fn error(&mut self, text: impl Into<String>) {
        self.push(Level::Error, text);
    }

    /// Indices of the toasts to show now (newest last, at most five).
    #[must_use]
    pub fn active(&self) -> Vec<usize> {
        let mut v: Vec<usize> = self
            .log
            .iter()
            .enumerate()
            .filter(|(_, n)| !n.dismissed && (n.level != Level::Info || n.at.elapsed() < INFO_TTL))
            .map(|(i, _)| i)
            .collect();
        let skip = v.len().saturating_sub(5);
        v.drain(..skip);
        v
    }

    /// Errors raised so far (tests and the status bar).
    #[must_use]
    pub fn errors(&self) -> Vec<&str> {
        self.log
            .iter()
            .filter(|n| n.level == Level::Error)
            .map(|n| n.text.as_str())
            .collect()
    }
}
