//! What a simulator was asked lately: a record of the latest [`KEPT`]
//! entries, so that a simulated rig scanning for months holds no more.

use std::collections::VecDeque;

/// Entries a record keeps: a few scans' worth of moves, many scans' worth
/// of settings or status changes.
pub(crate) const KEPT: usize = 1000;

/// The latest entries, oldest first.
#[derive(Debug, Clone)]
pub(crate) struct Recent<T> {
    entries: VecDeque<T>,
}

impl<T> Default for Recent<T> {
    fn default() -> Self {
        Recent {
            entries: VecDeque::new(),
        }
    }
}

impl<T: Clone> Recent<T> {
    /// Adds one, forgetting the oldest beyond [`KEPT`].
    pub(crate) fn push(&mut self, entry: T) {
        if self.entries.len() == KEPT {
            self.entries.pop_front();
        }
        self.entries.push_back(entry);
    }

    /// The latest entry.
    pub(crate) fn last(&self) -> Option<&T> {
        self.entries.back()
    }

    /// The entries, oldest first.
    pub(crate) fn to_vec(&self) -> Vec<T> {
        self.entries.iter().cloned().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_oldest_go_beyond_what_is_kept() {
        let mut recent = Recent::default();
        for n in 0..KEPT + 5 {
            recent.push(n);
        }
        let kept = recent.to_vec();
        assert_eq!(kept.len(), KEPT);
        assert_eq!((kept[0], recent.last()), (5, Some(&(KEPT + 4))));
    }
}
