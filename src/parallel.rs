//! Independent work on every core, its results in the order of the input.

/// How many threads run at once on this machine (1 when it cannot say).
pub fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, usize::from)
}

/// `work` applied to consecutive chunks of `items` on every core, one chunk
/// per core and none smaller than `min_chunk` (below that, a thread costs
/// more than it saves); the results in the order of the chunks. One chunk
/// runs on the calling thread.
pub fn map_chunks<T: Sync, R: Send>(
    items: &[T],
    min_chunk: usize,
    work: impl Fn(&[T]) -> R + Sync,
) -> Vec<R> {
    let threads = cores();
    let chunk = items.len().div_ceil(threads).max(min_chunk).max(1);
    if items.len() <= chunk {
        return vec![work(items)];
    }
    let work = &work;
    std::thread::scope(|scope| {
        let workers: Vec<_> = items
            .chunks(chunk)
            .map(|part| scope.spawn(move || work(part)))
            .collect();
        join_all(workers)
    })
}

/// The results of scoped threads, in the order given; a thread's panic
/// goes on in the caller, as if the work had run there.
pub fn join_all<R>(workers: Vec<std::thread::ScopedJoinHandle<'_, R>>) -> Vec<R> {
    workers.into_iter().map(join).collect()
}

/// The result of one scoped thread; its panic goes on in the caller.
pub fn join<R>(worker: std::thread::ScopedJoinHandle<'_, R>) -> R {
    worker
        .join()
        .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn results_keep_the_order_of_the_input() {
        let items: Vec<u32> = (0..10_000).collect();
        let sums = map_chunks(&items, 100, |part| part.to_vec());
        assert_eq!(sums.concat(), items);
        assert_eq!(map_chunks(&[] as &[u32], 100, <[u32]>::len), [0]);
    }
}
