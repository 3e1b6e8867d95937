// The small in-process caches (verified users, views, installations, sealed page contexts)
// all keep a Map in recency order and drop the oldest entries past a bound.

/** Sets `key` as the newest entry, then drops the oldest ones beyond `maxEntries`. */
export function setBounded<K, V>(map: Map<K, V>, key: K, value: V, maxEntries: number): void {
  map.delete(key);
  map.set(key, value);
  while (map.size > maxEntries) {
    const oldest = map.keys().next();
    if (oldest.done) break;
    map.delete(oldest.value);
  }
}
