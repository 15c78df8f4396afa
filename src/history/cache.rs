//! A bounded map that keeps what was used recently: an approximate LRU in
//! two generations. A history walk looks back at what the last few commits
//! produced (a parent's tree, the previous version of a directory), so
//! keeping only the recent entries holds memory flat however long the
//! history is.

use std::collections::HashMap;
use std::hash::Hash;

/// What an entry costs against the cache's capacity: 1 for a cache bounded
/// by count, its size in bytes for one bounded by memory.
pub trait Weight {
    fn weight(&self) -> usize;
}

pub struct RecentCache<K, V> {
    capacity: usize,
    recent: HashMap<K, V>,
    /// The total weight of `recent`.
    recent_weight: usize,
    older: HashMap<K, V>,
}

impl<K: Eq + Hash + Copy, V: Clone + Weight> RecentCache<K, V> {
    /// Holds between `capacity` and twice as much weight (plus one entry).
    pub fn new(capacity: usize) -> Self {
        Self {
            capacity,
            recent: HashMap::new(),
            recent_weight: 0,
            older: HashMap::new(),
        }
    }

    /// Lets the cache hold more from now on, if `capacity` is more than it
    /// holds already.
    pub fn raise_capacity(&mut self, capacity: usize) {
        self.capacity = self.capacity.max(capacity);
    }

    /// The value for `key`, which counts as a use of it.
    pub fn get(&mut self, key: K) -> Option<V> {
        if let Some(value) = self.recent.get(&key) {
            return Some(value.clone());
        }
        let value = self.older.get(&key)?.clone();
        self.insert(key, value.clone());
        Some(value)
    }

    pub fn insert(&mut self, key: K, value: V) {
        if self.recent_weight >= self.capacity {
            self.older = std::mem::take(&mut self.recent);
            self.recent_weight = 0;
        }
        self.recent_weight += value.weight();
        if let Some(replaced) = self.recent.insert(key, value) {
            self.recent_weight -= replaced.weight();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    impl Weight for &str {
        fn weight(&self) -> usize {
            self.len()
        }
    }

    #[test]
    fn keeps_what_was_used_recently_and_forgets_the_rest() {
        let mut cache = RecentCache::new(6);
        cache.insert(1, "one");
        cache.insert(2, "two");
        cache.insert(3, "three"); // 1 and 2 become the older generation
        assert_eq!(cache.get(1), Some("one")); // promoted
        cache.insert(4, "four"); // 3 and 1 become older, 2 is forgotten
        assert_eq!(cache.get(2), None);
        assert_eq!(cache.get(1), Some("one"));
        assert_eq!(cache.get(3), Some("three"));
    }

    #[test]
    fn a_raised_capacity_keeps_more() {
        let mut cache = RecentCache::new(6);
        cache.raise_capacity(12);
        cache.raise_capacity(3); // never lowered
        for (key, value) in [(1, "aaaaa"), (2, "bbbbb"), (3, "ccccc"), (4, "d"), (5, "e")] {
            cache.insert(key, value);
        }
        // With room for 6, 1 and 2 would be forgotten by now.
        assert_eq!(cache.get(1), Some("aaaaa"));
        assert_eq!(cache.get(2), Some("bbbbb"));
    }

    #[test]
    fn heavy_entries_fill_the_cache_sooner() {
        let mut cache = RecentCache::new(6);
        cache.insert(1, "a long value");
        cache.insert(2, "another long value"); // 1 becomes older
        cache.insert(3, "x"); // 2 becomes older, 1 is forgotten
        assert_eq!(cache.get(1), None);
        assert_eq!(cache.get(2), Some("another long value"));
    }
}
