//! A bounded map that keeps what was used recently: an approximate LRU in
//! two generations. A history walk looks back at what the last few commits
//! produced (a parent's tree, the previous version of a directory), so
//! keeping only the recent entries holds memory flat however long the
//! history is.

use std::collections::HashMap;
use std::hash::Hash;

pub struct RecentCache<K, V> {
    capacity: usize,
    recent: HashMap<K, V>,
    older: HashMap<K, V>,
}

impl<K: Eq + Hash + Copy, V: Clone> RecentCache<K, V> {
    /// Holds between `capacity` and twice as many entries.
    pub fn new(capacity: usize) -> Self {
        Self {
            capacity,
            recent: HashMap::new(),
            older: HashMap::new(),
        }
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
        if self.recent.len() >= self.capacity {
            self.older = std::mem::take(&mut self.recent);
        }
        self.recent.insert(key, value);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_what_was_used_recently_and_forgets_the_rest() {
        let mut cache = RecentCache::new(2);
        cache.insert(1, "one");
        cache.insert(2, "two");
        cache.insert(3, "three"); // 1 and 2 become the older generation
        assert_eq!(cache.get(1), Some("one")); // promoted
        cache.insert(4, "four"); // 3 and 1 become older, 2 is forgotten
        assert_eq!(cache.get(2), None);
        assert_eq!(cache.get(1), Some("one"));
        assert_eq!(cache.get(3), Some("three"));
    }
}
