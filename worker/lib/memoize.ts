/** Calls `load` once per key for the life of the returned function (one request or one batch). */
export function memoize<K, V>(load: (key: K) => V): (key: K) => V {
  const seen = new Map<K, V>();
  return (key) => {
    if (!seen.has(key)) seen.set(key, load(key));
    return seen.get(key) as V;
  };
}
